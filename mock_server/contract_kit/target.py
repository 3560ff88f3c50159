"""What the kit runs against: a mock it starts itself, or a URL, which is a paymock server only if
its `/_mock/health` answers paymock's health document (anything else is treated as a real API)."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import requests


@dataclass
class Target:
    base_url: str            # the provider's base URL, e.g. http://127.0.0.1:8787/<mount>
    is_mock: bool            # paymock answers /_mock/health: writes and negative data are fine
    started: bool = False    # the kit started this mock and stops it afterwards
    origin: str = ""         # scheme://host:port
    note: str = ""           # why it was (not) taken for a mock
    server: object = None

    def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None
            try:
                server.stop()
            except OSError:
                # Seen once in a long test session: waitress' wake-up pipe was already closed
                # (EBADF). The serving thread is a daemon; nothing is lost by leaving it.
                pass


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def detect_mock(url: str, provider: str, control_token: str | None = None,
                timeout: float = 5.0) -> tuple[bool, str]:
    """(is paymock, why). Sends the control token as `Authorization: Bearer` when given."""
    origin = origin_of(url)
    headers = {"Authorization": f"Bearer {control_token}"} if control_token else {}
    try:
        response = requests.get(f"{origin}/_mock/health", headers=headers, timeout=timeout)
    except requests.RequestException as exc:
        return False, f"{origin}/_mock/health did not answer ({type(exc).__name__})"
    if response.status_code in (401, 403):
        return False, (f"{origin}/_mock/health answered {response.status_code}: if this is paymock "
                       "with a control token, pass --control-token (or PAYMOCK_CONTROL_TOKEN)")
    try:
        doc = response.json()
    except ValueError:
        doc = None
    if (response.status_code == 200 and isinstance(doc, dict) and doc.get("status") == "ok"
            and isinstance(doc.get("providers"), dict) and provider in doc["providers"]
            and "version" in doc):
        return True, f"paymock {doc['version']} (/_mock/health)"
    return False, f"{origin}/_mock/health answered {response.status_code}, not paymock's health document"


def start_mock(provider, fixtures=None, threads: int = 8) -> Target:
    """A paymock server in this process, on a free port, set up as the provider's contract
    support asks (e.g. to accept only its fixture credentials)."""
    from ..app import create_app
    from ..config import Settings
    from ..server import Server

    overrides = {"fixtures": fixtures} if fixtures else {}
    settings = Settings(port=0, **provider.contract_support.mock_settings(), **overrides)
    app = create_app(settings)
    server = Server(app, "127.0.0.1", 0, threads=threads).start()
    return Target(f"{server.url}{provider.mount}", True, started=True, origin=server.url,
                  note="paymock started by the kit", server=server)


def resolve(provider, url: str | None, control_token: str | None, force_remote: bool = False,
            fixtures=None) -> Target:
    """Where `provider` (a registered Provider) is tested: a mock started here when `url` is
    None, else `url`, a mock if it answers paymock's health document naming the provider."""
    if url is None:
        return start_mock(provider, fixtures)
    url = url.rstrip("/")
    if force_remote:
        return Target(url, False, origin=origin_of(url), note="--remote: treated as a real API")
    is_mock, note = detect_mock(url, provider.name, control_token)
    return Target(url, is_mock, origin=origin_of(url), note=note)
