"""Load a provider's OpenAPI 3.1 contract and validate requests (and, in tests, responses) by it.

The contract in `contracts/<provider>/openapi.json` is the only place a schema is written down.
Validators are compiled once, when the contract is loaded; `$ref`s resolve through a `referencing`
registry holding the whole document. A schema node may carry `x-paymock-error:
{keyword: [code, message]}` to say which provider error a failed keyword becomes (`{field}` in a
`required` message stands for the missing field).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING

from .. import resources

if TYPE_CHECKING:  # annotations only: jsonschema itself is imported on first use
    from jsonschema.exceptions import ValidationError

try:  # a compiled validator for the is-valid fast path (jsonschema builds the error messages)
    import jsonschema_rs
except ImportError:  # pragma: no cover - optional speed-up
    jsonschema_rs = None

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def document_file(provider: str):
    """contracts/<provider>/openapi.json, as shipped with paymock (a Traversable)."""
    return resources.contracts() / provider / "openapi.json"


@lru_cache(maxsize=1)
def _jsonschema() -> SimpleNamespace:
    """jsonschema and referencing, imported on first use: valid bodies never need them (the
    compiled validator says so), and importing them is a sixth of paymock's start-up."""
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import best_match
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    # OpenAPI's integer formats are ranges the real servers enforce (and Schemathesis generates
    # out-of-range values to check that they do).
    formats = FormatChecker(formats=())
    formats.checks("int32")(_int32)
    formats.checks("int64")(_int64)
    return SimpleNamespace(Validator=Draft202012Validator, FORMATS=formats, best_match=best_match,
                           Registry=Registry, Resource=Resource, DRAFT202012=DRAFT202012)


def _in_range(value, bits: int) -> bool:
    # JSON has one number type: 1e10 parses as a float that jsonschema still calls an integer,
    # so an integral float is range-checked too (else it slips past the format).
    if isinstance(value, float) and value.is_integer():
        return -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)
    return not isinstance(value, int) or isinstance(value, bool) or -(2 ** (bits - 1)) <= value < 2 ** (bits - 1)


def _int32(value) -> bool:
    return _in_range(value, 32)


def _int64(value) -> bool:
    return _in_range(value, 64)


class RequestInvalid(Exception):
    """A request broke the contract. `field` is a dotted path such as `product_cart[0].quantity`."""

    def __init__(self, field: str, message: str, code: str | None = None):
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


_UNCOMPILED = object()  # Operation.body_fast before Contract.fast_body compiled it


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    statuses: set[str]
    body_schema: str | None = None  # JSON pointer into the contract
    body_required: bool = False
    params: list[dict] = field(default_factory=list)
    param_schemas: dict[str, str] = field(default_factory=dict)  # name -> JSON pointer
    response_schemas: dict[str, str] = field(default_factory=dict)  # status -> JSON pointer
    pattern: re.Pattern | None = None
    # jsonschema_rs validator of the body: says "valid" fast; never the authority on "invalid".
    # Compiled on first use (Contract.fast_body): each holds its own copy of the schemas it
    # reaches, and compiling every operation's at start cost an idle server 7 MB.
    body_fast: object = _UNCOMPILED


