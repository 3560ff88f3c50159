"""Dodo's customer operations beyond the customer object itself: saved payment methods
(payment_methods.py) and customer portal sessions (customer_portal.py)."""
from __future__ import annotations

from ...core.request import Reply, Request
from ..base import handler


class CustomerHandlers:
    def __init__(self, backend):
        self.backend = backend

    @handler("get_customer_payment_methods")
    def payment_methods(self, req: Request):
        return self.backend.payment_methods.list(req.ns, req.path["customer_id"])

    @handler("delete_customer_payment_method")
    def delete_payment_method(self, req: Request):
        self.backend.payment_methods.delete(req.ns, req.path["customer_id"],
                                            req.path["payment_method_id"])
        return Reply(None, 204, no_body=True)

    @handler("create_customer_portal_session")
    def portal_session(self, req: Request):
        return self.backend.portal.create_session(req.ns, req.path["customer_id"], req.query)
