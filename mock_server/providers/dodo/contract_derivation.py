"""Derive contracts/dodo/openapi.json from the vendor's published Dodo Payments spec.

It ships in the package because `paymock contract diff` re-derives with it to tell the overlay's
intended differences from drift; `tools/derive_dodo_contract.py` runs it to regenerate the contract.

Rather than retyping the vendor's schemas (and drifting from them), this script copies every
operation of the vendor's spec (and the SDK's own few), with every schema they reference, and lays
paymock's overlay on top: the error envelope the API really sends (the vendor
spec declares none), the statuses paymock documents, and the limits the vendor documents only in
prose (cart size, metadata keys, ...). Each overlay item is listed below with its reason, and
`paymock contract diff` (and tests/contract_kit/test_diff.py) report them as deliberate differences.
"""
from __future__ import annotations

import copy

# (path, method) -> statuses paymock answers besides the vendor's own.
OPERATIONS = {
    ("/checkouts", "post"): ["401", "422"],
    ("/checkouts/preview", "post"): ["401", "422"],
    ("/checkouts/{id}", "get"): ["401", "404"],
    ("/products", "get"): ["401", "422"],
    ("/products", "post"): ["401", "422"],
    ("/products/{id}", "get"): ["401", "404"],
    ("/products/{id}", "patch"): ["401", "404", "422"],
    ("/products/{id}", "delete"): ["401", "404", "410"],
    ("/products/{id}/unarchive", "post"): ["401", "404"],
    ("/customers", "get"): ["401", "422"],
    ("/customers", "post"): ["401", "422"],
    ("/customers/{customer_id}", "get"): ["401", "404"],
    ("/customers/{customer_id}", "patch"): ["401", "404", "422"],
    ("/customers/{customer_id}/payment-methods", "get"): ["401", "404"],
    ("/customers/{customer_id}/payment-methods/{payment_method_id}", "delete"): ["401", "404"],
    ("/customers/{customer_id}/customer-portal/session", "post"): ["401", "404"],
    ("/discounts", "get"): ["401", "422"],
    ("/discounts", "post"): ["401", "409", "422"],
    ("/discounts/{discount_id}", "get"): ["401", "404"],
    ("/discounts/{discount_id}", "patch"): ["401", "404", "409", "422"],
    ("/discounts/{discount_id}", "delete"): ["401", "404"],
    ("/discounts/code/{code}", "get"): ["401", "404"],
    ("/payments", "get"): ["401", "422"],
    ("/payments/{payment_id}", "get"): ["401", "404"],
    ("/webhooks", "get"): ["401", "422"],
    ("/webhooks", "post"): ["401", "422"],
    ("/webhooks/{webhook_id}", "get"): ["401", "404"],
    ("/webhooks/{webhook_id}", "patch"): ["401", "404", "422"],
    ("/webhooks/{webhook_id}", "delete"): ["401", "404"],
    ("/webhooks/{webhook_id}/headers", "get"): ["401", "404"],
    ("/webhooks/{webhook_id}/headers", "patch"): ["401", "404", "422"],
    ("/webhooks/{webhook_id}/secret", "get"): ["401", "404"],
    ("/refunds", "post"): ["401", "404", "422"],
    ("/refunds", "get"): ["401", "422"],
    ("/refunds/{refund_id}", "get"): ["401", "404"],
    ("/disputes", "get"): ["401", "422"],
    ("/disputes/{dispute_id}", "get"): ["401", "404"],
    ("/payouts", "get"): ["401", "422"],
    ("/invoices/payments/{payment_id}", "get"): ["401", "404"],
    ("/invoices/refunds/{refund_id}", "get"): ["401", "404"],
    ("/license_keys", "get"): ["401", "422"],
    ("/license_keys", "post"): ["401"],
    ("/license_keys/{id}", "get"): ["401"],
    ("/license_keys/{id}", "patch"): ["401"],
    ("/license_key_instances", "get"): ["401", "422"],
    ("/license_key_instances/{id}", "get"): ["401"],
    ("/license_key_instances/{id}", "patch"): ["401", "422"],
    # Public (the vendor declares no `security`): no API key, so no 401.
    ("/licenses/activate", "post"): [],
    ("/licenses/validate", "post"): [],
    ("/licenses/deactivate", "post"): ["422"],
    ("/subscriptions", "get"): ["401", "422"],
    ("/subscriptions/{subscription_id}", "get"): ["401", "404"],
    ("/subscriptions/{subscription_id}", "patch"): ["401", "404", "422"],
    ("/subscriptions/{subscription_id}/update-payment-method", "post"): ["401", "404", "422"],
    ("/subscriptions/{subscription_id}/change-plan", "post"): ["401", "404", "409", "422"],
    ("/subscriptions/{subscription_id}/change-plan/preview", "post"): ["401", "404", "409", "422"],
    ("/subscriptions/{subscription_id}/change-plan/scheduled", "delete"): ["401"],
    ("/subscriptions/{subscription_id}/charge", "post"): ["401", "404", "422"],
    ("/subscriptions/{subscription_id}/usage-history", "get"): ["401", "404", "422"],
    ("/payments/{payment_id}/retry", "get"): ["401", "404"],
    ("/payments/{payment_id}/retry", "post"): ["401", "404", "422"],
    ("/credit-entitlements", "get"): ["401", "422"],
    ("/credit-entitlements", "post"): ["401", "409"],
    ("/credit-entitlements/{id}", "get"): ["401"],
    ("/credit-entitlements/{id}", "patch"): ["401", "409", "410"],
    ("/credit-entitlements/{id}", "delete"): ["401"],
    ("/credit-entitlements/{id}/undelete", "post"): ["401", "404", "409"],
    ("/credit-entitlements/{credit_entitlement_id}/balances", "get"): ["401", "422"],
    ("/credit-entitlements/{credit_entitlement_id}/balances/{customer_id}", "get"): ["401"],
    ("/credit-entitlements/{credit_entitlement_id}/balances/{customer_id}/grants", "get"):
        ["401", "422"],
    ("/credit-entitlements/{credit_entitlement_id}/balances/{customer_id}/ledger", "get"):
        ["401", "422"],
    ("/credit-entitlements/{credit_entitlement_id}/balances/{customer_id}/ledger-entries",
     "post"): ["401", "410", "422"],
    ("/customers/{customer_id}/credit-entitlements", "get"): ["401", "404"],
}

