"""The generic resource engine: every operation of a contract that no provider rule serves,
answered from the contract itself (LocalStack's generic fallback, moto's per-resource backends).

An operation's role is read from the shape of its path, as REST APIs lay them out:

    POST   /things                  create: an object built from the body and the response schema
    GET    /things                  list: the stored objects, paged and filtered by the provider
    GET    /things/{id}             retrieve
    PATCH  /things/{id}  (or PUT)   update: the body merged into the object
    DELETE /things/{id}             delete, or archive where the collection also has an
                                    unarchive/undelete action (then lists skip it, GET still reads it)
    POST   /things/{id}/archive     archive; /unarchive and /undelete bring it back
    POST   /parents/{pid}/things    a collection owned by a parent object, which must exist
    anything else                   a view: the response schema filled in from what is known

A created object holds every property of the response schema: the body's value when it sends
one, the resource's id (with the provider's prefix), the parent's id, timestamps from the mock
clock, the provider's own values (`ResourceStyle.value`), the schema's default, null where the
schema allows it, else the plainest valid value (first enum member, minimum, empty string).
Objects live in the caller's namespace (kind `resource:<collection path>`), keyed by their
parents' ids and their own; the engine's bookkeeping rides along under `_paymock`.

What differs between providers (id prefixes, the list envelope and its paging, the not-found
error, values like business ids, which hand-written objects count as parents) comes from a
`ResourceStyle`. The engine never serves an operation a provider handles itself.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from .clock import epoch, iso
from .errors import ApiError
from .request import Reply, Request

INTERNAL = "_paymock"
ARCHIVE, UNARCHIVE = ("archive",), ("unarchive", "undelete")
_PARAM = re.compile(r"^\{([^}]+)\}$")


@dataclass
class Route:
    """How the engine serves one operation."""

    operation_id: str
    role: str               # create | list | retrieve | update | delete | archive | unarchive | view
    collection: str         # the collection's path template ("/products/{product_id}/localized-prices")
    parents: list[str]      # the collection path's parameters, outermost first
    item: str | None = None  # the item parameter, for the operations on one object
    schema: dict | None = None  # the 2xx response schema (resolved one level), if any
    status: int = 200       # the documented success status
    archives: bool = False  # delete archives (the collection has an unarchive action)


@dataclass
class Collection:
    """What the engine knows about one collection of objects."""

    path: str
    parents: list[str]
    schema: dict | None = None   # the object schema (a create's or a retrieve's answer)
    id_field: str | None = None
    item_param: str | None = None
    archivable: bool = False
    uuid_ids: bool = False  # its item parameter is a uuid (the vendor's product-collection groups)
    # property -> the child collection its array shows (a product collection's `groups` are the
    # objects of /product-collections/{id}/groups)
    embeds: dict[str, str] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)


class ResourceStyle:
    """A provider's side of the engine. Override what differs; the defaults are neutral."""

    def prefix(self, collection: str) -> str:
        """The id prefix of objects of `collection` (e.g. "brnd" gives "brnd_8dFi...")."""
        return collection.rstrip("/").rsplit("/", 1)[-1][:4]

    def new_id(self, collection: str) -> str:
        return f"{self.prefix(collection)}_{uuid.uuid4().hex[:21]}"

    def value(self, ns, collection: str, name: str, schema: dict):
        """A property's value where the provider knows it (a business id, a URL), else
        NotImplemented."""
        return NotImplemented

    def page(self, objects: list[dict], query: dict, collection: str, schema: dict | None):
        """A list's answer for the objects that passed the filters (newest first)."""
        return {"items": objects}

    def not_found(self, collection: str):
        """The error for a missing object (an ApiError)."""
        raise NotImplementedError

    def bad_body(self, field: str, message: str):
        """The error for a body field that is not what it declares (an ApiError)."""
        return ApiError(422, message)

    def bad_query(self, name: str, raw):
        """The error for a query parameter that is not what it declares (an ApiError)."""
        return ApiError(422, f"query parameter {name}: {str(raw)[:64]!r} is not valid")

    def missing_reference(self, name: str, value: str):
        """The error for a body field naming an object that does not exist (an ApiError)."""
        return ApiError(422, f"{name}: {value!r} names nothing")

    def referenced(self, ns, name: str, value):
        """What a field such as `product_id` names: the object (a dict, whose same-named fields
        fill the naming object's), True when it exists but lends nothing, False when it names
        nothing; None when the provider cannot tell."""
        return None

    def parent_exists(self, ns, collection: str, param: str, value: str) -> bool | None:
        """Whether the object a path parameter names exists, when the provider holds it (a
        product, a customer); None: the engine decides (its own objects) or nobody can."""
        return None


