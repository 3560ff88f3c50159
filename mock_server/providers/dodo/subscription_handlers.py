"""Dodo's subscription operations, by the operationIds of contracts/dodo/openapi.json; the rules
live in subscriptions.py (reading, PATCH), subscription_renewals.py (payment methods) and
payment_retries.py (manual retries of a failed renewal), subscription_plans.py (plan changes) and
subscription_charges.py (on-demand charges, usage)."""
from __future__ import annotations

from ...core.request import Reply, Request
from ..base import handler
from .products import PRODUCT


class SubscriptionHandlers:
    def __init__(self, backend):
        self.backend = backend

    @handler("get_subscription_handler")
    def get(self, req: Request):
        return self.backend.subscriptions.get(req.ns, req.path["subscription_id"])

    @handler("list_subscriptions_handler")
    def list(self, req: Request):
        return self.backend.subscriptions.list(req.ns, req.query)

    @handler("patch_subscription_handler")
    def patch(self, req: Request):
        return self.backend.subscriptions.patch(req.ns, req.path["subscription_id"], req.body)

    @handler("update")  # POST /subscriptions/{subscription_id}/update-payment-method
    def update_payment_method(self, req: Request):
        # The body is the method itself ({"type": "new" | "existing", ...}): the SDK sends its
        # `payment_method` argument as the whole body, as the spec declares.
        return self.backend.renewals.update_payment_method(
            req.ns, req.path["subscription_id"], req.body)

    @handler("get_payment_retry_state_handler")  # GET /payments/{payment_id}/retry (SDK only)
    def retry_state(self, req: Request):
        return self.backend.retries.state(req.ns, req.path["payment_id"])

    @handler("retry_payment_handler")  # POST /payments/{payment_id}/retry (SDK only)
    def retry(self, req: Request):
        return self.backend.retries.retry(req.ns, req.path["payment_id"])

    @handler("update_subscription_plan_handler")  # POST .../change-plan
    def change_plan(self, req: Request):
        return self.backend.plans.change(req.ns, req.path["subscription_id"], req.body)

    @handler("delete_scheduled_plan_change_handler")  # DELETE .../change-plan/scheduled
    def cancel_scheduled_plan(self, req: Request):
        self.backend.plans.cancel_scheduled(req.ns, req.path["subscription_id"])
        return Reply(None, 204)

    @handler("change_plan_preview_handler")  # POST .../change-plan/preview
    def preview_plan(self, req: Request):
        return self.backend.plans.preview(req.ns, req.path["subscription_id"], req.body)

    @handler("create_subscription_charge")  # POST .../charge (on demand)
    def charge(self, req: Request):
        return self.backend.charges.charge(req.ns, req.path["subscription_id"], req.body)

    @handler("get_subscription_credit_usage_handler")  # GET .../credit-usage
    def credit_usage(self, req: Request):
        sub = self.backend.subscriptions.find(req.ns, req.path["subscription_id"])
        product = req.ns.read(PRODUCT, sub["product_id"])
        return self.backend.credit_ledger.subscription_usage(req.ns, sub, product)

    @handler("list_usage_history_handler")  # GET .../usage-history
    def usage_history(self, req: Request):
        return self.backend.charges.usage_history(req.ns, req.path["subscription_id"], req.query)
