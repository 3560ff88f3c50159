"""Waffo rules in plain Python: money and tax, the payment-method matrix, credentials, tokens,
idempotency, sessions and orders, without HTTP."""
from __future__ import annotations

import pytest

from mock_server.core.clock import Clock
from mock_server.core.errors import ApiError
from mock_server.core.idempotency import CachedResponse, Idempotency, KeyInFlight, Reservation
from mock_server.core.store import Store
from mock_server.providers.waffo import auth, billing, models
from mock_server.providers.waffo.common import Caller, normalise_email
from mock_server.core.psp import MockPsp

from .helpers import CATALOG, MERCHANTS, PRODUCTS, STORES, private_key

ACME = MERCHANTS["acme"]["merchantId"]
STORE = STORES["acme-digital"]["id"]


@pytest.mark.parametrize("amount, currency, detail, expected", [
    ("29.00", "USD", {"country": "US", "isBusiness": False, "state": "CA"},
     ("29.00", "2.10", "7.25", "31.10", False)),
    ("4500", "JPY", {"country": "JP", "isBusiness": False}, ("4500", "450", "10.00", "4950", False)),
    ("27.00", "EUR", {"country": "DE", "isBusiness": True, "businessName": "GmbH",
                      "taxId": "DE123456789"}, ("27.00", "0.00", "0.00", "27.00", True)),
    # A consumer's tax id claims nothing: reverse charge is for businesses only.
    ("27.00", "EUR", {"country": "DE", "isBusiness": False, "taxId": "DE123456789"},
     ("27.00", "5.13", "19.00", "32.13", False)),
    ("100.00", "USD", {"country": "CA", "isBusiness": False, "state": "ON"},
     ("100.00", "13.00", "13.00", "113.00", False)),
    ("10.00", "USD", {"country": "BR", "isBusiness": False}, ("10.00", "0.00", "0.00", "10.00", False)),
])
def test_tax_quote_uses_the_shared_table(amount, currency, detail, expected):
    q = billing.quote(amount, currency, detail)
    assert (q["subtotal"], q["taxAmount"], q["taxRate"], q["total"], q["reverseCharge"]) == expected


def test_payment_method_matrix():
    assert billing.payment_methods("onetime", "USD", None, None) == ("card", "applepay", "googlepay", "wechat")
    assert billing.payment_methods("onetime", "CNY", None, None) == ("wechat",)
    assert billing.payment_methods("subscription", "CNY", None, None) is None
    assert billing.payment_methods("onetime", "INR", None, None) is None
    assert billing.payment_methods("onetime", "EUR", ["wechat"], None) == ()  # not offered in EUR
    assert billing.payment_methods("onetime", "EUR", None, ["wechat", "card"]) == ("applepay", "googlepay")


def test_email_normalisation():
    assert normalise_email("  Foo@Bar.COM ") == "foo@bar.com"
    assert normalise_email("   ") is None and normalise_email(None) is None


# -- credentials ----------------------------------------------------------------------------
def _registry() -> auth.MerchantRegistry:
    registry = auth.MerchantRegistry()
    for merchant in CATALOG["merchants"]:
        for key in merchant["keys"]:
            registry.add_key(merchant["merchantId"], key["environment"], key["publicKeyPem"])
    return registry


def _verify(registry, merchant_id=ACME, key=None, stamp=1_000_000, now=1_000_000, path="/v1/x",
            body=b"{}", signed_path=None, lenient=False):
    signature = auth.sign(key or private_key("acme"), "POST", signed_path or path, str(stamp), body)
    return registry.verify(merchant_id, str(stamp), signature, path, body, (now,), lenient)


def test_signature_verifies_and_names_the_environment():
    registry = _registry()
    assert _verify(registry) == "test"
    assert _verify(registry, key=private_key("acme", "prod")) == "prod"


@pytest.mark.parametrize("kwargs", [
    {"key": private_key("beta")},                     # another merchant's key
    {"signed_path": "/waffo/v1/x"},                   # signed with the mount prefix
    {"stamp": 1_000_000 - 301},                       # stale
    {"stamp": 1_000_000 + 61},                        # from the future
    {"merchant_id": "MER_" + "x" * 22},               # unknown merchant
])
def test_bad_credentials_fail(kwargs):
    with pytest.raises(auth.AuthFailed):
        _verify(_registry(), **kwargs)


def test_lenient_mode_takes_unknown_merchants_but_never_a_wrong_signature_from_a_known_one():
    registry = _registry()
    assert _verify(registry, merchant_id="MER_" + "x" * 22, lenient=True) == "test"
    with pytest.raises(auth.AuthFailed):
        _verify(registry, key=private_key("beta"), lenient=True)


