"""Dodo's operations, by the operationIds of contracts/dodo/openapi.json.

Each handler takes the pipeline's plain request (namespace, path and query parameters, the body
the contract already validated) and returns the answer's data; the rules live in `DodoBackend`
(models.py) and `DodoPayments` (payments.py).
"""
from __future__ import annotations

from ...core.request import Reply, Request
from ..base import handler
from .models import DodoBackend


class DodoHandlers:
    def __init__(self, backend: DodoBackend):
        self.backend = backend

    @handler("create_session")
    def create_session(self, req: Request):
        return self.backend.create_session(req.ns, req.body)

    @handler("preview_session")
    def preview_session(self, req: Request):
        return self.backend.preview_session(req.ns, req.body)

    @handler("get_checkout_sessions_status")
    def session_status(self, req: Request):
        return self.backend.session_status(req.ns, req.path["id"])

    @handler("list_products_handler")
    def list_products(self, req: Request):
        return self.backend.products.list(req.ns, req.query)

    @handler("get_product_handler")
    def get_product(self, req: Request):
        return self.backend.products.get(req.ns, req.path["id"])

    @handler("create_product")
    def create_product(self, req: Request):
        return self.backend.products.create(req.ns, req.body)

    @handler("patch_product")
    def patch_product(self, req: Request):
        return self.backend.products.patch(req.ns, req.path["id"], req.body)

    @handler("delete_product")
    def archive_product(self, req: Request):
        self.backend.products.archive(req.ns, req.path["id"])
        return Reply(None, no_body=True)

    @handler("undelete_product")
    def unarchive_product(self, req: Request):
        self.backend.products.unarchive(req.ns, req.path["id"])
        return Reply(None, no_body=True)

    @handler("create_customer")
    def create_customer(self, req: Request):
        return self.backend.create_customer(req.ns, req.body)

    @handler("list_customers")
    def list_customers(self, req: Request):
        return self.backend.list_customers(req.ns, req.query)

    @handler("patch_customer")
    def patch_customer(self, req: Request):
        return self.backend.patch_customer(req.ns, req.path["customer_id"], req.body)

    @handler("get_customer_handler")
    def get_customer(self, req: Request):
        return self.backend.get_customer(req.ns, req.path["customer_id"])

    @handler("list_discounts_handler")
    def list_discounts(self, req: Request):
        return self.backend.discounts.list(req.ns, req.query)

    @handler("get_discount_handler")
    def get_discount(self, req: Request):
        return self.backend.discounts.get(req.ns, req.path["discount_id"])

    @handler("get_discount_by_code_handler")
    def get_discount_by_code(self, req: Request):
        return self.backend.discounts.by_code(req.ns, req.path["code"])

    @handler("create_discount_handler")
    def create_discount(self, req: Request):
        return self.backend.discounts.create(req.ns, req.body)

    @handler("patch_discount_handler")
    def patch_discount(self, req: Request):
        return self.backend.discounts.patch(req.ns, req.path["discount_id"], req.body)

    @handler("delete_discount_handler")
    def delete_discount(self, req: Request):
        self.backend.discounts.delete(req.ns, req.path["discount_id"])
        return Reply(None, 204, no_body=True)

    @handler("list_payments_handler")
    def list_payments(self, req: Request):
        return self.backend.payments.list(req.ns, req.query)

    @handler("get_payment_handler")
    def get_payment(self, req: Request):
        return self.backend.payments.get(req.ns, req.path["payment_id"])
