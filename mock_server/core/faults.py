"""Fault rules: make any endpoint of any provider fail in a chosen way, on chosen requests.

A rule matches on provider, operation (the contract's operationId), method, path, namespace and
optionally a JSON-pointer predicate on the request body. It fires on matching requests after the
first `after`, at most `times` times, with a seedable `probability`, or walks a `sequence` of
actions (null entries pass through). The engine only decides; what an action does is
core/fault_actions.py, carried out by the HTTP layer (core/fault_http.py), the PSP and the outbox.
"""
from __future__ import annotations

import itertools
import random
import threading
from dataclasses import dataclass, field

from .fault_actions import Action, FaultRuleError
from .http import too_deep

MAX_RULE_DEPTH = 48  # a rule nested deeper cannot be listed or saved (orjson writes 254 levels)

RULE_KEYS = {"id", "provider", "operation", "method", "path", "namespace", "body_equals",
             "times", "after", "probability", "seed", "sequence", "action", "description",
             "active_from", "active_until", "for_seconds", "enabled"}


_COUNTERS = ("matched", "fired", "exhausted")  # reported by to_dict(), not part of a rule


def _tuples(value):
    """JSON turned a random state's tuples into lists; random.setstate wants them back."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


@dataclass
class Rule:
    id: str
    action: Action | None = None
    sequence: list | None = None       # of Action | None; None passes the request through
    provider: str | None = None
    operation: str | None = None
    method: str | None = None
    path: str | None = None            # regular expression on the provider-relative path
    namespace: str | None = None
    body_equals: dict | None = None    # {JSON pointer: expected value}
    times: int | None = None
    after: int = 0
    probability: float | None = None
    seed: int | None = None
    description: str | None = None
    active_from: float | None = None   # epoch seconds on the mock clock
    active_until: float | None = None
    enabled: bool = True               # switched off: kept, with its counters, and never matched
    matched: int = 0
    fired: int = 0
    _rng: random.Random = field(default=None, repr=False)
    _path_re: object = field(default=None, repr=False)  # RE2 (_linear_time_pattern)

    def to_dict(self) -> dict:
        out = {k: v for k, v in {
            "id": self.id, "provider": self.provider, "operation": self.operation,
            "method": self.method, "path": self.path, "namespace": self.namespace,
            "body_equals": self.body_equals, "times": self.times, "after": self.after,
            "probability": self.probability, "seed": self.seed, "description": self.description,
            "active_from": self.active_from, "active_until": self.active_until,
        }.items() if v is not None}
        if self.action is not None:
            out["action"] = self.action.to_dict()
        if self.sequence is not None:
            out["sequence"] = [None if a is None else a.to_dict() for a in self.sequence]
        out.update(enabled=self.enabled, matched=self.matched, fired=self.fired,
                   exhausted=self.times is not None and self.fired >= self.times)
        return out


@dataclass(frozen=True)
class RequestInfo:
    provider: str
    operation: str | None
    method: str
    path: str                          # relative to the provider mount
    namespace: str | None
    body: object = None                # parsed JSON body, or None


_MISSING = object()


def set_pointer(doc, pointer: str, value) -> bool:
    """Set the value at `pointer` in place; False when its parent does not exist."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]
    parent = resolve_pointer(doc, "/" + "/".join(pointer[1:].split("/")[:-1])) if len(tokens) > 1 else doc
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
        return True
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        parent[int(last)] = value
        return True
    return False


def resolve_pointer(doc, pointer: str):
    if pointer == "":
        return doc
    if not pointer.startswith("/"):
        return _MISSING
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            return _MISSING
    return doc


