"""Waffo's actions, by the operationIds of contracts/waffo/openapi.json.

Each handler takes the pipeline's plain request (the gateway's Caller, the merchant's namespace,
the body the contract already validated) and returns the `data` of Waffo's envelope; the rules
live in `WaffoBackend` (models.py, orders.py).
"""
from __future__ import annotations

from ...core.request import Request
from ..base import handler
from .models import WaffoBackend


class WaffoHandlers:
    def __init__(self, backend: WaffoBackend):
        self.backend = backend

    @handler("createCheckoutSession")
    def create_session(self, req: Request):
        return self.backend.create_session(req.ns, req.caller, req.body)

    @handler("issueSessionToken")
    def issue_session_token(self, req: Request):
        return self.backend.issue_session_token(req.ns, req.caller, req.body)

    @handler("createOnetimeOrder")
    def create_onetime_order(self, req: Request):
        return self.backend.create_order(req.ns, req.caller, req.body, "onetime")

    @handler("createSubscriptionOrder")
    def create_subscription_order(self, req: Request):
        return self.backend.create_order(req.ns, req.caller, req.body, "subscription")

    @handler("cancelOnetimeOrder")
    def cancel_onetime_order(self, req: Request):
        return self.backend.cancel_order(req.ns, req.caller, req.body, "onetime")

    @handler("cancelSubscriptionOrder")
    def cancel_subscription_order(self, req: Request):
        return self.backend.cancel_order(req.ns, req.caller, req.body, "subscription")

    @handler("reactivateSubscriptionOrder")
    def reactivate_subscription_order(self, req: Request):
        return self.backend.orders.reactivate(req.ns, req.caller, req.body["orderId"])


class GraphQLHandlers:
    """`/v1/graphql`. Its module (graphql_api.py, and graphql-core under it) is loaded by the
    first query: an idle server that is never asked one does not hold it."""

    def __init__(self, clock, registry, outbox):
        self._args = (clock, registry, outbox)
        self._api = None

    @handler("graphql")
    def graphql(self, req: Request):
        if self._api is None:
            from .graphql_api import GraphQLApi
            self._api = GraphQLApi(*self._args)
        return self._api.answer(req.ns, req.caller, req.body)
