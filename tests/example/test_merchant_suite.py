"""An example of a merchant's own tests, written only against the paymock pytest plugin.
README.md shows this file verbatim (tests/test_readme.py checks that it does)."""
import dodopayments
import pytest
from dodopayments import DodoPayments

EBOOK = "pdt_uGej5ygB4DvTZFDmnvmUM"  # a product of the default fixtures


@pytest.fixture
def dodo(paymock):
    # Each test gets its own API key, so its own namespace on the shared server.
    return DodoPayments(bearer_token=paymock.dodo.credential, base_url=paymock.dodo.base_url,
                        max_retries=0)


def test_checkout_session_expires_after_24_hours(dodo, paymock):
    session = dodo.checkout_sessions.create(product_cart=[{"product_id": EBOOK, "quantity": 1}])
    paymock.clock.advance(hours=24)
    with pytest.raises(dodopayments.NotFoundError):
        dodo.checkout_sessions.retrieve(session.session_id)


def test_our_code_surfaces_a_provider_outage(dodo, paymock):
    paymock.fail("dodo.create_session", status=503, times=1)
    with pytest.raises(dodopayments.InternalServerError):
        dodo.checkout_sessions.create(product_cart=[{"product_id": EBOOK, "quantity": 1}])
    # the rule fired once; the next call goes through
    assert dodo.checkout_sessions.create(product_cart=[{"product_id": EBOOK, "quantity": 1}])


def test_rules_and_clock_are_undone_between_tests(paymock):
    assert paymock.control.faults.list() == []
    assert paymock.control.clock.get()["offset_seconds"] < 5
