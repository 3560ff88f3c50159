"""Fault actions: what a fault does once a rule fires, the same wherever it fires (an API answer,
the PSP call inside an order, a webhook delivery), the named presets, and which fields mean
something at each of those places. core/faults.py decides when a rule fires; core/fault_http.py,
core/psp.py and core/webhooks.py carry the action out.
"""
from __future__ import annotations

import random
import re
from dataclasses import MISSING, asdict, dataclass, field, fields

CONNECTION_MODES = ("reset", "drop", "hang")
BODY_MODES = ("truncated", "non_json", "empty")
WEBHOOK_MODES = ("delay", "duplicate", "reorder", "drop")  # rules with provider "webhook"
ACTION_KEYS = {"status", "body", "message", "headers", "latency_ms", "latency_range_ms",
               "connection", "hang_seconds", "body_mode", "commit", "decline", "patch", "preset",
               "webhook", "webhook_delay"}
# What an action may say at each kind of place a rule fires (a rule's provider names the place;
# a rule with no provider may fire anywhere, and each place ignores what does not apply to it).
# Everywhere: an error status or a connection fault makes the call fail, latency delays it.
SITE_NAMES = {"api": "an API answer", "psp": "a psp call", "webhook": "a webhook delivery"}
SITE_FIELDS = {
    "api": ACTION_KEYS - {"decline", "webhook", "webhook_delay"},
    "psp": {"status", "latency_ms", "latency_range_ms", "connection", "hang_seconds", "decline",
            "preset"},
    "webhook": {"status", "latency_ms", "latency_range_ms", "connection", "hang_seconds",
                "webhook", "webhook_delay", "preset"},
}

# RFC 9110: a field name is a token; a field value has no control character but HTAB (a CR, LF or
# NUL would split or end the answer's header block) and is sent as latin-1.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*\Z")


# The longest a fault may hold a worker: hang_seconds, latency_ms and a latency range alike.
MAX_WAIT_SECONDS = 600


class FaultRuleError(ValueError):
    """A rule or action is malformed; the message names the field and what is allowed."""


