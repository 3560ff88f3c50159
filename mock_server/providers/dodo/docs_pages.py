"""The API's own documentation pages (`/docs`, `/docs/`, `/docs/openapi.json`, and the same under
`/customer-portal`, `/dashboard`, `/superadmin`, `/unified-customer-portal`), which the vendor's
spec lists without an answer schema and without a key.

`/docs/openapi.json` is the contract paymock serves (what a client generator or a contract test
should read from the mock); the pages are a short HTML page pointing at it. The other areas are
APIs of the vendor's dashboard and its own staff, which no merchant key reaches: their pages say
so, and their openapi.json is a valid document with no operation.
"""
from __future__ import annotations

import html

import orjson

from ...core.contracts import document_file
from ...core.request import Reply
from ..base import handler

AREAS = {"api": "", "customer_portal": "/customer-portal", "dashboard": "/dashboard",
         "superadmin": "/superadmin", "unified_customer_portal": "/unified-customer-portal"}


class DocsPages:
    def __init__(self, contract, mount: str):
        self.contract = contract
        self.mount = mount

    def page(self, area: str) -> Reply:
        prefix = AREAS[area]
        if area == "api":
            text = ("paymock serves the Dodo Payments API here, from the contract "
                    f"<a href=\"{self.mount}/docs/openapi.json\">openapi.json</a> "
                    f"({len(self.contract.operations)} operations).")
        else:
            text = (f"The {html.escape(area.replace('_', ' '))} API ({html.escape(prefix)}) is "
                    "not reachable with a merchant's key and is not emulated by paymock.")
        body = (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Dodo "
                f"Payments API (paymock)</title></head><body><h1>Dodo Payments API</h1><p>{text}"
                "</p></body></html>")
        return Reply(body.encode(), content_type="text/html; charset=utf-8")

    def document(self, area: str) -> Reply:
        if area == "api":  # the file, prose included (the loaded contract drops it)
            return Reply(document_file("dodo").read_bytes(), content_type="application/json")
        empty = {"openapi": "3.1.0", "paths": {},
                 "info": {"title": f"Dodo Payments {area.replace('_', ' ')} API (not emulated by "
                                   "paymock)", "version": self.contract.document["info"]["version"]}}
        return Reply(orjson.dumps(empty), content_type="application/json")


def _pages(area: str):
    def page(self, req):
        return self.docs.page(area)

    def index(self, req):
        return self.docs.page(area)

    def document(self, req):
        return self.docs.document(area)

    return (handler(f"{area}_docs")(page), handler(f"{area}_docs_index")(index),
            handler(f"{area}_docs_openapi")(document))


class DocsHandlers:
    def __init__(self, docs: DocsPages):
        self.docs = docs


for _area in AREAS:  # three operations per area, all alike
    for _name, _method in zip(("docs", "docs_index", "docs_openapi"), _pages(_area)):
        setattr(DocsHandlers, f"{_area}_{_name}", _method)
