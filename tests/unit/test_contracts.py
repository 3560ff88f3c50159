import pytest

from mock_server.core.contracts import Contract, RequestInvalid

CART = [{"product_id": "pdt_x", "quantity": 1}]


@pytest.fixture(scope="module")
def dodo():
    return Contract.load("dodo")


def invalid(contract, op, body) -> RequestInvalid:
    with pytest.raises(RequestInvalid) as info:
        contract.validate_body(op, body)
    return info.value


def test_operations_come_from_the_document(dodo):
    op = dodo.operation("create_session")
    assert (op.method, op.path) == ("POST", "/checkouts")
    assert {"200", "401", "422", "500"} <= op.statuses
    assert dodo.match("GET", "/checkouts/cks_abc").operation_id == "get_checkout_sessions_status"
    assert dodo.match("DELETE", "/checkouts/cks_abc") is None


def test_a_valid_body_passes(dodo):
    dodo.validate_body("create_session", {"product_cart": CART, "metadata": {"a": 1, "b": "x"}})


@pytest.mark.parametrize("body, field, fragment", [
    ({}, "product_cart", "field is required"),
    ({"product_cart": [{"quantity": 1}]}, "product_cart[0].product_id", "field is required"),
    ({"product_cart": [{"product_id": "p", "quantity": "2"}]}, "product_cart[0].quantity",
     "expected integer, got string"),
    ({"product_cart": CART, "billing_address": {"country": "ZZ"}}, "billing_address.country",
     '"ZZ" is not one of'),
    ({"product_cart": CART, "billing_currency": "XXX"}, "billing_currency", "is not one of"),
    ({"product_cart": CART, "customization": {"theme": "neon"}}, "customization.theme", "neon"),
    ({"product_cart": CART, "confirm": "yes"}, "confirm", "expected boolean"),
    ([1, 2], "body", "expected object, got array"),
])
def test_failures_name_the_offending_field(dodo, body, field, fragment):
    error = invalid(dodo, "create_session", body)
    assert error.field == field
    assert error.message.startswith(field)
    assert fragment in error.message
    assert error.code is None


def test_documented_limits_carry_the_providers_error_code(dodo):
    error = invalid(dodo, "create_session", {"product_cart": CART,
                                             "metadata": {f"k{i}": i for i in range(51)}})
    assert (error.code, error.message) == ("MAXIMUM_KEYS_REACHED", "metadata can hold at most 50 keys")
    error = invalid(dodo, "create_session", {"product_cart": CART * 21})
    assert error.code == "INVALID_REQUEST_BODY" and "at most 20 items" in error.message


def test_messages_never_echo_huge_input(dodo):
    error = invalid(dodo, "create_session", {"product_cart": CART, "return_url": ["x" * 100_000]})
    assert len(error.message) < 300


def test_query_parameters_are_coerced_and_checked(dodo):
    assert dodo.parse_query("list_products_handler", {"page_size": "5", "recurring": "true"}) == {
        "page_size": 5, "recurring": True}
    with pytest.raises(RequestInvalid, match="page_size"):
        dodo.parse_query("list_products_handler", {"page_size": "five"})
    with pytest.raises(RequestInvalid, match="page_number"):
        dodo.parse_query("list_products_handler", {"page_number": "-1"})
    with pytest.raises(RequestInvalid, match="page_size"):  # int32, from the contract's format
        dodo.parse_query("list_products_handler", {"page_size": str(2 ** 31)})


def test_response_checking_catches_a_wrong_shape(dodo):
    assert dodo.response_errors("create_session", 200, {"session_id": "cks_1"}) == []
    assert dodo.response_errors("create_session", 200, {"session_id": 5})
    assert dodo.response_errors("create_session", 418, {}) == [
        "status 418 is not documented for create_session"]


def test_contract_keeps_every_field_of_the_vendor_request(dodo, vendor_spec):
    ours = dodo.document["components"]["schemas"]["CreateCheckoutSessionRequest"]
    expected = {"product_cart", "customer", "billing_address", "allowed_payment_method_types",
                "billing_currency", "show_saved_payment_methods", "return_url", "cancel_url",
                "confirm", "discount_code", "discount_codes", "metadata", "force_3ds",
                "minimal_address", "short_link", "payment_method_id", "custom_fields", "tax_id",
                "customer_business_name", "product_collection_id", "mandate_min_amount_inr_paise",
                "customization", "feature_flags", "subscription_data"}
    assert expected <= set(ours["properties"])
    theirs = vendor_spec["components"]["schemas"]["CreateCheckoutSessionRequest"]
    assert set(theirs["properties"]) == set(ours["properties"])
    assert theirs["required"] == ours["required"]


def test_webhook_checking_uses_the_vendors_event_schemas(dodo):
    assert dodo.webhook_errors("payment.succeeded", {"business_id": "bus_1"})  # no type, data
    errors = dodo.webhook_errors("refund.succeeded", {
        "business_id": "bus_1", "type": "refund.succeeded", "timestamp": "2026-01-01T00:00:00Z",
        "data": {"payload_type": "Refund", "refund_id": 5}})
    assert any("refund_id" in e for e in errors)
    assert dodo.webhook_errors("nope.nothing", {}) == ["event type nope.nothing is not documented"]
    assert "subscription.past_due" in dodo.document["webhooks"]  # SDK 1.123.0's, overlaid
