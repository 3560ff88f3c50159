"""Settings, from (lowest to highest precedence) defaults, a TOML config file, PAYMOCK_* environment
variables and command-line flags."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8787
    public_url: str | None = None  # defaults to http://{host}:{port}
    # A catalog JSON of the user's; None serves the packaged one (mock_server/resources.py).
    fixtures: Path | None = None
    # waitress: pure Python, owns its sockets, so every fault works (connection faults included);
    # granian: Rust HTTP, about 3x the throughput, no connection faults (granian_server.py).
    server: str = "waitress"
    # Threads running the app: default 16 on waitress, 1 on granian (the fastest there).
    threads: int | None = None
    journal_size: int = 200
    # How long an expired object stays readable as "expired" before it is evicted.
    expired_retention_seconds: float = 3600.0
    # strict: answer exactly as the real API would, with no test conveniences (later issues
    # hang fault headers and lenient credentials on it).
    strict: bool = False
    # Comma-separated Dodo API keys to accept; empty accepts any bearer key (each its own namespace).
    dodo_api_keys: str = ""
    # --state-file: state saved there on shutdown and every state_interval seconds (0: only on
    # shutdown), restored at start.
    state_file: Path | None = None
    state_interval: float = 30.0
    # Required for /_mock/* (Authorization: Bearer or X-Paymock-Control-Token) when set; needed
    # to bind anything but a loopback address.
    control_token: str = ""
    # Larger request bodies are refused with 413 in the provider's envelope.
    max_body_bytes: int = 1024 * 1024
    # Webhooks: an endpoint every namespace delivers to (also `paymock serve --webhook-url`), the
    # Dodo signing secret (default: the TEST-ONLY one in providers/dodo/webhooks.py), the per-
    # attempt timeout, and the event a failed Waffo payment sends ("" sends none; unconfirmed).
    webhook_url: str = ""
    dodo_webhook_secret: str = ""
    webhook_timeout_seconds: float = 15.0
    waffo_payment_failed_event: str = "order.payment_failed"
    extra: dict = field(default_factory=dict)

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def load(cls, config_file: str | Path | None = None, env=None, **overrides) -> Settings:
        env = os.environ if env is None else env
        values: dict = {}
        config_file = config_file or env.get("PAYMOCK_CONFIG")
        if config_file:
            with open(config_file, "rb") as fh:
                values.update(tomllib.load(fh).get("paymock", {}))
        known = {f.name: f for f in fields(cls)}
        for name, f in known.items():
            raw = env.get(f"PAYMOCK_{name.upper()}")
            if raw is not None:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        unknown = set(values) - set(known)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return cls(**{name: _convert(known[name], value) for name, value in values.items()})


def _convert(f, value):
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    if isinstance(value, str):
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("bool"):
            return value.strip().lower() in ("1", "true", "yes", "on")
        if kind.startswith("Path"):
            return Path(value)
    return value
