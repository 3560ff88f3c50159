"""Dodo's refund and dispute rules through plain Python (providers/dodo/refunds.py, disputes.py):
the app wires them to the payments; no request goes over HTTP."""
import pytest

from mock_server.core.errors import ApiError
from mock_server.core.http import credential_namespace
from mock_server.providers.dodo.disputes import DisputeError
from mock_server.providers.dodo.refunds import RefundStateError

ADDRESS = {"country": "US", "street": "1 Main St", "city": "Springfield", "state": "CA",
           "zipcode": "94105"}
BUYER = {"email": "ada@example.com", "name": "Ada"}


@pytest.fixture
def env(app):
    backend = app.extensions["paymock.dodo"]
    ns = app.extensions["paymock"].store.namespace(credential_namespace("dodo", "sk_test_units"))
    return backend, ns


def paid(backend, ns, catalog, *items, outcome="paid"):
    """A payment of a confirmed checkout of `items` ((slug, quantity) pairs), scripted."""
    cart = [{"product_id": catalog.dodo_id(slug), "quantity": quantity} for slug, quantity in items]
    session = backend.create_session(ns, {"product_cart": cart, "customer": BUYER,
                                          "billing_address": ADDRESS, "confirm": True})
    payments = backend.payments.payments
    return payments.script(ns, payments.get(ns, session["payment_id"]), outcome)


def refused(backend, ns, body, code) -> str:
    with pytest.raises(ApiError) as info:
        backend.refunds.create(ns, body)
    assert (info.value.status, info.value.code) == (422, code)
    return info.value.message


def test_a_whole_refund_takes_what_is_left_and_marks_the_payment_full(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    refund = backend.refunds.create(ns, {"payment_id": payment["id"], "reason": "changed mind",
                                         "metadata": {"ticket": "T-1"}})
    assert refund["refund_id"].startswith("ref_") and len(refund["refund_id"]) == 25
    assert (refund["status"], refund["amount"], refund["is_partial"]) == ("succeeded", 2787, False)
    assert refund["currency"] == "USD" and refund["metadata"] == {"ticket": "T-1"}
    assert refund["customer"]["email"] == "ada@example.com"
    shown = backend.payments.get(ns, payment["id"])
    assert shown["refund_status"] == "full" and shown["status"] == "succeeded"
    assert [r["refund_id"] for r in shown["refunds"]] == [refund["refund_id"]]
    message = refused(backend, ns, {"payment_id": payment["id"]}, "PAYMENT_ALREADY_REFUNDED")
    assert message == "This payment has already been refunded"


def test_line_items_refund_part_of_a_line_then_the_rest(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("laptop", 1), ("mouse", 2))
    laptop, mouse = catalog.dodo_id("laptop"), catalog.dodo_id("mouse")
    lines = {line["item_id"]: line for line in payment["data"]["lines"]}
    assert sum(line["amount"] for line in lines.values()) == payment["amount"]
    assert lines[mouse]["amount"] == 2 * 3699 + lines[mouse]["tax"]  # tax-exclusive price
    first = backend.refunds.create(ns, {"payment_id": payment["id"],
                                        "items": [{"item_id": mouse, "amount": 1000}]})
    assert (first["amount"], first["is_partial"]) == (1000, True)
    assert backend.payments.get(ns, payment["id"])["refund_status"] == "partial"
    # without an amount, an item refunds what is left of its line
    rest = backend.refunds.create(ns, {"payment_id": payment["id"], "items": [{"item_id": mouse}]})
    assert rest["amount"] == lines[mouse]["amount"] - 1000
    message = refused(backend, ns, {"payment_id": payment["id"], "items": [{"item_id": mouse}]},
                      "LINE_ITEM_FULLY_REFUNDED")
    assert message == f"Line item {mouse} has been fully refunded cannot be refunded further."
    # the laptop's line is untouched; a whole refund takes exactly that
    whole = backend.refunds.create(ns, {"payment_id": payment["id"]})
    assert whole["amount"] == lines[laptop]["amount"]
    assert backend.payments.get(ns, payment["id"])["refund_status"] == "full"


def test_an_amount_without_tax_gains_the_lines_tax(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))  # 2599 + 188 tax (CA 7.25 %)
    item = catalog.dodo_id("ebook_guide")
    refund = backend.refunds.create(ns, {"payment_id": payment["id"], "items": [
        {"item_id": item, "amount": 2599, "tax_inclusive": False}]})
    assert refund["amount"] == 2787


