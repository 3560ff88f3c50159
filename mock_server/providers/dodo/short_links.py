"""A product's short checkout links: `POST /products/{id}/short_links` and
`GET /products/short_links`.

Dodo makes a short URL with the merchant's slug in front of the product's static checkout URL
(`/buy/{product_id}` with the `static_checkout_params` as its query). Here the link is remembered
per merchant and listed (newest first, filtered by `product_id`, paged like every Dodo list); a
slug already used by the merchant is `409` (the spec's "Slug is already taken"; the code is
paymock's choice), an unknown product `404 Product not found`.

Slugs are unique per merchant (namespace), not across the mock: tests that each run in a fresh
merchant may all use the slug "summer". The URLs are shaped like Dodo's on the mock's address;
static checkout pages themselves are not served (see docs/dodo.md).
"""
from __future__ import annotations

from urllib.parse import urlencode

from ...core.clock import iso
from ...core.errors import ApiError
from ...core.request import Request
from ...core.store import Namespace
from ..base import handler
from . import paging
from .errors import not_found
from .products import PRODUCT

SHORT_LINK = "short_link"  # slug -> ShortLinkItem


class ShortLinks:
    def __init__(self, backend, public_url):
        self.backend = backend  # clock
        self.public_url = public_url  # path -> the mock's public URL

    def create(self, ns: Namespace, product_id: str, body: dict) -> dict:
        if ns.get(PRODUCT, product_id) is None:
            raise not_found("Product not found")
        slug = body["slug"]
        params = body.get("static_checkout_params") or {}
        full = self.public_url(f"/checkout/dodo/buy/{product_id}") + (
            "?" + urlencode(params) if params else "")
        link = {"product_id": product_id, "short_url": self.public_url(f"/checkout/dodo/l/{slug}"),
                "full_url": full, "created_at": iso(self.backend.clock.now())}
        with ns.lock:
            if ns.get(SHORT_LINK, slug) is not None:
                raise ApiError(409, "Slug is already taken", "CONFLICT")
            ns.put(SHORT_LINK, slug, link)
        return {"short_url": link["short_url"], "full_url": link["full_url"]}

    def list(self, ns: Namespace, query: dict) -> dict:
        rows = [link for link in reversed(ns.values(SHORT_LINK))
                if query.get("product_id") in (None, link["product_id"])]
        return {"items": paging.page(rows, query)}


class ShortLinkHandlers:
    def __init__(self, links: ShortLinks):
        self.links = links

    @handler("create_short_link_handler")
    def create(self, req: Request):
        return self.links.create(req.ns, req.path["id"], req.body)

    @handler("list_all_short_links_handler")
    def list(self, req: Request):
        return self.links.list(req.ns, req.query)
