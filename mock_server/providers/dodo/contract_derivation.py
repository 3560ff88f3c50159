"""Derive contracts/dodo/openapi.json from the vendor's published Dodo Payments spec.

It ships in the package because `paymock contract diff` re-derives with it to tell the overlay's
intended differences from drift; `tools/derive_dodo_contract.py` runs it to regenerate the contract.

The mock answers a subset of the vendor API. Rather than retyping the vendor's schemas (and
drifting from them), this script copies the operations paymock serves, with every schema they
reference, and lays paymock's overlay on top: the error envelope the API really sends (the vendor
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
}

DESCRIPTIONS = {
    "400": "Bad Request",
    "401": "Missing or invalid API key",
    "403": "Forbidden",
    "409": "Conflict with the resource's current state",
    "410": "Gone",
    "404": "Resource not found",
    "409": "Conflict",
    "422": "Invalid Request Object or Parameters",
    "500": "Something went wrong :(",
}

# The body paymock sends for each status when a fault rule asks for it (fault injection reads
# these examples), matching what the server itself answers.
EXAMPLES = {
    "400": {"code": "INVALID_REQUEST_PARAMETERS", "message": "Invalid request parameters"},
    "401": {"code": "UNAUTHORIZED",
            "message": "Missing or invalid API key: send `Authorization: Bearer <API key>`"},
    "400": {"code": "BAD_REQUEST", "message": "Bad request"},
    "403": {"code": "FORBIDDEN", "message": "Forbidden"},
    "404": {"code": "NOT_FOUND", "message": "Checkout session not found"},
    "409": {"code": "CONFLICT", "message": "Conflict with the resource's current state"},
    "410": {"code": "GONE", "message": "The resource is gone"},
    "422": {"code": "INVALID_REQUEST_BODY", "message": "Invalid Request Object or Parameters"},
    "429": {"code": "TOO_MANY_REQUESTS", "message": "Too many requests"},
    "500": {"code": "INTERNAL_SERVER_ERROR", "message": "Internal server error"},
    # The webhook operations' documented 503 (paymock answers it only when a fault rule asks).
    "503": {"code": "SERVICE_UNAVAILABLE",
            "message": "Webhook configuration temporarily frozen during instance migration"},
}
NOT_FOUND_MESSAGES = {"/products/{id}": "Product not found",
                      "/products/{id}/unarchive": "Product not found", "/customers/{customer_id}": "Customer not found",
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
                      "/licenses/deactivate": "License key not found"}

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
    req["product_cart"].update(
        minItems=1, maxItems=20,
        **{"x-paymock-error": {"maxItems": ["INVALID_REQUEST_BODY", "product_cart can hold at most 20 items"]}},
    )
    req["discount_codes"].update(maxItems=20)
    schemas["CustomFields"]["maxItems"] = 5
    # The vendor writes oneOf [string, integer, number, boolean]: an integer is also a number, so
    # oneOf rejects every integer value. The live API accepts them; anyOf says what it means.
    meta = schemas["Metadata"]
    meta["additionalProperties"]["anyOf"] = meta["additionalProperties"].pop("oneOf")
    meta["maxProperties"] = 50
    meta["x-paymock-error"] = {
        "maxProperties": ["MAXIMUM_KEYS_REACHED", "metadata can hold at most 50 keys"],
    }
    refund = schemas.get("CreateRefundRequest")
    if refund is not None:  # "Maximum length is 3000 characters" (the field's description)
        refund["properties"]["reason"]["maxLength"] = 3000
    trial = schemas["SubscriptionData"]["properties"]["trial_period_days"]
    trial.update(minimum=0, maximum=10000)


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


def derive(vendor: dict) -> dict:
    vendor_schemas = vendor["components"]["schemas"]
    paths: dict = {}
    for (path, method), extra in OPERATIONS.items():
        op = copy.deepcopy(vendor["paths"][path][method])
        # The vendor marks its public operations (/licenses/*) by declaring no `security`; an
        # empty list says so explicitly here, over the document's default (the API key).
        op["security"] = [{"API_KEY": []}] if op.get("security") else []
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
    webhooks = _webhooks(vendor)
    used: set[str] = set()
    _refs(paths, used, vendor_schemas)
    _refs(webhooks, used, vendor_schemas)
    schemas = {name: copy.deepcopy(vendor_schemas[name]) for name in sorted(used)}
    schemas["Error"] = ERROR_SCHEMA
    _tighten(schemas)
    _sdk_fields(schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Dodo Payments (paymock subset)",
            "version": vendor["info"]["version"],
            "description": "Checkout sessions and the resources they need, derived from the vendor "
            "spec by tools/derive_dodo_contract.py. Served by paymock at /dodo.",
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