class FaultEngine:
    def __init__(self, clock, seed: int | None = None):
        self.clock = clock
        self._rules: dict[str, Rule] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._seed = seed
        self._no_connection_faults: str | None = None
        # provider -> the operations it has (an API's operationIds, the PSP's calls, webhook
        # event types). Empty until the app declares them; then a rule must name these.
        self._targets: dict[str, frozenset[str]] = {}

    def declare(self, provider: str, operations) -> None:
        """Name a provider rules may target, and its operations: a rule naming any other provider
        or operation is refused (a misspelt rule that never fires is the worst fault)."""
        self._targets[provider] = frozenset(operations)

    def _check_target(self, provider: str | None, operation: str | None) -> None:
        if not self._targets:
            return
        if provider is not None and provider not in self._targets:
            raise FaultRuleError(f"unknown provider {provider!r}; known: {sorted(self._targets)}")
        if operation is None:
            return
        providers = [provider] if provider is not None else sorted(self._targets)
        # "<provider>.<operationId>" names the provider too (as _matches reads it).
        prefix, _, rest = operation.partition(".")
        qualified = prefix in providers and rest in self._targets[prefix]
        if not qualified and not any(operation in self._targets[name] for name in providers):
            known = "; ".join(f"{name}: {', '.join(sorted(self._targets[name])) or '(none)'}"
                              for name in providers)
            raise FaultRuleError(f"unknown operation {operation!r}"
                                 f"{f' for provider {provider!r}' if provider else ''}; known: {known}")

    def refuse_connection_faults(self, reason: str) -> None:
        """The server cannot reset, drop or hold a connection: refuse such rules with `reason`."""
        self._no_connection_faults = reason

    def check_supported(self, action: Action | None) -> None:
        if action is not None and action.connection is not None and self._no_connection_faults:
            raise FaultRuleError(self._no_connection_faults)

    def add(self, raw: dict) -> Rule:
        rule = self.parse(raw)
        with self._lock:
            if not rule.id:
                rule.id = f"rule_{next(self._ids)}"
            if rule.id in self._rules:
                raise FaultRuleError(f"a rule with id {rule.id!r} exists; delete it first or pick another id")
            self._rules[rule.id] = rule
        return rule

    def parse(self, raw) -> Rule:
        if not isinstance(raw, dict):
            raise FaultRuleError("a rule must be a JSON object")
        if too_deep(raw, MAX_RULE_DEPTH):
            raise FaultRuleError(f"a rule may nest at most {MAX_RULE_DEPTH} levels deep "
                                 "(body, patch and body_equals included)")
        unknown = set(raw) - RULE_KEYS
        if unknown:
            raise FaultRuleError(f"unknown field(s) {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
        if ("action" in raw) == ("sequence" in raw):
            raise FaultRuleError("give exactly one of action or sequence")
        for name in ("provider", "operation", "method", "path", "namespace", "id", "description"):
            if raw.get(name) is not None and not isinstance(raw[name], str):
                raise FaultRuleError(f"{name} must be a string")
        self._check_target(raw.get("provider"), raw.get("operation"))
        times, after, probability = raw.get("times"), raw.get("after", 0), raw.get("probability")
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
            raise FaultRuleError("times must be an integer >= 1 (omit it for every matching request)")
        if isinstance(after, bool) or not isinstance(after, int) or after < 0:
            raise FaultRuleError("after must be an integer >= 0")
        if probability is not None and (isinstance(probability, bool)
                                        or not isinstance(probability, (int, float))
                                        or not 0 <= probability <= 1):
            raise FaultRuleError("probability must be a number from 0 to 1")
        body_equals = raw.get("body_equals")
        if body_equals is not None and (not isinstance(body_equals, dict) or not all(
                isinstance(k, str) and (k == "" or k.startswith("/")) for k in body_equals)):
            raise FaultRuleError('body_equals must map JSON pointers ("/a/0/b") to expected values')
        path_re = None
        if raw.get("path") is not None:
            path_re = _linear_time_pattern(raw["path"])
        sequence = None
        if "sequence" in raw:
            if not isinstance(raw["sequence"], list) or not raw["sequence"]:
                raise FaultRuleError("sequence must be a non-empty list of actions (null passes through)")
            sequence = [Action.parse(a, f"sequence[{i}]") for i, a in enumerate(raw["sequence"])]
        window = {}
        for name in ("active_from", "active_until", "for_seconds"):
            value = raw.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
                raise FaultRuleError(f"{name} must be a number of seconds (epoch seconds for active_*)")
            window[name] = value
        if window["for_seconds"] is not None:
            if window["active_until"] is not None:
                raise FaultRuleError("give for_seconds or active_until, not both")
            window["active_from"] = window["active_from"] or self.clock.now()
            window["active_until"] = window["active_from"] + window["for_seconds"]
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise FaultRuleError("enabled must be true or false")
        seed = raw.get("seed", self._seed)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise FaultRuleError("seed must be an integer")
        action = Action.parse(raw.get("action")) if "action" in raw else None
        provider = raw.get("provider")
        site = None if provider is None else provider if provider in ("psp", "webhook") else "api"
        named = [("action", action)] + [(f"sequence[{i}]", a) for i, a in enumerate(sequence or [])]
        for where, each in named:
            self.check_supported(each)
            if each is not None and site is not None:
                each.check_site(site, where)
        return Rule(
            id=raw.get("id") or "",
            action=action,
            sequence=sequence, provider=raw.get("provider"), operation=raw.get("operation"),
            method=raw["method"].upper() if raw.get("method") else None, path=raw.get("path"),
            namespace=raw.get("namespace"), body_equals=body_equals, times=times, after=after,
            probability=probability, seed=seed, description=raw.get("description"),
            active_from=window["active_from"], active_until=window["active_until"],
            enabled=enabled, _rng=random.Random(seed), _path_re=path_re,
        )

    # -- persistence (core/persistence.py) ---------------------------------------------------
    def dump(self) -> list[dict]:
        """Every rule with its counters and the state of its random source, so that a restored
        probabilistic rule goes on with the same sequence."""
        out = []
        for rule in self.rules():
            entry = rule.to_dict()
            if rule._rng is not None:
                entry["_rng_state"] = rule._rng.getstate()
            out.append(entry)
        return out

    def load(self, data: list) -> None:
        if not isinstance(data, list):
            raise FaultRuleError("faults must be a list of rules")
        parsed = []
        for raw in data:
            spec = {k: v for k, v in raw.items() if k not in _COUNTERS and k != "_rng_state"}
            if spec.get("active_until") is not None:  # for_seconds already became the window
                spec.pop("for_seconds", None)
            rule = self.parse(spec)
            rule.matched, rule.fired = int(raw.get("matched", 0)), int(raw.get("fired", 0))
            state = raw.get("_rng_state")
            if state is not None and rule._rng is not None:
                rule._rng.setstate(_tuples(state))
            parsed.append(rule)
        numbers = [int(r.id[5:]) for r in parsed if r.id.startswith("rule_") and r.id[5:].isdigit()]
        with self._lock:
            self._rules = {rule.id: rule for rule in parsed}
            self._ids = itertools.count(max(numbers, default=0) + 1)

    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules.values())

    def switch(self, rule_id: str, enabled: bool) -> Rule | None:
        """Switch a rule off (kept with its counters, never matched) or back on."""
        with self._lock:
            rule = self._rules.get(rule_id)
            if rule is not None:
                rule.enabled = enabled
            return rule

    def delete(self, rule_id: str) -> bool:
        with self._lock:
            return self._rules.pop(rule_id, None) is not None

    def reset(self, namespace: str | None = None) -> int:
        with self._lock:
            doomed = [rid for rid, r in self._rules.items() if namespace is None or r.namespace == namespace]
            for rid in doomed:
                del self._rules[rid]
        return len(doomed)

    def __bool__(self) -> bool:
        return bool(self._rules)

    @property
    def needs_body(self) -> bool:
        return any(rule.body_equals for rule in list(self._rules.values()))

    def decide(self, req: RequestInfo) -> tuple[Rule, Action] | None:
        """The action for this request, if a rule fires (first matching rule wins)."""
        if not self._rules:
            return None
        now = self.clock.now()
        with self._lock:
            for rule in self._rules.values():
                if not rule.enabled:
                    continue
                if rule.active_from is not None and now < rule.active_from:
                    continue
                if rule.active_until is not None and now >= rule.active_until:
                    continue
                if not _matches(rule, req):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                rule.matched += 1
                if rule.matched <= rule.after:
                    continue
                if rule.probability is not None and rule._rng.random() >= rule.probability:
                    continue
                if rule.sequence is not None:
                    step = rule.matched - rule.after - 1
                    if step >= len(rule.sequence):
                        continue
                    action = rule.sequence[step]
                    if action is None:
                        return None
                else:
                    action = rule.action
                rule.fired += 1
                return rule, action
        return None