class Contract:
    def __init__(self, document: dict, uri: str):
        self.document = document
        self.uri = uri
        self._registry = None
        self._validators: dict[str, object] = {}
        self.operations: dict[str, Operation] = {}
        for path, item in document.get("paths", {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    self._add_operation(path, method, item[method])

    @classmethod
    def load(cls, provider: str) -> Contract:
        """The provider's contract, without its prose (descriptions, summaries): nothing that
        validates or answers reads them, and the vendor's are a fifth of the Dodo document, held
        by every server. Tools that show them (the contract kit, /docs/openapi.json) read the
        file."""
        return cls(json.loads(document_file(provider).read_text(encoding="utf-8"),
                              object_hook=_without_prose),
                   f"urn:paymock:contract:{provider}")

    def _validator(self, pointer: str):
        """jsonschema's validator for the schema at `pointer`, built on first use."""
        validator = self._validators.get(pointer)
        if validator is None:
            js = _jsonschema()
            if self._registry is None:
                resource = js.Resource.from_contents(self.document, default_specification=js.DRAFT202012)
                self._registry = js.Registry().with_resource(self.uri, resource)
            validator = js.Validator({"$ref": f"{self.uri}#{pointer}"}, registry=self._registry,
                                     format_checker=js.FORMATS)
            self._validators[pointer] = validator
        return validator

    def _add_operation(self, path: str, method: str, op: dict) -> None:
        op_id = op.get("operationId") or f"{method}_{path}"
        base = "/paths/" + _escape(path) + "/" + method
        operation = Operation(
            operation_id=op_id, method=method.upper(), path=path,
            statuses=set(op.get("responses", {})),
            params=list(op.get("parameters", [])),
            pattern=re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"),
        )
        for index, param in enumerate(operation.params):
            if "schema" in param:  # inline parameters ($ref'd ones are headers, read elsewhere)
                operation.param_schemas[param["name"]] = f"{base}/parameters/{index}/schema"
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body and "schema" in body:
            operation.body_schema = base + "/requestBody/content/application~1json/schema"
            operation.body_required = bool(op["requestBody"].get("required"))
        for status, response in op.get("responses", {}).items():
            where = base + "/responses/" + status
            if "$ref" in response:  # a response shared under components/responses
                where = response["$ref"].lstrip("#")
                response = self.at(response["$ref"])
            if "schema" in response.get("content", {}).get("application/json", {}):
                operation.response_schemas[status] = where + "/content/application~1json/schema"
        self.operations[op_id] = operation

    def fast_body(self, operation_id: str):
        """The operation's compiled body validator (None: no body, or none could be compiled),
        compiled on first use. Two threads may both compile it; either result is the same."""
        op = self.operations[operation_id]
        if op.body_fast is _UNCOMPILED:
            op.body_fast = None if op.body_schema is None else self._fast_validator(op.body_schema)
        return op.body_fast

    def at(self, pointer: str):
        """The node at a JSON pointer ("/paths/~1x/get" or a "#/components/..." $ref)."""
        node = self.document
        for part in pointer.lstrip("#").strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _fast_validator(self, pointer: str):
        if jsonschema_rs is None:
            return None
        try:
            return jsonschema_rs.Draft202012Validator(self._fast_subdocument(pointer),
                                                      validate_formats=False)
        except Exception:  # a construct it cannot compile: jsonschema alone validates
            return None

    def _fast_subdocument(self, pointer: str) -> dict:
        """The schema at `pointer` with only the component schemas it reaches: each compiled
        validator holds its whole document, and the contract's (every vendor webhook schema
        included) is large; compiling it once per body made each app cost tens of megabytes.
        Only what is taken is converted (_fast_document), never the whole contract."""
        node = self.at(pointer)
        schemas = self.document.get("components", {}).get("schemas", {})
        used: set[str] = set()
        pending = [node]
        while pending:
            item = pending.pop()
            if isinstance(item, dict):
                ref = item.get("$ref")
                if isinstance(ref, str) and ref.startswith(_SCHEMAS):
                    name = ref[len(_SCHEMAS):]
                    if name not in used and name in schemas:
                        used.add(name)
                        pending.append(schemas[name])
                pending.extend(item.values())
            elif isinstance(item, list):
                pending.extend(item)
        return _fast_document({"$defs": {"body": node}, "$ref": "#/$defs/body",
                               "components": {"schemas": {name: schemas[name] for name in used}}})

    def body_validator(self, operation_id: str):
        """jsonschema's validator of an operation's request body (None: it takes none)."""
        pointer = self.operations[operation_id].body_schema
        return None if pointer is None else self._validator(pointer)

    def operation(self, operation_id: str) -> Operation:
        return self.operations[operation_id]

    def match(self, method: str, path: str) -> Operation | None:
        """The operation serving `method path` (path relative to the provider mount)."""
        method = method.upper()
        for op in self.operations.values():
            if op.method == method and op.pattern.match(path):
                return op
        return None

    def validate_body(self, operation_id: str, body) -> None:
        op = self.operations[operation_id]
        if op.body_schema is None:
            return
        fast = self.fast_body(operation_id)
        if fast is not None:
            try:
                if fast.is_valid(body):
                    return
            except Exception:  # e.g. an integer too large for it: ask jsonschema
                pass
        # Invalid by the fast validator (or none): jsonschema decides and words the error. The fast
        # document is only ever stricter (see _fast_document), so a body it refuses that
        # jsonschema accepts is accepted.
        try:
            error = _jsonschema().best_match(self.body_validator(operation_id).iter_errors(body))
        except RecursionError:  # a document nested past what jsonschema can walk
            raise RequestInvalid("body", "body: nests too deeply") from None
        if error is not None:
            raise _to_request_invalid(error)

    def parse_query(self, operation_id: str, args) -> dict:
        """Coerce and validate the declared query parameters; unknown ones are ignored."""
        values = {}
        op = self.operations[operation_id]
        for param in op.params:
            if param.get("in") != "query" or param["name"] not in args:
                continue
            name, schema = param["name"], param.get("schema", {})
            raw = args[name]
            value = _coerce(raw, schema)
            pointer = op.param_schemas.get(name)
            error = None if pointer is None else _jsonschema().best_match(
                self._validator(pointer).iter_errors(value))
            if error is not None or value is _INVALID:
                kind = schema.get("type", "value")
                raise RequestInvalid(name, f"query parameter {name}: {raw!r} is not a valid {kind}"
                                     if error is None or value is _INVALID
                                     else f"query parameter {name}: {_describe(error)}")
            values[name] = value
        return values

    def example(self, operation_id: str, status: int):
        """The documented body of one response (its `example`), or None."""
        op = self.operations.get(operation_id)
        if op is None:
            return None
        path_item = self.document["paths"][op.path][op.method.lower()]
        response = path_item.get("responses", {}).get(str(status), {})
        if "$ref" in response:
            response = self.at(response["$ref"])
        media = response.get("content", {}).get("application/json", {})
        if "example" in media:
            return media["example"]
        examples = media.get("examples") or {}
        return next((e.get("value") for e in examples.values() if "value" in e), None)

    def response_errors(self, operation_id: str, status: int, body) -> list[str]:
        """Ways a response breaks the contract (used by tests to check the mock itself)."""
        op = self.operations[operation_id]
        key = str(status)
        if key not in op.statuses and f"{key[0]}XX" not in op.statuses and "default" not in op.statuses:
            return [f"status {status} is not documented for {operation_id}"]
        pointer = op.response_schemas.get(key)
        if pointer is None:
            return []
        return [f"{_field(e)}: {_describe(e)}" for e in self._validator(pointer).iter_errors(body)]

    def webhook_errors(self, event_type: str, body) -> list[str]:
        """Ways a webhook's body breaks the schema the contract's `webhooks` section gives its
        event type (OpenAPI 3.1); an event type it does not document is itself the error."""
        webhook = self.document.get("webhooks", {}).get(event_type)
        if webhook is None:
            return [f"event type {event_type} is not documented"]
        pointer = "/webhooks/" + _escape(event_type) + "/post/requestBody/content/application~1json/schema"
        return [f"{_field(e)}: {_describe(e)}" for e in self._validator(pointer).iter_errors(body)]


_SCHEMAS = "#/components/schemas/"
_INVALID = object()
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


_PROSE = ("description", "summary")


def _without_prose(node: dict) -> dict:
    """json's object_hook: an object without its descriptions and summaries, dropped as the
    document is read (so that they never all live at once). A property named "description" is a
    schema (an object), not a text, and stays; an example object loses its text "description"
    too, which nothing here reads (fault injection reads the error examples: code, message)."""
    if any(isinstance(node.get(key), str) for key in _PROSE):
        return {key: value for key, value in node.items()
                if key not in _PROSE or not isinstance(value, str)}
    return node


def _fast_document(document):
    """A copy of the contract for jsonschema_rs, which checks no formats: the int32/int64 ranges
    (the only formats paymock enforces, see FORMATS) become minimum/maximum. That is stricter than
    the format for non-integers, never looser, so a body the fast validator accepts is one
    jsonschema accepts too."""
    if isinstance(document, list):
        return [_fast_document(item) for item in document]
    if not isinstance(document, dict):
        return document
    out = {key: _fast_document(value) for key, value in document.items()}
    bounds = _INT_RANGES.get(out.get("format")) if isinstance(out.get("format"), str) else None
    if bounds is not None:
        low, high = bounds
        minimum, maximum = out.get("minimum"), out.get("maximum")
        out["minimum"] = low if not isinstance(minimum, (int, float)) else max(minimum, low)
        out["maximum"] = high if not isinstance(maximum, (int, float)) else min(maximum, high)
    return out


def _coerce(raw: str, schema: dict):
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    try:
        if kind == "integer":
            return int(raw)
        if kind == "number":
            return float(raw)
    except ValueError:
        return _INVALID
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw.lower(), _INVALID)
    return raw


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


def _field(error: ValidationError) -> str:
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(value, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean",
               int: "integer", float: "number", type(None): "null"}


def _describe(error: ValidationError) -> str:
    """A short message that never echoes a whole (possibly huge) instance."""
    v, value, inst = error.validator, error.validator_value, error.instance
    if v == "type":
        expected = " or ".join(value) if isinstance(value, list) else value
        return f"expected {expected}, got {_JSON_TYPES.get(type(inst), 'value')}"
    if v == "enum":
        shown = ", ".join(map(str, value[:8])) + (f" (and {len(value) - 8} more)" if len(value) > 8 else "")
        return f"{_short(inst)} is not one of {shown}"
    if v == "const":
        return f"must be {_short(value)}"
    if v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}[v]
        return f"must be {op} {value}, got {_short(inst)}"
    if v in ("minItems", "maxItems"):
        return f"must have {'at least' if v == 'minItems' else 'at most'} {value} items, got {len(inst)}"
    if v in ("minProperties", "maxProperties"):
        return f"must have {'at least' if v == 'minProperties' else 'at most'} {value} keys, got {len(inst)}"
    if v in ("minLength", "maxLength"):
        return f"must be {'at least' if v == 'minLength' else 'at most'} {value} characters long"
    if v == "format" and value in ("int32", "int64"):
        return f"{_short(inst)} is out of range for a {value} integer"
    if v == "pattern":
        return f"does not match the pattern {value}"
    if v == "uniqueItems":
        return "must not contain duplicate items"
    if v in ("oneOf", "anyOf"):
        return "does not match any of the allowed shapes" if v == "anyOf" or not _matches_many(error) \
            else "matches more than one of the allowed shapes"
    if v == "additionalProperties":
        return error.message[:200]
    return error.message[:200]


def _matches_many(error: ValidationError) -> bool:
    return "is valid under each of" in error.message


def _to_request_invalid(error: ValidationError) -> RequestInvalid:
    path = _field(error)
    override = error.schema.get("x-paymock-error", {}).get(error.validator) \
        if isinstance(error.schema, dict) else None
    if error.validator == "required":
        missing = next((p for p in error.validator_value if p not in error.instance), None)
        name = f"{path}.{missing}" if path else str(missing)
        if override:  # the provider's own words, e.g. "Missing required field: checkoutSessionId"
            # ("{field}" in them: the missing field's name, for a schema with several required)
            return RequestInvalid(name, override[1].replace("{field}", name), code=override[0])
        return RequestInvalid(name, f"{name}: field is required")
    name = path or "body"
    if override:
        code, message = override
        return RequestInvalid(name, message, code=code)
    return RequestInvalid(name, f"{name}: {_describe(error)}")