@dataclass
class Action:
    status: int | None = None          # answer with this status (documented body if any)
    body: object = None                # answer with exactly this JSON body instead
    message: str | None = None         # keep the provider's envelope, change its message
    headers: dict = field(default_factory=dict)
    latency_ms: float = 0              # delay before answering
    latency_range_ms: list | None = None  # [min, max]: random delay
    connection: str | None = None      # reset | drop | hang
    hang_seconds: float = 30.0
    body_mode: str | None = None       # truncated | non_json | empty
    commit: bool = False               # run the real request (side effects), then answer `status`
    decline: str | None = None         # PSP only: the checkout is created, the payment page declines
    patch: dict | None = None          # {JSON pointer: value} set in the real answer's body
    webhook: str | None = None         # webhook rules: delay | duplicate | reorder | drop
    webhook_delay: float = 0           # seconds of mock time a webhook waits (delay, reorder)

    @classmethod
    def parse(cls, raw, where: str = "action") -> Action | None:
        if raw is None:
            return None
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = {"status": raw}
        if isinstance(raw, str):
            raw = {"preset": raw}
        if not isinstance(raw, dict):
            raise FaultRuleError(f"{where} must be an object, a status code or a preset name")
        unknown = set(raw) - ACTION_KEYS
        if unknown:
            raise FaultRuleError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(ACTION_KEYS)}")
        raw = dict(raw)
        preset = raw.pop("preset", None)
        if preset is not None:
            if preset not in PRESETS:
                raise FaultRuleError(f"{where}.preset: unknown preset {preset!r}; known: {sorted(PRESETS)}")
            raw = {**PRESETS[preset], **raw}
        action = cls(**raw)
        action._check(where)
        return action

    def _check(self, where: str) -> None:
        if self.status is not None and (isinstance(self.status, bool) or not isinstance(self.status, int)
                                        or not 100 <= self.status <= 599):
            raise FaultRuleError(f"{where}.status must be an integer from 100 to 599, got {self.status!r}")
        if not isinstance(self.headers, dict) or not all(
                isinstance(k, str) and isinstance(v, (str, int, float)) for k, v in self.headers.items()):
            raise FaultRuleError(f"{where}.headers must map header names to strings")
        self.headers = {k: str(v) for k, v in self.headers.items()}
        for name, value in self.headers.items():
            if not HEADER_NAME.match(name):
                raise FaultRuleError(f"{where}.headers: {name!r} is not a header name (letters, "
                                     "digits and !#$%&'*+-.^_`|~ only; no spaces, colons, CR, LF "
                                     "or NUL)")
            if not HEADER_VALUE.match(value):
                raise FaultRuleError(f"{where}.headers[{name!r}]: the value {value!r} has a "
                                     "control character (CR, LF, NUL...) or a character beyond "
                                     "latin-1")
        for name in ("latency_ms", "hang_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise FaultRuleError(f"{where}.{name} must be a number >= 0, got {value!r}")
        if self.hang_seconds > MAX_WAIT_SECONDS:
            raise FaultRuleError(f"{where}.hang_seconds must be at most {MAX_WAIT_SECONDS}")
        longest = MAX_WAIT_SECONDS * 1000
        if self.latency_range_ms is not None:
            rng = self.latency_range_ms
            if (not isinstance(rng, list) or len(rng) != 2
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in rng)
                    or not 0 <= rng[0] <= rng[1]):
                raise FaultRuleError(f"{where}.latency_range_ms must be [min, max] with 0 <= min <= max")
        top = self.latency_ms + (self.latency_range_ms[1] if self.latency_range_ms else 0)
        if top > longest:
            raise FaultRuleError(f"{where}: latency_ms plus the top of latency_range_ms must be at "
                                 f"most {longest} ({MAX_WAIT_SECONDS} s, as for hang_seconds), "
                                 f"got {top:g}: a fault may not hold a worker longer")
        if self.connection is not None and self.connection not in CONNECTION_MODES:
            raise FaultRuleError(f"{where}.connection must be one of {list(CONNECTION_MODES)}")
        if self.body_mode is not None and self.body_mode not in BODY_MODES:
            raise FaultRuleError(f"{where}.body_mode must be one of {list(BODY_MODES)}")
        if self.commit and self.status is None:
            raise FaultRuleError(f"{where}: commit needs a status to answer after the real work")
        if self.message is not None and not isinstance(self.message, str):
            raise FaultRuleError(f"{where}.message must be a string")
        if self.patch is not None and (not isinstance(self.patch, dict) or not all(
                isinstance(k, str) and k.startswith("/") for k in self.patch)):
            raise FaultRuleError(f'{where}.patch must map JSON pointers ("/data/checkoutUrl") to values')
        if self.patch is not None and self.status is not None and self.status >= 300 and not self.commit:
            raise FaultRuleError(f"{where}.patch changes the real answer: it cannot go with an error status")
        if self.decline is not None and not isinstance(self.decline, str):
            raise FaultRuleError(f"{where}.decline must be a failure reason such as \"insufficient_funds\"")
        if self.webhook is not None and self.webhook not in WEBHOOK_MODES:
            raise FaultRuleError(f"{where}.webhook must be one of {list(WEBHOOK_MODES)}")
        if (isinstance(self.webhook_delay, bool) or not isinstance(self.webhook_delay, (int, float))
                or self.webhook_delay < 0):
            raise FaultRuleError(f"{where}.webhook_delay must be a number of seconds >= 0")
        if not any((self.status, self.body is not None, self.latency_ms, self.latency_range_ms,
                    self.connection, self.body_mode, self.headers, self.decline, self.patch,
                    self.webhook, self.webhook_delay)):
            raise FaultRuleError(f"{where} does nothing: give a status, latency, connection, "
                                 "body_mode or headers")

    def fails(self) -> bool:
        """Whether the call it hits fails: an error status or any connection fault."""
        return self.connection is not None or (self.status or 0) >= 400

    def fields_set(self) -> set[str]:
        return {f.name for f in fields(self)
                if getattr(self, f.name) != (f.default_factory() if f.default_factory is not MISSING
                                             else f.default)}

    def check_site(self, site: str, where: str) -> None:
        """Refuse what means nothing where the rule fires (a patch on a webhook delivery...)."""
        stray = self.fields_set() - SITE_FIELDS[site]
        if stray:
            raise FaultRuleError(f"{where}: {', '.join(sorted(stray))} cannot apply to "
                                 f"{SITE_NAMES[site]}; allowed there: "
                                 f"{', '.join(sorted(SITE_FIELDS[site] - {'preset'}))}")

    def delay_seconds(self, rng: random.Random) -> float:
        if self.latency_range_ms:
            low, high = self.latency_range_ms
            return (self.latency_ms + rng.uniform(low, high)) / 1000
        return self.latency_ms / 1000

    def to_dict(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if v not in (None, {}, 0, False) or k == "status"}
        if self.connection != "hang":
            out.pop("hang_seconds", None)
        return out


# Named actions for scenario files and the X-Paymock-Fault header.
PRESETS: dict[str, dict] = {
    "server-error": {"status": 500},
    "bad-gateway": {"status": 502},
    "unavailable": {"status": 503, "headers": {"Retry-After": "1"}},
    "rate-limit": {"status": 429, "headers": {"Retry-After": "1", "retry-after-ms": "1000"}},
    "no-retry-500": {"status": 500, "headers": {"x-should-retry": "false"}},
    "unauthorized": {"status": 401},
    "slow": {"latency_range_ms": [200, 800]},
    "timeout": {"connection": "hang", "hang_seconds": 30},
    "reset": {"connection": "reset"},
    "drop": {"connection": "drop"},
    "truncated": {"status": 200, "body_mode": "truncated", "commit": True},
    "non-json": {"status": 502, "body_mode": "non_json"},
    "commit-then-500": {"status": 500, "commit": True},
}
