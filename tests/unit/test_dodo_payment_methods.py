"""Dodo's saved payment methods as plain rules (providers/dodo/payment_methods.py): one record per
card per customer, what a payment adds to it, and the item the API renders."""
from __future__ import annotations

import pytest

from mock_server.core.contracts import Contract
from mock_server.core.errors import ApiError

CONTRACT = Contract.load("dodo")
VISA = {"last4": "4242", "network": "VISA", "type": "CREDIT", "country": "US"}
MASTERCARD = {"last4": "4444", "network": "MASTERCARD", "type": "CREDIT", "country": "US"}


@pytest.fixture
def dodo(app):
    return app.extensions["paymock.dodo"]


@pytest.fixture
def ns(app, dodo):
    ns = app.extensions["paymock"].store.namespace("dodo:unit-payment-methods")
    for name in ("Ada", "Grace"):
        dodo.create_customer(ns, {"name": name, "email": f"{name.lower()}@example.com"})
    return ns


def customers(ns) -> list[str]:
    return [c["customer_id"] for c in ns.values("customer") if c.get("name") in ("Ada", "Grace")]


def test_one_method_per_card_per_customer(dodo, ns):
    methods = dodo.payment_methods
    ada, grace = customers(ns)
    first = methods.record(ns, ada, VISA)
    assert methods.record(ns, ada, dict(VISA)) == first
    assert methods.record(ns, ada, MASTERCARD) != first
    assert methods.record(ns, grace, VISA) != first  # another customer's card is theirs
    listed = [m["payment_method_id"] for m in methods.list(ns, ada)["items"]]
    assert len(listed) == 2 and first in listed
    assert methods.card_of(ns, ada, first) == VISA
    assert methods.card_of(ns, grace, first) is None


def test_a_payment_gives_expiry_holder_and_last_use(dodo, ns, clock):
    methods = dodo.payment_methods
    ada = customers(ns)[0]
    method = methods.record(ns, ada, VISA)
    [item] = methods.list(ns, ada)["items"]
    assert item["last_used_at"] is None and item["card"]["expiry_month"] is None
    payment = {"status": "succeeded", "provider": "dodo",
               "data": {"card_expiry": {"month": "06", "year": "2032"}, "card_holder_name": "Ada L",
                        "payment_method_id": method, "customer": {"customer_id": ada}}}
    assert methods.record(ns, ada, VISA, payment) == method
    clock.advance(60)
    methods.on_payment(ns, payment, "processing")
    [item] = methods.list(ns, ada)["items"]
    assert item == {
        "payment_method_id": method, "payment_method": "card", "payment_method_type": "credit",
        "recurring_enabled": True, "last_used_at": "2026-09-21T14:14:20.000Z",
        "card": {"card_holder_name": "Ada L", "card_issuing_country": "US",
                 "card_network": "VISA", "card_type": "CREDIT", "expiry_month": "06",
                 "expiry_year": "2032", "last4_digits": "4242"}}
    assert CONTRACT.response_errors("get_customer_payment_methods", 200,
                                    methods.list(ns, ada)) == []


def test_unknown_customer_or_method(dodo, ns):
    methods = dodo.payment_methods
    with pytest.raises(ApiError) as unknown:
        methods.list(ns, "cus_nobody")
    assert (unknown.value.status, unknown.value.code, unknown.value.message) == (
        404, "NOT_FOUND", "Customer not found")
    ada = customers(ns)[0]
    with pytest.raises(ApiError) as missing:
        methods.delete(ns, ada, "pm_nothing")
    assert (missing.value.status, missing.value.code, missing.value.message) == (
        404, "NOT_FOUND", "Payment method not found")
    method = methods.record(ns, ada, VISA)
    methods.delete(ns, ada, method)  # no subscription uses it
    assert methods.list(ns, ada)["items"] == []