@pytest.mark.parametrize("item, code, message", [
    ({"item_id": "pdt_nothere"}, "LINE_ITEM_NOT_FOUND", "Line item pdt_nothere not found in payment"),
    ({"amount": 0}, "LINE_ITEM_REFUND_AMOUNT_TOO_LOW",
     "Line item {id} requested refund amount is 0 which is too low"),
    ({"amount": 2788}, "LINE_ITEM_REFUND_AMOUNT_TOO_HIGH",
     "Line item {id} requested refund amount including tax is 2788 which is above the paid "
     "amount 2787"),
    ({"amount": 2599 + 1, "tax_inclusive": False}, "LINE_ITEM_REFUND_AMOUNT_TOO_HIGH",
     "Line item {id} requested refund amount including tax is 2788 which is above the paid "
     "amount 2787"),
])
def test_line_item_refusals(env, catalog, item, code, message):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    item_id = catalog.dodo_id("ebook_guide")
    body = {"payment_id": payment["id"], "items": [{"item_id": item_id, **item}]}
    assert refused(backend, ns, body, code) == message.format(id=item_id)
    assert backend.payments.get(ns, payment["id"])["refunds"] == []


def test_a_payment_that_did_not_succeed_cannot_be_refunded(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1), outcome="declined")
    message = refused(backend, ns, {"payment_id": payment["id"]}, "PAYMENT_NOT_SUCCEEDED")
    assert message == "The provided payment has not succeeded"
    with pytest.raises(ApiError) as info:
        backend.refunds.create(ns, {"payment_id": "pay_unknown"})
    assert (info.value.status, info.value.code, info.value.message) == (
        404, "NOT_FOUND", "Payment not found")


def test_the_refund_window_is_30_days_of_mock_time(env, catalog, clock):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    clock.advance(30 * 86400)
    backend.refunds.create(ns, {"payment_id": payment["id"], "items": [
        {"item_id": catalog.dodo_id("ebook_guide"), "amount": 100}]})
    clock.advance(1)
    message = refused(backend, ns, {"payment_id": payment["id"]}, "REFUND_WINDOW_EXPIRED")
    assert message == ("Refunds cannot be initiated 30 days after payment creation. Contact "
                       "support@dodopayments.com.")


