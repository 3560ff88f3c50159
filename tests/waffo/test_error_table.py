"""Every row of the seed's create-order error table (seeds/003), sent as a real client would send
it, with the exact status, envelope and message."""
from __future__ import annotations

import pytest

from tests.conftest import beside_the_repo

from .helpers import ONETIME_ORDER, STORES, assert_error

US = {"country": "US", "isBusiness": False, "state": "CA"}


def _invalid_json(client, waffo):
    return client.bearer(ONETIME_ORDER, b'{"checkoutSessionId": ', client.token())


def _missing_session_id(client, waffo):
    return client.bearer(ONETIME_ORDER, {"buyerEmail": "a@b.co", "billingDetail": US}, client.token())


def _product_type_mismatch(client, waffo):
    session = client.session("pro_monthly")
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US,
                                         "buyerEmail": "a@b.co"}, client.token())


def _environment_mismatch(client, waffo):
    session = client.session("ebook")  # created with the test key: a test session
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US,
                                         "buyerEmail": "a@b.co"}, client.token(), environment="prod")


def _missing_billing(client, waffo):
    session = client.session("ebook", buyerEmail="a@b.co")
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": session}, client.token())


def _state_required(client, waffo):
    session = client.session("ebook")
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "buyerEmail": "a@b.co",
                                         "billingDetail": {"country": "CA", "isBusiness": False}},
                         client.token())


def _missing_email(client, waffo):
    session = client.session("ebook")
    # A merchant-defined identity carries no address, so the email must come from somewhere.
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US},
                         client.token(identity="user-123"))


def _bad_token(client, waffo):
    token = client.token()
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": "cs_x"}, forged)


def _foreign_store(client, waffo):
    session = client.session("ebook")  # a session of acme-digital
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US,
                                         "buyerEmail": "a@b.co"}, client.token(store="acme-labs"))


def _invalid_session(client, waffo):
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": "cs_550e8400-e29b-41d4-a716-446655440000",
                                         "billingDetail": US, "buyerEmail": "a@b.co"}, client.token())


def _psp_failure(client, waffo):
    session = client.session("ebook")
    waffo.backend.psp.fail_next()
    return client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US,
                                         "buyerEmail": "a@b.co"}, client.token())


ROWS = [
    (400, "Invalid JSON body", _invalid_json),
    (400, "Missing required field: checkoutSessionId", _missing_session_id),
    (400, "Session product type mismatch: expected onetime", _product_type_mismatch),
    (400, "Environment mismatch between request and session", _environment_mismatch),
    (400, "Missing billingDetail: provide in request body or pre-fill in checkout session",
     _missing_billing),
    (400, "State is required for US/CA", _state_required),
    (400, "Missing buyerEmail: provide in request body or pre-fill in checkout session",
     _missing_email),
    (401, "Authentication failed", _bad_token),
    (403, "Session does not belong to this store", _foreign_store),
    (409, "Checkout session invalid, please re-enter checkout", _invalid_session),
    (500, "Internal server error", _psp_failure),
]


@pytest.mark.parametrize("status, message, trigger", ROWS, ids=[r[1] for r in ROWS])
def test_seed_error_table_row(client, waffo, core, status, message, trigger):
    result = trigger(client, waffo)
    assert_error(result, status, message)
    # The answer also conforms to the contract's documented error response.
    assert core.contracts["waffo"].response_errors("createOnetimeOrder", status, result[1]) == []


def test_every_seed_row_is_covered():
    seed = beside_the_repo("seeds", "003_e248747954a6cbf3.txt")
    rows = [line for line in seed.read_text().splitlines() if line.startswith("| 4")
            or line.startswith("| 5")]
    documented = {(int(r.split("|")[1]), r.split("|")[2].strip()) for r in rows}
    assert documented == {(status, message) for status, message, _ in ROWS}


def test_expired_session_is_the_same_409(client, core):
    session = client.session("ebook", expiresInSeconds=60)
    core.clock.advance(61)
    assert_error(client.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US,
                                               "buyerEmail": "a@b.co"}, client.token()),
                 409, "Checkout session invalid, please re-enter checkout", "order")


def test_expired_token_is_401(client, core):
    token = client.token()
    core.clock.advance(301)
    assert_error(client.bearer(ONETIME_ORDER, {"checkoutSessionId": "cs_x"}, token),
                 401, "Authentication failed", "gateway")


def test_missing_environment_header_is_400(client):
    assert_error(client.bearer(ONETIME_ORDER, {"checkoutSessionId": "cs_x"}, client.token(),
                               environment=None),
                 400, "Missing X-Environment header: send test or prod", "gateway")


def test_psp_failure_rolls_back_and_retry_succeeds(client, waffo, core):
    session = client.session("ebook")
    token = client.token()
    body = {"checkoutSessionId": session, "billingDetail": US, "buyerEmail": "a@b.co"}
    waffo.backend.psp.fail_next()
    assert client.bearer(ONETIME_ORDER, body, token)[0] == 500
    ns = core.store.namespace(waffo.gateway.namespace_name(STORES["acme-digital"]["merchantId"]))
    assert ns.values("order") == []
    status, payload, _ = client.bearer(ONETIME_ORDER, body, token)
    assert status == 200, payload
    [order] = ns.values("order")
    assert payload["data"]["checkoutUrl"] == order["payment"]["checkoutUrl"]
    assert payload["data"]["checkoutUrl"].startswith("http://mock.test/psp/")