class ResourceEngine:
    def __init__(self, contract, style: ResourceStyle, clock):
        self.contract = contract
        self.style = style
        self.clock = clock
        self.document = contract.document
        self.collections: dict[str, Collection] = {}
        self.routes: dict[str, Route] = {}

    # -- reading the contract ------------------------------------------------------------------
    def plan(self, operation_ids) -> dict[str, Route]:
        """Routes for the given operations (those no provider rule serves)."""
        ops = [self.contract.operations[op_id] for op_id in operation_ids]
        for op in ops:  # collections first: an item route needs to know its collection
            self._route(op)
        for collection in self.collections.values():
            self._describe(collection)
        for collection in self.collections.values():
            self._embeds(collection)
        return self.routes

    def _embeds(self, parent: Collection) -> None:
        """The array properties of a parent's objects that are a child collection's objects:
        the child's path is the parent's item path plus the property's name, and the array's
        items carry the child's id."""
        if parent.schema is None or parent.item_param is None:
            return
        for name, prop in parent.schema.get("properties", {}).items():
            child = self.collections.get(f"{parent.path}/{{{parent.item_param}}}/{name}")
            prop = self._resolve(prop)
            items = self._resolve(prop.get("items", {})) if prop.get("type") == "array" else {}
            if child is not None and child.id_field and child.id_field in items.get("properties", {}):
                parent.embeds[name] = child.path

    def _route(self, op) -> None:
        parts = [p for p in op.path.strip("/").split("/") if p]
        last = _PARAM.match(parts[-1]) if parts else None
        method = op.method
        item = None
        answer, status = self._success_schema(op)
        if last:  # /things/{id}
            item = last.group(1)
            collection_parts = parts[:-1]
            role = {"GET": "retrieve", "PATCH": "update", "PUT": "update",
                    "DELETE": "delete"}.get(method, "view")
        elif len(parts) >= 2 and _PARAM.match(parts[-2]) and parts[-1] in ARCHIVE + UNARCHIVE \
                and method == "POST":
            item = _PARAM.match(parts[-2]).group(1)
            collection_parts = parts[:-2]
            role = "archive" if parts[-1] in ARCHIVE else "unarchive"
        else:
            collection_parts = parts
            schema = answer
            if method == "GET" and _is_list(schema, self._resolve):
                role = "list"
            elif method == "POST" and schema is not None and self._has_id(schema):
                role = "create"
            elif method == "POST" and self._attaches(op, schema):
                role = "attach"
            else:
                role = "view"
        path = "/" + "/".join(collection_parts)
        parents = [m.group(1) for m in map(_PARAM.match, collection_parts) if m]
        route = Route(op.operation_id, role, path, parents, item, answer, status)
        self.routes[op.operation_id] = route
        collection = self.collections.setdefault(path, Collection(path, parents))
        collection.routes.append(route)
        if item is not None:
            collection.item_param = collection.item_param or item
            declared = next((p for p in op.params if p.get("name") == item), {})
            collection.uuid_ids |= self._resolve(declared.get("schema", {})).get("format") == "uuid"
        if role == "unarchive":
            collection.archivable = True

    def _describe(self, collection: Collection) -> None:
        """The object schema and id field of a collection, from its routes' answers."""
        for role in ("create", "retrieve", "update", "list", "attach"):
            for route in collection.routes:
                if route.role != role or route.schema is None:
                    continue
                schema = self._items(route.schema) if role in ("list", "attach") else route.schema
                if self._resolve(schema).get("type") in ("object", None) and \
                        self._resolve(schema).get("properties"):
                    collection.schema = self._resolve(schema)
                    break
            if collection.schema is not None:
                break
        props = (collection.schema or {}).get("properties", {})
        singular = _singular(collection.path)
        for name in (collection.item_param, "id", f"{singular}_id"):
            if name and name in props:
                collection.id_field = name
                break
        for route in collection.routes:
            route.archives = collection.archivable and route.role == "delete"

    def new_id(self, path: str) -> str:
        """An id for an object of the collection at `path`: a uuid where the contract declares
        its ids so, else the provider's (a prefix and random characters)."""
        collection = self.collections.get(path)
        if collection is not None and collection.uuid_ids:
            return str(uuid.uuid4())
        return self.style.new_id(path)

    def _owner_of(self, id_field: str, collection: Collection) -> str:
        """The collection whose objects an id field names (`group_id`: the groups), for its
        prefix; the collection at hand when none does."""
        for other in self.collections.values():
            if other.item_param == id_field or other.id_field == id_field:
                return other.path
        return collection.path

    def _items(self, schema):
        """The item schema of an array or of a list envelope."""
        schema = self._resolve(schema)
        if schema.get("type") != "array":
            schema = self._resolve(schema["properties"]["items"])
        return self._resolve(schema.get("items", {}))

    def _success_schema(self, op) -> tuple[dict | None, int]:
        item = self.document["paths"][op.path][op.method.lower()]
        for status in sorted(item.get("responses", {})):
            if status.startswith("2"):
                content = item["responses"][status].get("content", {})
                schema = next(iter(content.values()), {}).get("schema") if content else None
                return schema, int(status)
        return None, 200

    def _resolve(self, schema):
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 32:
            schema, seen = self.contract.at(schema["$ref"]), seen + 1
        return schema

    def _attaches(self, op, schema) -> str | None:
        """The body's one required array (`customer_ids`, `products`), when the answer is the
        objects it made: an array of objects, or a list envelope."""
        if op.body_schema is None or schema is None:
            return None
        body = self._resolve(self.contract.at(op.body_schema))
        arrays = [name for name in body.get("required", ())
                  if self._resolve(body.get("properties", {}).get(name, {})).get("type") == "array"]
        answer = self._resolve(schema)
        many = answer.get("type") == "array" or _is_list(answer, self._resolve)
        return arrays[0] if len(arrays) == 1 and many else None

    def _has_id(self, schema) -> bool:
        props = self._resolve(schema).get("properties", {}) if isinstance(schema, dict) else {}
        return any(name == "id" or name.endswith("_id") for name in props)

    # -- serving -------------------------------------------------------------------------------
    def handler(self, operation_id: str):
        route = self.routes[operation_id]
        serve = getattr(self, "_" + route.role)
        op = self.contract.operations[operation_id]
        if op.body_schema is None:
            return lambda req: serve(route, req)
        body_schema = self.contract.at(op.body_schema)

        def checked(req: Request):
            # The contract's validation checks types, not formats (but int32/int64): a date-time
            # or uuid that is not one is the provider's bad request here, before it is stored.
            problem = self._format_problem(body_schema, req.body, "")
            if problem is not None:
                raise self.style.bad_body(*problem)
            return serve(route, req)
        return checked

    def _format_problem(self, schema, value, where: str, depth: int = 0):
        """(field, message) of the first value whose format is not what the schema says."""
        schema = self._resolve(schema)
        if not isinstance(schema, dict) or value is None or depth > 32:
            return None
        if isinstance(value, dict):
            for name, child in value.items():
                prop = schema.get("properties", {}).get(name)
                if prop is not None:
                    found = self._format_problem(prop, child, f"{where}.{name}" if where else name,
                                                 depth + 1)
                    if found:
                        return found
        elif isinstance(value, list):
            for index, child in enumerate(value):
                found = self._format_problem(schema.get("items", {}), child, f"{where}[{index}]",
                                             depth + 1)
                if found:
                    return found
        elif isinstance(value, str) and schema.get("format") in _FORMATS:
            if not _FORMATS[schema["format"]](value):
                return where, f"{where}: {value[:64]!r} is not a {schema['format']}"
        return None

    def _kind(self, route: Route) -> str:
        return kind(route.collection)

    @staticmethod
    def _key(parents: list[str], req: Request, obj_id: str | None = None) -> str:
        values = [req.path[p] for p in parents]
        return "/".join(values + ([obj_id] if obj_id is not None else []))

    def _check_parents(self, route: Route, req: Request) -> None:
        """Each object the collection path names must exist (an owner of this collection)."""
        parts = [p for p in route.collection.strip("/").split("/") if p]
        for index, part in enumerate(parts):
            match = _PARAM.match(part)
            if not match:
                continue
            param, owner = match.group(1), "/" + "/".join(parts[:index])
            known = self.style.parent_exists(req.ns, owner, param, req.path[param])
            if known is None:
                parent = self.collections.get(owner)
                if parent is not None and parent.id_field is not None:
                    grand = [m.group(1) for m in map(_PARAM.match, parts[:index]) if m]
                    key = "/".join([req.path[p] for p in grand] + [req.path[param]])
                    known = req.ns.get(kind(owner), key) is not None
                else:  # named elsewhere (/grants/{grant_id}: an entitlement's grants)
                    known, owner = self._anywhere(req.ns, param, req.path[param], owner)
            if known is False:
                raise self.style.not_found(owner)

    def _anywhere(self, ns, param: str, value: str, owner: str):
        """(whether an object of the collection whose items `param` names exists, that
        collection); (None, owner) when no collection's items go by that name."""
        for collection in self.collections.values():
            if collection.item_param == param and collection.id_field:
                return any(obj.get(collection.id_field) == value
                           for obj in ns.values(kind(collection.path))), collection.path
        return None, owner

    def _find(self, route: Route, req: Request) -> dict:
        self._check_parents(route, req)
        obj = req.ns.get(self._kind(route), self._key(route.parents, req, req.path[route.item]))
        if obj is None:
            raise self.style.not_found(route.collection)
        return obj

    def _render(self, obj: dict) -> dict:
        return {k: v for k, v in obj.items() if k != INTERNAL}

    def _shape(self, route: Route, req: Request, obj: dict, schema=None) -> dict:
        """The stored object as `schema` (the route's answer) has it: an operation may answer
        another shape of the same thing (a list's items, an archive's summary). Embedded arrays
        show the child collection's objects as they are now."""
        collection = self.collections[route.collection]
        schema = schema if schema is not None else route.schema
        given = self._render(obj)
        obj_id = obj.get(collection.id_field) if collection.id_field else None
        owners = obj[INTERNAL]["parents"] + [obj_id] if INTERNAL in obj else None
        for name, child in collection.embeds.items():
            if owners is not None:
                given[name] = [self._render(o) for o in req.ns.values(kind(child))
                               if o[INTERNAL]["parents"] == owners]
        return self.build(req.ns, collection, schema, given, req.path, obj_id)

    def _adopt(self, req: Request, route: Route, obj_id: str, elements: list, child: str) -> None:
        """The embedded objects of a new object, stored as objects of the child collection."""
        owners = [req.path[p] for p in route.parents] + [obj_id]
        child_collection = self.collections[child]
        for element in elements:
            child_id = element.get(child_collection.id_field) or self.new_id(child)
            element[child_collection.id_field] = child_id
            element[INTERNAL] = {"archived": False, "created": self.clock.now(), "parents": owners}
            req.ns.put(kind(child), "/".join(owners + [child_id]), element)

    def _reply(self, route: Route, data):
        if route.schema is None:
            return Reply(None, status=route.status, no_body=True)
        if route.status != 200:
            return Reply(data, status=route.status)
        return data

    def _check_references(self, ns, given: dict) -> None:
        """A body's field that names another object (`brand_id`, `product_id`) must name one
        the provider knows."""
        for name, value in given.items():
            if name.endswith("_id") and isinstance(value, str) \
                    and self.style.referenced(ns, name, value) is False:
                raise self.style.missing_reference(name, value)

    def _create(self, route: Route, req: Request):
        collection = self.collections[route.collection]
        with req.ns.lock:
            self._check_parents(route, req)
            self._check_references(req.ns, req.body or {})
            obj_id = self.new_id(route.collection)
            obj = self.build(req.ns, collection, route.schema, req.body or {}, req.path, obj_id)
            if collection.id_field:
                obj_id = obj.get(collection.id_field) or obj_id
            obj[INTERNAL] = {"archived": False, "created": self.clock.now(),
                             "parents": [req.path[p] for p in route.parents]}
            for name, child in collection.embeds.items():  # stored as the child's objects
                self._adopt(req, route, obj_id, obj.pop(name, None) or [], child)
            req.ns.put(self._kind(route), self._key(route.parents, req, obj_id), obj)
        return self._reply(route, self._shape(route, req, obj))

    def _attach(self, route: Route, req: Request):
        """Each element of the body's array becomes an object of the collection (a customer
        given by id, a product put in a group), once: attaching it again changes nothing."""
        collection = self.collections[route.collection]
        field_name = self._attaches(self.contract.operations[route.operation_id], route.schema)
        made = []
        with req.ns.lock:
            self._check_parents(route, req)
            for element in req.body[field_name]:
                given = element if isinstance(element, dict) else \
                    {_singular_field(field_name): element}
                self._check_references(req.ns, given)
                obj_id = given.get(collection.id_field) or self.new_id(route.collection)
                key = self._key(route.parents, req, obj_id)
                obj = req.ns.get(self._kind(route), key)
                if obj is None:
                    obj = self.build(req.ns, collection, collection.schema, given, req.path, obj_id)
                    obj[INTERNAL] = {"archived": False, "created": self.clock.now(),
                                     "parents": [req.path[p] for p in route.parents]}
                    req.ns.put(self._kind(route), key, obj)
                made.append(obj)
        if self._resolve(route.schema).get("type") == "array":
            return self._reply(route, [self._shape(route, req, o, self._items(route.schema))
                                       for o in made])
        return self._list(route, req)

    def _retrieve(self, route: Route, req: Request):
        return self._reply(route, self._shape(route, req, self._find(route, req)))

    def _update(self, route: Route, req: Request):
        collection = self.collections[route.collection]
        with req.ns.lock:
            obj = self._find(route, req)
            self._check_references(req.ns, req.body or {})
            props = (collection.schema or {}).get("properties", {})
            for name, value in (req.body or {}).items():
                if name in props and value is not None:
                    obj[name] = value  # shown through the answer's schema (_shape, _fits)
            if "updated_at" in props:
                obj["updated_at"] = iso(self.clock.now())
            req.ns.save(self._kind(route), self._key(route.parents, req, req.path[route.item]), obj)
        return self._reply(route, self._shape(route, req, obj) if route.schema is not None else None)

    def _delete(self, route: Route, req: Request):
        with req.ns.lock:
            obj = self._find(route, req)
            key = self._key(route.parents, req, req.path[route.item])
            if route.archives:
                obj[INTERNAL]["archived"] = True
                req.ns.save(self._kind(route), key, obj)
            else:
                req.ns.delete(self._kind(route), key)
        return self._reply(route, self._shape(route, req, obj) if route.schema is not None else None)

    def _archive(self, route: Route, req: Request, archived: bool = True):
        with req.ns.lock:
            obj = self._find(route, req)
            obj[INTERNAL]["archived"] = archived
            req.ns.save(self._kind(route), self._key(route.parents, req, req.path[route.item]), obj)
        if route.schema is None:
            return self._reply(route, None)
        return self._reply(route, self._shape(route, req, obj))

    def _unarchive(self, route: Route, req: Request):
        return self._archive(route, req, archived=False)

    def _list(self, route: Route, req: Request):
        self._check_parents(route, req)
        collection = self.collections[route.collection]
        owners = [req.path[p] for p in route.parents]
        props = (collection.schema or {}).get("properties", {})
        archived = req.query.get("archived")
        if archived is None and req.query.get("include_archived"):
            archived = "any"
        bounds = self._bounds(route, req.query, props)
        rows = []
        for obj in reversed(req.ns.values(self._kind(route))):  # newest first on a frozen clock
            if obj[INTERNAL]["parents"] != owners:
                continue
            if archived != "any" and bool(obj[INTERNAL]["archived"]) != bool(archived):
                continue
            if any(name in props and value is not None and obj.get(name) != value
                   for name, value in req.query.items()):
                continue
            if not all(test(obj.get(name)) for name, test in bounds):
                continue
            rows.append(obj)
        rows.sort(key=lambda o: o[INTERNAL]["created"], reverse=True)
        item = self._items(route.schema)
        answer = self.build(req.ns, self.collections[route.collection], route.schema, None,
                            req.path, None)  # what a list says besides its items (a total)
        answer.update(self.style.page([self._shape(route, req, o, item) for o in rows],
                                      req.query, route.collection, route.schema))
        return self._reply(route, answer)

    def _bounds(self, route: Route, query: dict, props: dict) -> list:
        """(field, test) for each range parameter the operation declares and the query gives:
        `created_at_gte` keeps the objects whose `created_at` is at or after it. A date-time
        parameter that is not one is the provider's bad request."""
        tests = []
        for param in self.contract.operations[route.operation_id].params:
            name, raw = param.get("name"), query.get(param.get("name"))
            if param.get("in") != "query" or raw is None:
                continue
            if self._resolve(param.get("schema", {})).get("format") == "date-time":
                try:
                    raw = epoch(raw)
                except (TypeError, ValueError):
                    raise self.style.bad_query(name, raw) from None
            field_name, _, op = name.rpartition("_")
            if op in _RANGES and field_name in props:
                tests.append((field_name, _range(op, raw)))
        return tests

    def _view(self, route: Route, req: Request):
        self._check_parents(route, req)
        if route.schema is None:
            return self._reply(route, None)
        collection = self.collections[route.collection]
        return self._reply(route, self.build(req.ns, collection, route.schema, req.body,
                                             req.path, None))

    # -- building objects from schemas ---------------------------------------------------------
    def build(self, ns, collection: Collection, schema, given, path: dict, obj_id: str | None):
        """An object for `schema`: see the module's docstring for where each value comes from."""
        schema = self._resolve(schema)
        return self._value(ns, collection, schema, given, path, obj_id, "", required=True)

    def _value(self, ns, collection, schema, given, path, obj_id, name, required):
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return None
        for combinator in ("oneOf", "anyOf"):
            if combinator in schema:
                options = [self._resolve(s) for s in schema[combinator]]
                if given is not None:
                    return given
                concrete = [s for s in options if s.get("type") != "null"]
                if len(concrete) < len(options) and not required:
                    return None
                return self._value(ns, collection, concrete[0] if concrete else options[0],
                                   None, path, obj_id, name, required)
        if "allOf" in schema:
            merged: dict = {}
            for part in schema["allOf"]:
                value = self._value(ns, collection, part, given, path, obj_id, name, required)
                if isinstance(value, dict):
                    merged.update(value)
            return merged
        types = schema.get("type")
        types = types if isinstance(types, list) else [types] if types else []
        if isinstance(given, list) and "array" in types:  # each element as the items say
            item = schema.get("items", {})
            return [self._value(ns, collection, item, element, path, None, name, True)
                    for element in given]
        if given is not None and not (isinstance(given, dict) and "object" in types) \
                and _fits(given, schema, types):
            return given
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["default"] if "default" in schema else schema["enum"][0]
        if "default" in schema:
            return schema["default"]
        if "null" in types and not required:
            return None
        kind = next((t for t in types if t != "null"), "object" if "properties" in schema else None)
        if kind == "object":
            return self._object(ns, collection, schema, given or {}, path, obj_id)
        if kind == "array":
            item = self._resolve(schema.get("items", {}))
            if isinstance(item, dict) and "enum" in item:  # e.g. the supported countries
                return list(item["enum"])
            return [self._value(ns, collection, item, None, path, obj_id, name, True)
                    for _ in range(schema.get("minItems", 0))]
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", -1) + 1)
            return max(low, 0) if schema.get("maximum", 0) >= 0 or "maximum" not in schema else low
        if kind == "boolean":
            return False
        if kind == "string":
            return _string(schema, name, self.clock)
        return None

    def _object(self, ns, collection, schema, given, path, obj_id):
        out = {}
        required = set(schema.get("required", ()))
        # The objects the given fields name (a product_id's product): their same-named fields
        # stand where the body says nothing (a group's product shows its name and price).
        named = [ref for ref in (self.style.referenced(ns, name, value)
                                 for name, value in given.items()
                                 if name.endswith("_id") and isinstance(value, str))
                 if isinstance(ref, dict)] if ns is not None else []
        for name, prop in schema.get("properties", {}).items():
            if name in given:
                out[name] = self._value(ns, collection, prop, given[name], path, obj_id, name,
                                        name in required)
                continue
            found = next((ref[name] for ref in named if name in ref and ref[name] is not None),
                         None)
            if found is not None and _fits(found, self._resolve(prop), _types(self._resolve(prop))):
                out[name] = found
                continue
            if obj_id is not None and (name == collection.id_field or _names_itself(name, collection)):
                out[name] = obj_id
                continue
            if name in path:  # the parent's id (product_id of a localized price)
                out[name] = path[name]
                continue
            known = self.style.value(ns, collection.path, name, prop)
            if known is not NotImplemented:
                out[name] = known
                continue
            if name in ("created_at", "updated_at", "timestamp"):
                out[name] = iso(self.clock.now())
                continue
            if name in required and (name == "id" or name.endswith("_id")) \
                    and self._resolve(prop).get("type") == "string" \
                    and "format" not in self._resolve(prop):
                out[name] = self.new_id(self._owner_of(name, collection))
                continue  # an object of its own (a collection's group): a fresh id
            resolved = self._resolve(prop)
            nullable = _nullable(resolved, self._resolve)
            if name not in required and not nullable and "default" not in resolved:
                continue  # optional and never null: left out, as the vendor may
            out[name] = self._value(ns, collection, prop, None, path, obj_id, name,
                                    name in required)
        return out