def test_a_pending_refund_blocks_the_next_until_it_settles(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    backend.refunds.script_outcome(ns, "pending", times=1)
    pending = backend.refunds.create(ns, {"payment_id": payment["id"], "items": [
        {"item_id": catalog.dodo_id("ebook_guide"), "amount": 700}]})
    assert pending["status"] == "pending"
    assert backend.payments.get(ns, payment["id"])["refund_status"] is None  # none succeeded yet
    message = refused(backend, ns, {"payment_id": payment["id"]},
                      "EXISTING_REFUND_REQUEST_PROCESSING")
    assert message == 'A refund request with status "Pending" is still being processed'
    settled = backend.refunds.settle(ns, pending["refund_id"], "succeeded")
    assert settled["status"] == "succeeded"
    with pytest.raises(RefundStateError, match="is succeeded, not pending or in review"):
        backend.refunds.settle(ns, pending["refund_id"], "failed")
    # times=1 was used up: the next refund settles at once again
    assert backend.refunds.create(ns, {"payment_id": payment["id"]})["amount"] == 2787 - 700


def test_a_refund_held_for_review_blocks_like_a_pending_one(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    backend.refunds.script_outcome(ns, "review", times=1)
    held = backend.refunds.create(ns, {"payment_id": payment["id"]})
    assert held["status"] == "review"
    assert backend.refunds.list(ns, {"status": "review"})["items"][0]["refund_id"] == held["refund_id"]
    refused(backend, ns, {"payment_id": payment["id"]}, "EXISTING_REFUND_REQUEST_PROCESSING")
    assert backend.refunds.settle(ns, held["refund_id"], "failed")["status"] == "failed"
    assert backend.payments.get(ns, payment["id"])["refund_status"] is None


def test_a_failed_refund_gives_the_money_back_to_the_refundable_amount(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    backend.refunds.script_outcome(ns, "failed")
    failed = backend.refunds.create(ns, {"payment_id": payment["id"]})
    assert failed["status"] == "failed"
    assert backend.payments.get(ns, payment["id"])["refund_status"] is None
    backend.refunds.script_outcome(ns, "succeeded")
    assert backend.refunds.create(ns, {"payment_id": payment["id"]})["amount"] == 2787
    with pytest.raises(ValueError, match="outcome must be one of"):
        backend.refunds.script_outcome(ns, "maybe")


def test_a_refund_of_a_disputed_payment_fails(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    dispute = backend.disputes.open(ns, payment["id"])
    assert backend.refunds.create(ns, {"payment_id": payment["id"]})["status"] == "failed"
    backend.disputes.move(ns, dispute["dispute_id"], "challenge")
    backend.disputes.move(ns, dispute["dispute_id"], "win")  # the merchant kept the money
    assert backend.refunds.create(ns, {"payment_id": payment["id"]})["status"] == "succeeded"


def test_a_wrong_currency_is_refused(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    with pytest.raises(ApiError) as info:
        backend.refunds.create(ns, {"payment_id": payment["id"], "currency": "EUR"})
    assert (info.value.status, info.value.code) == (422, "INVALID_REQUEST_BODY")
    assert info.value.message == "currency must be USD, the currency the customer paid in (got EUR)"


def test_refunds_list_filters_and_pages(env, catalog):
    backend, ns = env
    first = paid(backend, ns, catalog, ("ebook_guide", 1))
    second = paid(backend, ns, catalog, ("mouse", 1))
    backend.refunds.create(ns, {"payment_id": first["id"]})
    backend.refunds.script_outcome(ns, "failed", times=1)
    backend.refunds.create(ns, {"payment_id": second["id"]})
    listed = backend.refunds.list(ns, {})["items"]
    assert {r["payment_id"] for r in listed} == {first["id"], second["id"]}
    assert [r["status"] for r in backend.refunds.list(ns, {"status": "failed"})["items"]] == ["failed"]
    assert len(backend.refunds.list(ns, {"page_size": 1, "page_number": 1})["items"]) == 1
    assert backend.refunds.list(ns, {"customer_id": "cus_nobody"})["items"] == []
    assert backend.refunds.list(ns, {"created_at_gte": "2100-01-01T00:00:00Z"})["items"] == []


# -- disputes -----------------------------------------------------------------------------------
def test_dispute_paths_and_refused_moves(env, catalog):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    disputes = backend.disputes
    dispute = disputes.open(ns, payment["id"], amount=1000, reason="fraudulent")
    assert dispute["dispute_id"].startswith("dp_") and len(dispute["dispute_id"]) == 23
    assert (dispute["amount"], dispute["dispute_status"], dispute["dispute_stage"]) == (
        "1000", "dispute_opened", "dispute")
    with pytest.raises(DisputeError, match="has an open dispute already"):
        disputes.open(ns, payment["id"])
    with pytest.raises(DisputeError, match="is dispute_opened; win needs it dispute_challenged"):
        disputes.move(ns, dispute["dispute_id"], "win")
    disputes.move(ns, dispute["dispute_id"], "challenge", stage="pre_arbitration")
    with pytest.raises(DisputeError, match="accept needs it dispute_opened"):
        disputes.move(ns, dispute["dispute_id"], "accept")
    lost = disputes.move(ns, dispute["dispute_id"], "lose", remarks="evidence late")
    assert (lost["dispute_status"], lost["dispute_stage"], lost["remarks"]) == (
        "dispute_lost", "pre_arbitration", "evidence late")
    shown = backend.payments.get(ns, payment["id"])
    assert [d["dispute_status"] for d in shown["disputes"]] == ["dispute_lost"]
    listed = backend.payments.list(ns, {})["items"]
    assert next(p for p in listed if p["payment_id"] == payment["id"])["dispute_status"] == "dispute_lost"


def test_a_dispute_needs_a_succeeded_payment_and_a_sane_amount(env, catalog):
    backend, ns = env
    declined = paid(backend, ns, catalog, ("ebook_guide", 1), outcome="declined")
    with pytest.raises(DisputeError, match="only a succeeded payment can be disputed"):
        backend.disputes.open(ns, declined["id"])
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    with pytest.raises(ValueError, match="amount must be an integer from 1 to the payment's 2787"):
        backend.disputes.open(ns, payment["id"], amount=2788)
    with pytest.raises(ValueError, match="stage must be one of"):
        backend.disputes.open(ns, payment["id"], stage="court")
    with pytest.raises(LookupError):
        backend.disputes.open(ns, "pay_unknown")


def test_an_unanswered_dispute_expires_after_10_days(env, catalog, clock):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    dispute = backend.disputes.open(ns, payment["id"])
    clock.advance(10 * 86400 - 1)
    assert backend.disputes.expire_due(clock.now()) == clock.now() + 1  # the next deadline
    assert backend.disputes.get(ns, dispute["dispute_id"])["dispute_status"] == "dispute_opened"
    clock.advance(1)
    backend.disputes.expire_due(clock.now())
    assert backend.disputes.get(ns, dispute["dispute_id"])["dispute_status"] == "dispute_expired"
    with pytest.raises(DisputeError, match="is dispute_expired"):
        backend.disputes.move(ns, dispute["dispute_id"], "challenge")


def test_a_read_expires_a_dispute_the_scheduler_has_not_reached(env, catalog, clock):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    dispute = backend.disputes.open(ns, payment["id"])
    clock.advance(10 * 86400)  # no scheduler pass: the read itself catches up
    assert backend.disputes.get(ns, dispute["dispute_id"])["dispute_status"] == "dispute_expired"
    items = backend.disputes.list(ns, {"dispute_status": "dispute_expired"})["items"]
    assert [d["dispute_id"] for d in items] == [dispute["dispute_id"]]


def test_a_challenged_dispute_does_not_expire(env, catalog, clock):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    dispute = backend.disputes.open(ns, payment["id"])
    backend.disputes.move(ns, dispute["dispute_id"], "challenge")
    clock.advance(30 * 86400)
    backend.disputes.expire_due(clock.now())
    assert backend.disputes.get(ns, dispute["dispute_id"])["dispute_status"] == "dispute_challenged"


def test_dispute_deadlines_round_trip_through_the_state_file(env, catalog, clock):
    backend, ns = env
    payment = paid(backend, ns, catalog, ("ebook_guide", 1))
    dispute = backend.disputes.open(ns, payment["id"])
    saved = backend.disputes.dump()
    assert saved == [[clock.now() + 10 * 86400, ns.name, dispute["dispute_id"]]]
    backend.disputes.load([])  # a restart that forgot them: nothing left to expire
    assert backend.disputes.expire_due(clock.now()) is None
    backend.disputes.load(saved)
    assert backend.disputes.dump() == saved
    clock.advance(10 * 86400)
    assert backend.disputes.expire_due(clock.now()) is None  # done, nothing more due
    stored = ns.get("dispute", dispute["dispute_id"])
    assert stored["dispute_status"] == "dispute_expired"  # by the job, before any read