DESCRIPTIONS = {
    "400": "Bad Request",
    "401": "Missing or invalid API key",
    "403": "Forbidden",
    "404": "Resource not found",
    "409": "Conflict with the resource's current state",
    "410": "Gone",
    "413": "Payload too large",
    "422": "Invalid Request Object or Parameters",
    "429": "Too many requests",
    "500": "Something went wrong :(",
    "502": "Bad gateway",
    "503": "Service unavailable",
}

# The body paymock sends for each status when a fault rule asks for it (fault injection reads
# these examples), matching what the server itself answers.
EXAMPLES = {
    "400": {"code": "BAD_REQUEST", "message": "Bad request"},
    "401": {"code": "UNAUTHORIZED",
            "message": "Missing or invalid API key: send `Authorization: Bearer <API key>`"},
    "403": {"code": "FORBIDDEN", "message": "Forbidden"},
    "404": {"code": "NOT_FOUND", "message": "Checkout session not found"},
    "409": {"code": "CONFLICT", "message": "Conflict with the resource's current state"},
    "410": {"code": "GONE", "message": "The resource is gone"},
    "413": {"code": "PAYLOAD_TOO_LARGE", "message": "The request body is too large"},
    "422": {"code": "INVALID_REQUEST_BODY", "message": "Invalid Request Object or Parameters"},
    "429": {"code": "TOO_MANY_REQUESTS", "message": "Too many requests"},
    "500": {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"},
    # GET /customers/{id}/payment-methods's documented 502 (only when a fault rule asks).
    "502": {"code": "BAD_GATEWAY",
            "message": "The payment method service is unavailable. Retry later."},
    # The webhook operations' documented 503 (paymock answers it only when a fault rule asks).
    "503": {"code": "SERVICE_UNAVAILABLE",
            "message": "Webhook configuration temporarily frozen during instance migration"},
}
NOT_FOUND_MESSAGES = {"/products/{id}": "Product not found",
                      "/products/{id}/unarchive": "Product not found", "/customers/{customer_id}": "Customer not found",
                      "/customers/{customer_id}/payment-methods": "Customer not found",
                      "/customers/{customer_id}/payment-methods/{payment_method_id}":
                          "Payment method not found",
                      "/customers/{customer_id}/customer-portal/session": "Customer not found",
                      "/discounts/code/{code}": "Discount not found",
                      "/discounts/{discount_id}": "Discount not found",
                      "/payments/{payment_id}": "Payment not found",
                      "/webhooks/{webhook_id}": "Webhook not found",
                      "/webhooks/{webhook_id}/headers": "Webhook not found",
                      "/webhooks/{webhook_id}/secret": "Webhook not found",
                      "/refunds": "Payment not found", "/refunds/{refund_id}": "Refund not found",
                      "/disputes/{dispute_id}": "Dispute not found",
                      "/invoices/payments/{payment_id}": "Payment not found",
                      "/invoices/refunds/{refund_id}": "Refund not found",
                      "/license_keys": "Customer not found",
                      "/license_keys/{id}": "License key not found",
                      "/license_key_instances/{id}": "License key instance not found",
                      "/licenses/activate": "License key not found",
                      "/licenses/deactivate": "License key not found",
                      "/subscriptions/{subscription_id}": "Subscription not found",
                      "/subscriptions/{subscription_id}/update-payment-method":
                          "Subscription not found",
                      "/payments/{payment_id}/retry": "Payment not found",
                      "/subscriptions/{subscription_id}/change-plan": "Subscription not found",
                      "/subscriptions/{subscription_id}/change-plan/preview":
                          "Subscription not found",
                      "/subscriptions/{subscription_id}/change-plan/scheduled":
                          "No scheduled plan change found",
                      "/subscriptions/{subscription_id}/charge": "Subscription not found",
                      "/subscriptions/{subscription_id}/usage-history": "Subscription not found",
                      "/credit-entitlements/{id}": "Credit entitlement not found",
                      "/credit-entitlements/{id}/undelete": "Credit entitlement not found",
                      "/credit-entitlements/{credit_entitlement_id}/balances":
                          "Credit entitlement not found",
                      "/credit-entitlements/{credit_entitlement_id}/balances/{customer_id}":
                          "Credit entitlement not found",
                      "/credit-entitlements/{credit_entitlement_id}/balances/{customer_id}/grants":
                          "Credit entitlement not found",
                      "/credit-entitlements/{credit_entitlement_id}/balances/{customer_id}/ledger":
                          "Credit entitlement not found",
                      "/credit-entitlements/{credit_entitlement_id}/balances/{customer_id}/"
                      "ledger-entries": "Credit entitlement not found",
                      "/customers/{customer_id}/credit-entitlements": "Customer not found"}

ERROR_SCHEMA = {
    "type": "object",
    "title": "Error",
    "description": "Dodo's error envelope (documented, not declared in the vendor spec).",
    "required": ["code", "message"],
    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
}


def _tighten(schemas: dict) -> None:
    """Limits the vendor documents in prose only; `x-paymock-error` names the error code to send."""
    req = schemas["CreateCheckoutSessionRequest"]["properties"]
    # No minItems: an empty cart is valid for a product collection's checkout (SDK 1.118 on);
    # without a collection the rules answer Dodo's PRODUCT_CART_EMTPY.
    req["product_cart"].update(
        maxItems=20,
        **{"x-paymock-error": {"maxItems": ["INVALID_REQUEST_BODY", "product_cart can hold at most 20 items"]}},
    )
    req["discount_codes"].update(maxItems=20)
    schemas["CustomFields"]["maxItems"] = 5
    # (Its values' oneOf [string, integer, number, boolean] becomes anyOf: see
    # loosen_ambiguous_one_of, which the live API's acceptance of integers asks for.)
    meta = schemas["Metadata"]
    meta["maxProperties"] = 50
    meta["x-paymock-error"] = {
        "maxProperties": ["MAXIMUM_KEYS_REACHED", "metadata can hold at most 50 keys"],
    }
    refund = schemas.get("CreateRefundRequest")
    if refund is not None:  # "Maximum length is 3000 characters" (the field's description)
        refund["properties"]["reason"]["maxLength"] = 3000
    trial = schemas["SubscriptionData"]["properties"]["trial_period_days"]
    trial.update(minimum=0, maximum=10000)
    loosen_ambiguous_one_of(schemas, schemas)


def loosen_ambiguous_one_of(node, schemas: dict) -> None:
    """oneOf where the vendor means anyOf: an object branch that requires nothing
    (IntegrationConfig's "License Key Config") matches every object a second time, and an
    integer matches both `integer` and `number` (EventMetadata's values), so oneOf refuses
    values the live API takes, the vendor's own examples included."""
    if isinstance(node, list):
        for item in node:
            loosen_ambiguous_one_of(item, schemas)
        return
    if not isinstance(node, dict):
        return
    branches = node.get("oneOf")
    if isinstance(branches, list):
        resolved = [schemas.get(b["$ref"].rsplit("/", 1)[1], {}) if "$ref" in b else b
                    for b in branches if isinstance(b, dict)]
        objects = [b for b in resolved if b.get("type") == "object"]
        types = {b.get("type") for b in resolved}
        if (len(objects) > 1 and any(not b.get("required") for b in objects)) \
                or {"integer", "number"} <= types:  # an integer is a number too
            node["anyOf"] = node.pop("oneOf")
    for value in node.values():
        loosen_ambiguous_one_of(value, schemas)


# Fields the current Python SDK (1.123.0) sends that the current spec (1.113.0) does not declare
# yet: the SDK's types (dodopayments/types/checkout_session_flags_param.py) are the source, their
# descriptions are the SDK's. Declared so that validation and Schemathesis know them.
SDK_FLAGS = {
    "require_cardholder_name": "If true, the customer must give the name on the card to pay by "
    "card. Apple Pay and Google Pay also collect the payer name, and the payment stores it as the "
    "card holder name. The checkout page enforces this. Other payment methods ignore it.\n\n"
    "Default is false (SDK 1.123.0; not in spec 1.113.0)",
    "require_tax_id": "If true, the customer must give a tax id to check out as a business. A tax "
    "id is the GST number in India, or the VAT number in the EU. You must also set `allow_tax_id` "
    "to true.\n\nA `confirm: true` request skips the checkout page. The request must contain "
    "`tax_id`.\n\nDefault is false (SDK 1.123.0; not in spec 1.113.0)",
}


# The preview's fields SDK 1.123.0 reads (types/checkout_session_preview_response.py), for carts
# that mix one-time products and subscriptions; descriptions are the SDK's.
SDK_PREVIEW = {
    "payment_method_required": {
        "type": "boolean",
        "description": "False when the customer can confirm this session with no card. True for "
        "every other cart, including a one-time cart. (SDK 1.123.0; not in spec 1.113.0)"},
    "subscriptions": {
        "type": ["array", "null"],
        "description": "One entry for each subscription of a cart that holds more than one. Each "
        "subscription renews on its own schedule. (SDK 1.123.0; not in spec 1.113.0)",
        "items": {
            "type": "object", "title": "CalculatedSubscription",
            "required": ["amount_due_now", "product_id", "recurring_amount"],
            "properties": {
                "amount_due_now": {"type": "integer", "description": "The amount this "
                                   "subscription charges today, including tax."},
                "product_id": {"type": "string", "description": "The subscription product."},
                "recurring_amount": {"type": "integer", "description": "The amount of each "
                                     "renewal, including tax."},
                "next_billing_date": {"type": ["string", "null"], "format": "date-time",
                                      "description": "A preview of the first renewal date."},
                "recurring_tax": {"type": ["integer", "null"]},
                "tax_due_now": {"type": ["integer", "null"]},
                "trial_period_days": {"type": ["integer", "null"]},
            }}},
}
SDK_PREVIEW_ITEM = {
    "monthly_equivalent": {
        "type": ["integer", "null"],
        "description": "The monthly equivalent of the yearly unit price after discounts; only "
        "the hosted checkout sets it, for display. (SDK 1.123.0; not in spec 1.113.0)"},
}


def _sdk_fields(schemas: dict) -> None:
    flags = schemas["CheckoutSessionFlags"]["properties"]
    for name, description in SDK_FLAGS.items():
        flags.setdefault(name, {"type": "boolean", "description": description})
    preview = schemas["CalculateSessionResponse"]
    for name, schema in SDK_PREVIEW.items():
        preview["properties"].setdefault(name, copy.deepcopy(schema))
    if "payment_method_required" not in preview["required"]:
        preview["required"].append("payment_method_required")
    item = schemas["CalculatedProductCartItem"]["properties"]
    for name, schema in SDK_PREVIEW_ITEM.items():
        item.setdefault(name, copy.deepcopy(schema))
    # A webhook's filter_types take the SDK's event types (types/webhook_event_type.py), which
    # include the events of SDK_EVENTS that the spec's EventType enum lacks.
    event_type = schemas.get("EventType")
    if event_type is not None:
        event_type["enum"] += [e for e in SDK_EVENTS if e not in event_type["enum"]]
    # dodopayments/types/refund_create_params.py: `currency`, the currency of items[].amount.
    refund = schemas.get("CreateRefundRequest")
    if refund is not None:
        refund["properties"].setdefault("currency", {"oneOf": [
            {"type": "null"}, {"$ref": "#/components/schemas/Currency"}],
            "description": "The currency of every `items[].amount`. It must be the currency the "
            "customer paid in. Without it, the amounts are in the settlement currency (SDK "
            "1.123.0; not in spec 1.113.0)"})
    _sdk_subscription(schemas)


# What SDK 1.123.0's types/subscription.py (and its enums) add to spec 1.113.0's subscription:
# the `past_due` status (a renewal failed inside the grace period), who cancelled it, whether a
# payment method is saved; the cancel reason and dunning trigger of the grace period's end.
SDK_SUBSCRIPTION_FIELDS = {
    "cancelled_by": {"oneOf": [{"type": "null"}, {
        "type": "object", "title": "SubscriptionCancelledBy", "required": ["actor_type"],
        "description": "The caller that cancelled a subscription or scheduled its cancel; null "
        "when no caller is known (the system cancelled it). SDK 1.123.0; not in spec 1.113.0",
        "properties": {
            "actor_type": {"type": "string",
                           "enum": ["customer", "merchant_user", "api_key", "dodo_team"]},
            "email": {"type": ["string", "null"]}, "name": {"type": ["string", "null"]}}}]},
    "has_payment_method": {"type": "boolean", "description": "False while a card-optional "
                           "subscription waits for the customer to add one (SDK 1.123.0)"},
}


def _sdk_subscription(schemas: dict) -> None:
    if "SubscriptionResponse" not in schemas:
        return
    status = schemas["SubscriptionStatus"]["enum"]
    if "past_due" not in status:
        status.append("past_due")
    for name in ("SubscriptionResponse", "SubscriptionListResponseItem"):
        if name in schemas:
            for field, schema in SDK_SUBSCRIPTION_FIELDS.items():
                schemas[name]["properties"].setdefault(field, copy.deepcopy(schema))
    for enum_name, value in (("CancelReason", "cancelled_by_merchant_grace_period_expired"),
                             ("ProrationBillingMode", "prorated_immediately_keep_cycle"),
                             ("DunningEmailSequenceType", "past_due")):
        if enum_name in schemas and value not in schemas[enum_name]["enum"]:
            schemas[enum_name]["enum"].append(value)


# Operations SDK 1.123.0 calls that spec 1.113.0 does not declare (resources/payments.py
# `retrieve_retry_state` and `retry`: a manual retry of a failed subscription renewal), with the
# SDK's response types (types/manual_retry_state.py, types/manual_retry.py). The operationIds are
# paymock's, in the vendor's naming style.
_PAYMENT_ID = [{"name": "payment_id", "in": "path", "required": True, "description": "Payment Id",
                "schema": {"type": "string"}}]
SDK_OPERATIONS = {
    ("/payments/{payment_id}/retry", "get"): {
        "tags": ["Payments"], "operationId": "get_payment_retry_state_handler",
        "description": "Whether a failed renewal payment can be retried by hand now (SDK 1.123.0; "
        "not in spec 1.113.0)", "parameters": _PAYMENT_ID,
        "responses": {"200": {"description": "Manual retry state", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ManualRetryState"}}}}}},
    ("/payments/{payment_id}/retry", "post"): {
        "tags": ["Payments"], "operationId": "retry_payment_handler",
        "description": "Charge a failed renewal's invoice again with the saved payment method "
        "(SDK 1.123.0; not in spec 1.113.0)", "parameters": _PAYMENT_ID,
        "responses": {"200": {"description": "The new payment", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ManualRetry"}}}}}},
}
_TIME = {"type": ["string", "null"], "format": "date-time"}
SDK_SCHEMAS = {
    "ManualRetryState": {
        "type": "object", "required": ["can_retry", "sends_allowed", "sends_used"],
        "properties": {
            "can_retry": {"type": "boolean"}, "sends_allowed": {"type": "integer"},
            "sends_used": {"type": "integer"},
            "automatic_retry_number": {"type": ["integer", "null"]},
            "automatic_retry_total": {"type": ["integer", "null"]},
            "next_automatic_retry_at": _TIME,
            "reason": {"type": ["string", "null"],
                       "description": "The code POST would fail with; null when can_retry"},
            "retry_available_at": _TIME}},
    "ManualRetry": {
        "type": "object",
        "required": ["invoice_id", "is_manual_retry", "payment_id", "retry_attempt",
                     "sends_allowed", "sends_used"],
        "properties": {
            "invoice_id": {"type": "string"}, "is_manual_retry": {"type": "boolean"},
            "payment_id": {"type": "string"}, "retry_attempt": {"type": "integer"},
            "sends_allowed": {"type": "integer"}, "sends_used": {"type": "integer"},
            "retry_available_at": _TIME,
            "status": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/IntentStatus"}]}}},
}


# Event types SDK 1.123.0 sends that spec 1.113.0 does not document yet, with the payload of an
# event they are siblings of (dodopayments/types/subscription_past_due_webhook_event.py: data is a
# Subscription, like every subscription.* event).
SDK_EVENTS = {"subscription.past_due": "subscription.on_hold"}


def _webhooks(vendor: dict) -> dict:
    """Every event the vendor documents (OpenAPI 3.1 `webhooks`), so that tests check the data
    the mock sends against the vendor's schema for that event, plus the SDK's newer ones."""
    webhooks = copy.deepcopy(vendor.get("webhooks", {}))
    for event, like in SDK_EVENTS.items():
        if event not in webhooks and like in webhooks:
            item = copy.deepcopy(webhooks[like])
            body = item["post"]["requestBody"]["content"]["application/json"]
            body.pop("example", None)
            body["schema"]["properties"]["type"]["enum"] = [event]
            body["schema"]["title"] = "SubscriptionPastDuePayload"
            item["post"]["description"] = "Sent when a subscription's renewal fails during its " \
                "grace period (SDK 1.123.0; not in spec 1.113.0)"
            webhooks[event] = item
    return dict(sorted(webhooks.items()))


def _sdk_responses(paths: dict) -> None:
    """Answers SDK 1.123.0 reads that spec 1.113.0 declares without a body: change-plan gives
    the handles of the payment that settles the change (types/subscription_change_plan_response.py:
    the four nullable fields of UpdatePaymentMethodResponse)."""
    op = paths.get("/subscriptions/{subscription_id}/change-plan", {}).get("post")
    if op is not None and "content" not in op["responses"]["200"]:
        op["responses"]["200"]["content"] = {"application/json": {
            "schema": {"$ref": "#/components/schemas/UpdatePaymentMethodResponse"}}}


def _refs(node, found: set[str], schemas: dict) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in found and name in schemas:
                found.add(name)
                _refs(schemas[name], found, schemas)
        for value in node.values():
            _refs(value, found, schemas)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found, schemas)


# The vendor's documentation pages declare no operationId; these name them (the contract's
# handlers and fault rules go by operationId).
DOCS_AREAS = {"": "api", "/customer-portal": "customer_portal", "/dashboard": "dashboard",
              "/superadmin": "superadmin", "/unified-customer-portal": "unified_customer_portal"}
DOCS_PAGES = {"/docs": "docs", "/docs/": "docs_index", "/docs/openapi.json": "docs_openapi"}


def _docs_operation_id(path: str) -> str | None:
    for area, name in DOCS_AREAS.items():
        for page, suffix in DOCS_PAGES.items():
            if path == area + page:
                return f"{name}_{suffix}"
    return None


def _default_statuses(path: str, method: str, op: dict) -> list[str]:
    """What paymock answers besides the vendor's statuses, for an operation OPERATIONS does not
    list: 401 where a key is needed, 404 where a path names an object, 422 where a body or a
    query is validated."""
    extra = ["401"] if op.get("security") else []  # the vendor's public ones declare none
    if "{" in path:
        extra.append("404")
    if op.get("requestBody") or any(p.get("in") == "query" for p in op.get("parameters", [])):
        extra.append("422")
    return extra


def _operations(vendor: dict):
    """(path, method, extra statuses) of every operation: the vendor's, then the SDK's own."""
    for path, item in vendor["paths"].items():
        for method in ("get", "put", "post", "delete", "patch"):
            if method in item:
                extra = OPERATIONS.get((path, method))
                yield path, method, extra if extra is not None else \
                    _default_statuses(path, method, item[method])
    for (path, method) in SDK_OPERATIONS:
        if method not in vendor["paths"].get(path, {}):
            yield path, method, OPERATIONS[(path, method)]


def derive(vendor: dict) -> dict:
    vendor_schemas = vendor["components"]["schemas"]
    paths: dict = {}
    for path, method, extra in _operations(vendor):
        vendor_op = vendor["paths"].get(path, {}).get(method)
        op = copy.deepcopy(vendor_op or SDK_OPERATIONS[(path, method)])
        if not op.get("operationId"):
            op["operationId"] = _docs_operation_id(path)
        # The vendor marks its public operations (/licenses/*, invoices) by declaring no
        # `security`; an empty list says so explicitly here, over the document's default (the
        # API key). The SDK's own operations take the key.
        op["security"] = [] if vendor_op is not None and not vendor_op.get("security") \
            else [{"API_KEY": []}]
        responses = op["responses"]
        # Success statuses (200, 201) keep the vendor's schema; every other one is an error.
        for status in sorted(set(extra) | {s for s in responses if not s.startswith("2")}):
            example = dict(EXAMPLES[status])
            if status == "404" and path in NOT_FOUND_MESSAGES:
                example["message"] = NOT_FOUND_MESSAGES[path]
            responses[status] = {
                "description": responses.get(status, {}).get("description") or DESCRIPTIONS[status],
                "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Error"}, "example": example}},
            }
        paths.setdefault(path, {})[method] = op
    _add_links(paths)
    _sdk_responses(paths)
    webhooks = _webhooks(vendor)
    used: set[str] = set()
    _refs(paths, used, vendor_schemas)
    _refs(webhooks, used, vendor_schemas)
    schemas = {name: copy.deepcopy(vendor_schemas[name]) for name in sorted(used)}
    schemas["Error"] = ERROR_SCHEMA
    for name, schema in SDK_SCHEMAS.items():  # what SDK_OPERATIONS answer
        schemas.setdefault(name, copy.deepcopy(schema))
    _tighten(schemas)
    _sdk_fields(schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dodo Payments (paymock)",
            "version": vendor["info"]["version"],
            "description": "Every operation of the vendor spec, derived from it by "
            "tools/derive_dodo_contract.py. Served by paymock at /dodo.",
        },
        "servers": [{"url": "http://127.0.0.1:8787/dodo", "description": "paymock"}],
        "security": [{"API_KEY": []}],
        "paths": paths,
        "webhooks": webhooks,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"API_KEY": {"type": "http", "scheme": "bearer"}},
        },
    }


# ---- links overlay (contract test kit) ------------------------------------------------------------
# OpenAPI links, so that Schemathesis' stateful phase (`paymock contract dodo`) runs real flows:
# create a session, then read its status; create a customer, then read it; list products, then read
# one. Kept apart from the overlay above so that adding an operation never touches it. A link whose
# source or target operation is not in OPERATIONS is left out. `paymock contract diff` does not
# compare links (the vendor spec declares none).
LINKS = {
    ("/checkouts", "post", "200"): {
        "GetCheckoutSessionStatus": {
            "operationId": "get_checkout_sessions_status",
            "description": "The session just created, by its session_id.",
            "parameters": {"path.id": "$response.body#/session_id"}},
    },
    ("/customers", "post", "200"): {
        "GetCustomer": {
            "operationId": "get_customer_handler",
            "description": "The customer just created, by its customer_id.",
            "parameters": {"path.customer_id": "$response.body#/customer_id"}},
        "CreateCheckoutForCustomer": {
            "operationId": "create_session",
            "description": "A checkout session for the customer just created (attach existing customer).",
            "requestBody": {"customer": {"customer_id": "$response.body#/customer_id"}}},
    },
    ("/products", "get", "200"): {
        "GetFirstProduct": {
            "operationId": "get_product_handler",
            "description": "The first product of the page.",
            "parameters": {"path.id": "$response.body#/items/0/product_id"}},
    },
}


def _add_links(paths: dict) -> None:
    operation_ids = {op.get("operationId") for item in paths.values() for op in item.values()}
    for (path, method, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        kept = {name: link for name, link in links.items() if link["operationId"] in operation_ids}
        if kept:
            response["links"] = copy.deepcopy(kept)
# ---- end of links overlay -------------------------------------------------------------------------

