"""Drift check: a provider's contract against the vendor's OpenAPI document, for the operations we
cover. Offered for providers whose contract is derived from the vendor's spec (their
ContractSupport names the `derivation_module`).

For each operation in contracts/<provider>/openapi.json: does the vendor still have it; its status
codes; its parameters (presence, required, type, enum); the request body and every documented
response body, walked recursively through $refs: fields, required sets, enums, types and the
numeric limits (minItems, maxItems, maxProperties, minimum, maximum, minLength, maxLength).

Every difference is either **intended** or **drift**. Intended ones are exactly what the overlay in
the provider's derivation module does: the check re-derives a contract from the given vendor
document with that module and any difference the re-derivation also shows is the overlay's own
(the error envelope, the statuses paymock answers, the limits the vendor states only in prose).
Anything else is drift: the vendor changed (regenerate the contract and review), or our contract
was edited by hand or not regenerated. Exit code: 0 when every difference is intended, 1 on any
drift, 2 when a file cannot be read.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from . import registry

LIMITS = ("minItems", "maxItems", "maxProperties", "minimum", "maximum", "minLength", "maxLength")
MAX_DEPTH = 12


class DiffError(ValueError):
    pass


@dataclass(frozen=True)
class Difference:
    operation: str     # "POST /checkouts"
    where: str         # "request body: product_cart[].quantity", "responses", "query parameter page_size"
    kind: str          # operation, status, field, required, enum, type, limit, composition, parameter
    ours: str
    vendor: str

    def describe(self) -> str:
        return f"{self.operation}: {self.where}: {self.kind}: ours {self.ours}, vendor {self.vendor}"


class _Doc:
    def __init__(self, raw: dict):
        self.raw = raw

    def resolve(self, node, seen=()):
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            if ref in seen or not ref.startswith("#/"):
                return {}
            seen = (*seen, ref)
            target = self.raw
            for part in ref[2:].split("/"):
                target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, dict) else {}
            node = target
        return node if isinstance(node, dict) else {}


def _types(schema: dict) -> str:
    kind = schema.get("type")
    if kind is None:
        return "-"
    return "|".join(sorted(kind)) if isinstance(kind, list) else str(kind)


def _fmt(values) -> str:
    return "{" + ", ".join(sorted(map(str, values))) + "}" if values else "{}"


def _walk(ours: _Doc, vendor: _Doc, a, b, op: str, where: str, out: list, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        return
    a, b = ours.resolve(a), vendor.resolve(b)
    if _types(a) != _types(b):
        out.append(Difference(op, where, "type", _types(a), _types(b)))
    if "enum" in a or "enum" in b:
        ea, eb = set(map(json.dumps, a.get("enum", []))), set(map(json.dumps, b.get("enum", [])))
        if ea != eb:
            out.append(Difference(op, where, "enum", f"only ours {_fmt(ea - eb)}" if ea - eb else "-",
                                  f"only vendor's {_fmt(eb - ea)}" if eb - ea else "-"))
    ra, rb = set(a.get("required", [])), set(b.get("required", []))
    if ra != rb:
        out.append(Difference(op, where or "(root)", "required", _fmt(ra), _fmt(rb)))
    for limit in LIMITS:
        if a.get(limit) != b.get(limit):
            out.append(Difference(op, f"{where} {limit}".strip(), "limit", str(a.get(limit, "-")),
                                  str(b.get(limit, "-"))))
    pa, pb = a.get("properties", {}), b.get("properties", {})
    prefix = f"{where}." if where else ""
    for name in sorted(set(pa) | set(pb)):
        if name not in pb:
            out.append(Difference(op, prefix + name, "field", "present", "absent"))
        elif name not in pa:
            out.append(Difference(op, prefix + name, "field", "absent", "present"))
        else:
            _walk(ours, vendor, pa[name], pb[name], op, prefix + name, out, depth + 1)
    if "items" in a or "items" in b:
        _walk(ours, vendor, a.get("items", {}), b.get("items", {}), op, f"{where}[]", out, depth + 1)
    if isinstance(a.get("additionalProperties"), dict) or isinstance(b.get("additionalProperties"), dict):
        _walk(ours, vendor, a.get("additionalProperties") or {}, b.get("additionalProperties") or {},
              op, f"{where}{{}}", out, depth + 1)
    for key in ("oneOf", "anyOf", "allOf"):
        la, lb = a.get(key), b.get(key)
        if la is None and lb is None:
            continue
        if la is None or lb is None or len(la) != len(lb):
            out.append(Difference(op, where or "(root)", "composition",
                                  f"{key} x{len(la)}" if la is not None else f"no {key}",
                                  f"{key} x{len(lb)}" if lb is not None else f"no {key}"))
            continue
        for index, (sa, sb) in enumerate(zip(la, lb)):
            _walk(ours, vendor, sa, sb, op, f"{where}<{key}[{index}]>", out, depth + 1)


def _json_body(doc: _Doc, holder) -> dict | None:
    holder = doc.resolve(holder)
    schema = holder.get("content", {}).get("application/json", {}).get("schema")
    return schema


def compare(ours_raw: dict, vendor_raw: dict) -> list[Difference]:
    """Every difference between our contract and the vendor's, for the operations we cover."""
    ours, vendor = _Doc(ours_raw), _Doc(vendor_raw)
    out: list[Difference] = []
    for path, item in ours_raw.get("paths", {}).items():
        for method, op_a in item.items():
            if not isinstance(op_a, dict):
                continue
            op = f"{method.upper()} {path}"
            op_b = vendor_raw.get("paths", {}).get(path, {}).get(method)
            if not isinstance(op_b, dict):
                out.append(Difference(op, "operation", "operation", "present", "absent"))
                continue
            sa, sb = set(op_a.get("responses", {})), set(op_b.get("responses", {}))
            if sa != sb:
                out.append(Difference(op, "responses", "status", _fmt(sa), _fmt(sb)))
            params_a = {(p.get("in"), p.get("name")): p for p in map(ours.resolve, op_a.get("parameters", []))}
            params_b = {(p.get("in"), p.get("name")): p for p in map(vendor.resolve, op_b.get("parameters", []))}
            for key in sorted(set(params_a) | set(params_b), key=str):
                where = f"{key[0]} parameter {key[1]}"
                if key not in params_b:
                    out.append(Difference(op, where, "parameter", "present", "absent"))
                elif key not in params_a:
                    out.append(Difference(op, where, "parameter", "absent", "present"))
                else:
                    pa, pb = params_a[key], params_b[key]
                    if bool(pa.get("required")) != bool(pb.get("required")):
                        out.append(Difference(op, where, "required", str(bool(pa.get("required"))),
                                              str(bool(pb.get("required")))))
                    _walk(ours, vendor, pa.get("schema", {}), pb.get("schema", {}), op, where, out)
            body_a = _json_body(ours, op_a.get("requestBody", {}))
            body_b = _json_body(vendor, op_b.get("requestBody", {}))
            if body_a is not None or body_b is not None:
                _walk(ours, vendor, body_a or {}, body_b or {}, op, "request body", out)
            for status in sorted(sa & sb):
                ra = _json_body(ours, op_a["responses"][status])
                rb = _json_body(vendor, op_b["responses"][status])
                if ra is not None or rb is not None:
                    _walk(ours, vendor, ra or {}, rb or {}, op, f"response {status}", out)
    return out