def test_session_token_lifetime_follows_the_clock():
    clock = Clock()
    clock.freeze(1_000_000)
    tokens = auth.TokenIssuer(clock)
    token, expires_at = tokens.issue(ACME, STORE, "user-1")
    assert expires_at == 1_000_300
    assert tokens.verify(token).buyer_identity == "user-1"
    clock.advance(300)
    with pytest.raises(auth.AuthFailed, match="expired"):
        tokens.verify(token)
    with pytest.raises(auth.AuthFailed):
        auth.TokenIssuer(clock).verify(tokens.issue(ACME, STORE, "u")[0])  # another server's key


def test_a_token_accepted_once_does_not_vouch_for_an_altered_copy():
    tokens = auth.TokenIssuer(Clock())
    token, _ = tokens.issue(ACME, STORE, "user-1")
    head, claims, signature = token.split(".")
    for _ in range(2):  # the second time from what the first check kept
        assert tokens.verify(token).buyer_identity == "user-1"
        for altered in (f"{head}.{claims}.{signature[:-2]}{'AB' if signature[-2:] != 'AB' else 'CD'}",
                        f"{head}.{claims[:-1]}{'A' if claims[-1] != 'A' else 'B'}.{signature}"):
            with pytest.raises(auth.AuthFailed):
                tokens.verify(altered)


# -- idempotency ----------------------------------------------------------------------------
def test_idempotency_replays_the_first_2xx_for_24_hours():
    clock = Clock()
    clock.freeze(0)
    book = Idempotency(clock)
    slot = book.reserve("ns", "k")
    assert isinstance(slot, Reservation)
    with pytest.raises(KeyInFlight):
        book.reserve("ns", "k")
    assert isinstance(book.reserve("other-ns", "k"), Reservation)  # scopes never mix
    slot.complete(200, b'{"a":1}')
    assert book.reserve("ns", "k") == CachedResponse(200, b'{"a":1}', {})
    clock.advance(24 * 3600)
    assert isinstance(book.reserve("ns", "k"), Reservation)


def test_idempotency_non_2xx_frees_the_key():
    book = Idempotency(Clock())
    book.reserve("ns", "k").complete(400, b"bad")
    slot = book.reserve("ns", "k")
    assert isinstance(slot, Reservation)
    slot.release()
    assert isinstance(book.reserve("ns", "k"), Reservation)
    assert not Idempotency.valid_key("has space") and not Idempotency.valid_key("x" * 257)


# -- sessions and orders --------------------------------------------------------------------
@pytest.fixture
def world():
    clock = Clock()
    clock.freeze(1_000_000)
    store = Store(clock)
    store.add_seeder("waffo:", lambda name: models.seed_objects(CATALOG, ACME))
    tokens = auth.TokenIssuer(clock)
    psp = MockPsp(lambda cid: f"http://psp/{cid}")
    backend = models.WaffoBackend(clock, tokens, lambda slug, sid: f"http://hosted/{slug}/{sid}", psp)
    return clock, store.namespace("waffo:acme"), backend


API = Caller("api_key", ACME, "test")
BUYER = Caller("session_token", ACME, "test", store_id=STORE, buyer_identity="user-1")
US = {"country": "US", "isBusiness": False, "state": "NY"}


def test_price_is_frozen_at_session_creation(world):
    _, ns, backend = world
    product = PRODUCTS["ebook"]["id"]
    session = backend.create_session(ns, API, {"productId": product, "currency": "USD"})
    changed = ns.get("product", product)
    changed["prices"]["USD"]["amount"] = "99.00"  # a later price change
    ns.save("product", product, changed)
    backend.create_order(ns, BUYER, {"checkoutSessionId": session["sessionId"], "billingDetail": US,
                                     "buyerEmail": "x@y.io"}, "onetime")
    [order] = ns.values("order")
    assert (order["amount"], order["taxAmount"], order["total"]) == ("29.00", "1.16", "30.16")


def test_session_lifetime_default_and_explicit(world):
    clock, ns, backend = world
    product = PRODUCTS["ebook"]["id"]
    default = backend.create_session(ns, API, {"productId": product, "currency": "USD"})
    short = backend.create_session(ns, API, {"productId": product, "currency": "USD",
                                             "expiresInSeconds": 60})
    assert default["expiresAt"] == "1970-01-12T14:31:40.000Z"  # 1_000_000 + 2700 s
    clock.advance(60)
    assert backend.open_session(ns, default["sessionId"])
    with pytest.raises(ApiError) as exc:
        backend.open_session(ns, short["sessionId"])
    assert (exc.value.status, exc.value.message) == (409, models.SESSION_INVALID)


def test_store_slug_visitor_cannot_set_merchant_only_fields(world):
    _, ns, backend = world
    visitor = Caller("store_slug", ACME, "test", store_id=STORE)
    session = backend.create_session(ns, visitor, {
        "productId": PRODUCTS["ebook"]["id"], "currency": "USD",
        "priceSnapshot": {"amount": "1.00", "taxCategory": "ebook"},
        "orderMerchantExternalId": "EXT-1"})
    stored = ns.get("checkout_session", session["sessionId"])
    assert (stored["price"]["amount"], stored["orderMerchantExternalId"]) == ("29.00", None)