def _parses(parse):
    def check(text: str) -> bool:
        try:
            parse(text)
        except (TypeError, ValueError):
            return False
        return True
    return check


_FORMATS = {"date-time": _parses(epoch), "uuid": _parses(uuid.UUID)}

_RANGES = {"gte": lambda a, b: a >= b, "lte": lambda a, b: a <= b,
           "gt": lambda a, b: a > b, "lt": lambda a, b: a < b}


def _range(op: str, bound):
    """A test of a field's value (a date-time text or a number) against a bound."""
    def test(value) -> bool:
        if value is None:
            return False
        if isinstance(value, str):
            try:
                value = epoch(value)
            except ValueError:
                return False
        return _RANGES[op](value, bound)
    return test


def kind(collection: str) -> str:
    """The store kind of a collection's objects (what a provider's rules read them by)."""
    return "resource:" + collection


def _is_list(schema, resolve) -> bool:
    """A list envelope: an object whose `items` is an array (Dodo's lists, most REST APIs')."""
    schema = resolve(schema) if isinstance(schema, dict) else None
    if not isinstance(schema, dict):
        return False
    items = schema.get("properties", {}).get("items")
    return isinstance(items, dict) and resolve(items).get("type") == "array"


def _types(schema) -> list:
    types = schema.get("type") if isinstance(schema, dict) else None
    return types if isinstance(types, list) else [types] if types else []