def _provider(name: str):
    try:
        return registry.find(name, registry.derived())
    except registry.UnknownProvider:
        derived = ", ".join(registry.derived()) or "none"
        raise DiffError(f"no contract derived from a vendor spec for {name!r} "
                        f"(these are: {derived})") from None


def load_overlay(provider: str, path: str | Path | None = None):
    """The derivation whose overlay is intended: the one paymock ships for `provider`, or a
    script at `path` (a contract derived with a changed overlay, checked before the change lands)."""
    if not path:
        return importlib.import_module(_provider(provider).contract_support.derivation_module)
    path = Path(path)
    if not path.exists():
        raise DiffError(f"the derivation script {path} is missing (pass --overlay PATH)")
    spec = importlib.util.spec_from_file_location(f"paymock_derive_{provider}_contract", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@dataclass
class DriftReport:
    intended: list[Difference]
    drift: list[Difference]
    overlay_note: str

    @property
    def exit_code(self) -> int:
        return 1 if self.drift else 0

    def render(self, vendor_label: str, provider: str, regenerate: str | None = None) -> str:
        lines = [f"paymock contract diff {provider}: contracts/{provider}/openapi.json vs "
                 f"{vendor_label}", self.overlay_note, ""]
        for title, items, tag in (("DRIFT (not explained by the overlay)", self.drift, "drift"),
                                  ("intended (the overlay's own)", self.intended, "intended")):
            lines.append(f"{title}: {len(items)}")
            lines.extend(f"  [{tag}] {item.describe()}" for item in items)
            lines.append("")
        how = f"`{regenerate}`" if regenerate else "the provider's derivation module"
        lines.append("no drift: every difference is intended" if not self.drift else
                     f"drift: {len(self.drift)} unintended difference(s); regenerate with "
                     f"{how} and review")
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {"drift": [asdict(d) for d in self.drift], "intended": [asdict(d) for d in self.intended]}


def check(ours_raw: dict, vendor_raw: dict, overlay) -> DriftReport:
    """Our contract against the vendor's; `overlay` is the derivation module (load_overlay)."""
    found = compare(ours_raw, vendor_raw)
    expected: set[Difference] = set()
    # A shipped module by its import name, a script loaded from a path by that path.
    shipped = sys.modules.get(overlay.__name__) is overlay
    note = f"overlay: {overlay.__name__ if shipped else overlay.__file__}"
    try:
        expected = set(compare(overlay.derive(vendor_raw), vendor_raw))
    except Exception as exc:  # the vendor moved so far that the overlay no longer applies
        note = f"overlay could not be applied to this vendor document ({type(exc).__name__}: {exc}); " \
               "every difference counts as drift"
    intended = [d for d in found if d in expected]
    drift = [d for d in found if d not in expected]
    return DriftReport(intended, drift, note)


def run_diff(provider: str, vendor_spec, overlay=None, report=None, out=print) -> int:
    found = _provider(provider)
    support = found.contract_support
    try:
        vendor_raw = json.loads(Path(vendor_spec).read_text())
    except OSError as exc:
        raise DiffError(f"cannot read {vendor_spec}: {exc.strerror}") from None
    except ValueError as exc:
        raise DiffError(f"{vendor_spec} is not JSON: {exc}") from None
    ours_raw = support.document(found)
    result = check(ours_raw, vendor_raw, load_overlay(provider, overlay))
    out(result.render(f"{vendor_spec} ({vendor_raw.get('info', {}).get('version', '?')})", provider,
                      support.regenerate_command))
    if report:
        path = Path(report)
        path.write_text(json.dumps(result.as_json(), indent=1) + "\n" if path.suffix == ".json"
                        else result.render(str(vendor_spec), provider,
                                           support.regenerate_command) + "\n")
    return result.exit_code