def test_email_identity_wins_over_body_and_is_normalised(world):
    _, ns, backend = world
    session = backend.create_session(ns, API, {"productId": PRODUCTS["ebook"]["id"], "currency": "USD"})
    buyer = Caller("session_token", ACME, "test", store_id=STORE, buyer_identity=" Ann@Example.COM")
    backend.create_order(ns, buyer, {"checkoutSessionId": session["sessionId"], "billingDetail": US,
                                     "buyerEmail": "other@example.com"}, "onetime")
    [order] = ns.values("order")
    assert order["buyerEmail"] == "ann@example.com"
    assert ns.get("checkout_session", session["sessionId"])["buyerEmail"] == "ann@example.com"


@pytest.mark.parametrize("status, result", [("pending", "canceled"), ("active", "canceling"),
                                            ("past_due", "canceling")])
def test_subscription_cancel_rules(world, status, result):
    _, ns, backend = world
    session = backend.create_session(ns, API, {"productId": PRODUCTS["pro_monthly"]["id"],
                                               "currency": "USD"})
    backend.create_order(ns, BUYER, {"checkoutSessionId": session["sessionId"], "billingDetail": US,
                                     "buyerEmail": "x@y.io"}, "subscription")
    [order] = ns.values("order")
    order["status"] = status
    ns.save("order", order["orderId"], order)  # values() are copies
    assert backend.cancel_order(ns, API, {"orderId": order["orderId"]}, "subscription") == {
        "orderId": order["orderId"], "status": result}
    with pytest.raises(ApiError) as exc:
        backend.cancel_order(ns, API, {"orderId": order["orderId"]}, "subscription")
    assert exc.value.status == 400


def test_subscription_psp_failure_keeps_a_canceled_order(world):
    _, ns, backend = world
    session = backend.create_session(ns, API, {"productId": PRODUCTS["pro_monthly"]["id"],
                                               "currency": "USD"})
    backend.psp.fail_next()
    with pytest.raises(ApiError) as exc:
        backend.create_order(ns, BUYER, {"checkoutSessionId": session["sessionId"],
                                         "billingDetail": US, "buyerEmail": "x@y.io"}, "subscription")
    assert (exc.value.status, exc.value.message) == (500, "Internal server error")
    [order] = ns.values("order")
    assert (order["status"], order["payment"]["status"]) == ("canceled", "failed")


def test_customer_cannot_cancel_someone_elses_order(world):
    _, ns, backend = world
    session = backend.create_session(ns, API, {"productId": PRODUCTS["ebook"]["id"], "currency": "USD"})
    backend.create_order(ns, BUYER, {"checkoutSessionId": session["sessionId"], "billingDetail": US,
                                     "buyerEmail": "x@y.io"}, "onetime")
    [order] = ns.values("order")
    stranger = Caller("session_token", ACME, "test", store_id=STORE, buyer_identity="user-2")
    with pytest.raises(ApiError) as exc:
        backend.cancel_order(ns, stranger, {"orderId": order["orderId"]}, "onetime")
    assert exc.value.status == 403


@pytest.mark.parametrize("before, answer", [
    ("active", None),
    ("past_due", "Subscription with an unpaid balance cannot be reactivated")])
def test_reactivation_undoes_a_cancel_not_yet_taken_effect(world, before, answer):
    _, ns, backend = world
    session = backend.create_session(ns, API, {"productId": PRODUCTS["pro_monthly"]["id"],
                                               "currency": "USD"})
    backend.create_order(ns, BUYER, {"checkoutSessionId": session["sessionId"], "billingDetail": US,
                                     "buyerEmail": "x@y.io"}, "subscription")
    [order] = ns.values("order")
    order["status"] = before
    ns.save("order", order["orderId"], order)
    backend.cancel_order(ns, BUYER, {"orderId": order["orderId"]}, "subscription")
    if answer is not None:
        with pytest.raises(ApiError) as exc:
            backend.orders.reactivate(ns, BUYER, order["orderId"])
        assert (exc.value.status, exc.value.message) == (400, answer)
        return
    assert backend.orders.reactivate(ns, BUYER, order["orderId"]) == {
        "orderId": order["orderId"], "status": "active"}
    with pytest.raises(ApiError) as exc:
        backend.orders.reactivate(ns, BUYER, order["orderId"])
    assert (exc.value.status, exc.value.message) == (
        400, "Only canceling subscriptions can be reactivated")
    stranger = Caller("session_token", ACME, "test", store_id=STORE, buyer_identity="user-2")
    with pytest.raises(ApiError) as exc:
        backend.orders.reactivate(ns, stranger, order["orderId"])
    assert (exc.value.status, exc.value.message) == (403, "Order does not belong to user")
    with pytest.raises(ApiError) as exc:
        backend.orders.reactivate(ns, BUYER, "ORD_" + "0" * 22)
    assert (exc.value.status, exc.value.message) == (404, "Order not found")