def _matches(rule: Rule, req: RequestInfo) -> bool:
    if rule.provider is not None and rule.provider != req.provider:
        return False
    if rule.operation is not None and rule.operation not in (req.operation, f"{req.provider}.{req.operation}"):
        return False
    if rule.method is not None and rule.method != req.method:
        return False
    if rule._path_re is not None and not rule._path_re.search(req.path):
        return False
    if rule.namespace is not None and rule.namespace != req.namespace:
        return False
    if rule.body_equals:
        for pointer, expected in rule.body_equals.items():
            if resolve_pointer(req.body, pointer) != expected:
                return False
    return True


def _linear_time_pattern(pattern):
    """`path` compiled by RE2, whose matching takes time linear in the path: a rule such as
    `(a+)+$` would make Python's backtracking `re` take minutes on one request path, stalling
    the server. RE2 has no backreferences or lookaround; such a pattern is refused."""
    import re2

    if not isinstance(pattern, str):
        raise FaultRuleError("path must be a regular expression (a string)")
    options = re2.Options()
    options.log_errors = False  # the refusal says what is wrong; nothing on stderr
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise FaultRuleError(f"path is not a regular expression RE2 accepts ({reason}): paymock "
                             "matches paths in linear time, so backreferences and lookaround "
                             "are not available") from None