_JSON_TYPES = {"string": str, "boolean": bool, "object": dict, "array": list,
               "integer": int, "number": (int, float)}


def _fits(value, schema: dict, types: list) -> bool:
    """Whether a body's value can stand where the answer's schema has `schema` (the request's
    schema may differ from the answer's: another enum, an object for an id)."""
    if "enum" in schema and value not in schema["enum"]:
        return False
    if not types:
        return True
    if value is None:
        return "null" in types
    if isinstance(value, bool):
        return "boolean" in types
    return any(isinstance(value, _JSON_TYPES[t]) for t in types if t in _JSON_TYPES)


def _nullable(schema: dict, resolve) -> bool:
    types = schema.get("type")
    if types == "null" or (isinstance(types, list) and "null" in types):
        return True
    return any(resolve(s).get("type") == "null"
               for key in ("oneOf", "anyOf") for s in schema.get(key, ()))


def _singular_field(name: str) -> str:
    """"customer_ids" -> "customer_id"."""
    return name[:-1] if name.endswith("_ids") else name


def _names_itself(name: str, collection: Collection) -> bool:
    """Whether a field is the object's own id by another name: an unarchive's `collection_id`
    is the product collection's id (its `product_collection_id`)."""
    own = _singular(collection.path) + "_id"
    return name == own or own.endswith("_" + name)


def _singular(collection: str) -> str:
    last = collection.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
    return last[:-1] if last.endswith("s") else last


def _string(schema: dict, name: str, clock) -> str:
    fmt = schema.get("format")
    if fmt == "date-time":
        return iso(clock.now())
    if fmt == "date":
        return iso(clock.now())[:10]
    if fmt == "uuid":
        return str(uuid.uuid4())
    if fmt in ("uri", "url") or name == "url" or name.endswith("_url"):
        return "https://paymock.invalid/" + (name or "resource")
    if fmt == "email" or name.endswith("email"):
        return "merchant@example.com"
    text = name.replace("_", " ") if name else "value"
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    text = text.ljust(low, "x")
    return text[:high] if high else text
