"""The catalog's format: `fixtures/catalog.schema.json` (JSON Schema 2020-12), and what a schema
cannot say (ids unique; a Waffo product's store, a store's merchant and a discount's products
present). Used on a user's catalog file at start (fixtures.load) and on each product the control
API adds (`POST /_mock/<provider>/products`). jsonschema is imported by the first check: the
packaged catalog starts without it."""
from __future__ import annotations

import json
from functools import lru_cache

from .. import resources

SCHEMA = "catalog.schema.json"  # under the fixtures folder


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    schema = json.loads((resources.fixtures() / SCHEMA).read_text(encoding="utf-8"))
    return jsonschema, schema


def _first_problem(schema: dict, instance, base: list) -> str | None:
    jsonschema, _ = _validator()
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    if error is None:
        return None
    return f"{pointer([*base, *error.absolute_path])}: {error.message}"


def check(catalog) -> str | None:
    """What is wrong with a catalog, as "<JSON pointer>: <problem>" (None: nothing)."""
    _, schema = _validator()
    return _first_problem(schema, catalog, []) or _references(catalog)


def check_object(definition: str, obj, where: list | None = None) -> str | None:
    """What is wrong with one object of the catalog (`definition`: a name under the schema's
    $defs, e.g. "dodoProduct"), as "<pointer>: <problem>"."""
    _, schema = _validator()
    one = {"$schema": schema["$schema"], "$defs": schema["$defs"],
           "$ref": f"#/$defs/{definition}"}
    return _first_problem(one, obj, where or [])


def pointer(parts) -> str:
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts) \
        if parts else "/"


def _references(catalog: dict) -> str | None:
    ids = {
        "dodo": [("products", "product_id"), ("customers", "customer_id"),
                 ("discounts", "discount_id"), ("discounts", "code")],
        "waffo": [("merchants", "merchantId"), ("stores", "id"), ("stores", "slug"),
                  ("products", "id")],
    }
    for provider, fields in ids.items():
        section = catalog.get(provider) or {}
        for kind, field in fields:
            seen = set()
            for index, obj in enumerate(section.get(kind) or ()):
                if obj[field] in seen:
                    return (f"{pointer([provider, kind, index, field])}: {obj[field]!r} is used "
                            f"by another of the {kind}")
                seen.add(obj[field])
    waffo = catalog.get("waffo") or {}
    merchants = {m["merchantId"] for m in waffo.get("merchants") or ()}
    stores = {s["id"] for s in waffo.get("stores") or ()}
    for index, store in enumerate(waffo.get("stores") or ()):
        if store["merchantId"] not in merchants:
            return (f"{pointer(['waffo', 'stores', index, 'merchantId'])}: no merchant "
                    f"{store['merchantId']!r} in /waffo/merchants")
    for index, product in enumerate(waffo.get("products") or ()):
        if product["storeId"] not in stores:
            return (f"{pointer(['waffo', 'products', index, 'storeId'])}: no store "
                    f"{product['storeId']!r} in /waffo/stores")
    dodo = catalog.get("dodo") or {}
    products = {p["product_id"] for p in dodo.get("products") or ()}
    for index, discount in enumerate(dodo.get("discounts") or ()):
        for position, product_id in enumerate(discount.get("restricted_to") or ()):
            if product_id not in products:
                return (f"{pointer(['dodo', 'discounts', index, 'restricted_to', position])}: "
                        f"no product {product_id!r} in /dodo/products")
    return None


