"""One fault action means the same thing wherever it fires: at an API answer, the PSP call inside
an order, or a webhook delivery (tests/webhooks/test_delivery.py shows the webhook side). An error status or a connection fault makes the call fail,
latency (fixed or a range) delays it, and an action field that means nothing at the rule's place is
refused when the rule is added."""
from __future__ import annotations

import time

import pytest

from mock_server.core.clock import Clock
from mock_server.core.faults import FaultEngine
from mock_server.core.psp import MockPsp, PspError


def psp_with(rule: dict) -> MockPsp:
    engine = FaultEngine(Clock())
    engine.declare("psp", ["createCheckout"])
    engine.add({"provider": "psp", **rule})
    return MockPsp(lambda checkout_id: f"http://psp.test/{checkout_id}", engine)


@pytest.mark.parametrize("action", [{"status": 503}, {"connection": "reset"}, {"connection": "drop"},
                                    {"connection": "hang", "hang_seconds": 0.05}])
def test_the_psp_call_fails_on_an_error_status_or_any_connection_fault(action):
    started = time.monotonic()
    with pytest.raises(PspError, match="fault rule"):
        psp_with({"action": action}).create_checkout({"orderId": "o"})
    if action.get("connection") == "hang":  # a hang waits as a client would, then fails
        assert time.monotonic() - started >= 0.05


def test_the_psp_call_takes_a_latency_range_as_the_api_does():
    psp = psp_with({"action": {"latency_range_ms": [40, 60]}})
    started = time.monotonic()
    checkout = psp.create_checkout({"orderId": "o"})
    assert 0.04 <= time.monotonic() - started < 1 and checkout["checkoutUrl"].startswith("http://psp.test/")
    assert "declineReason" in psp_with({"action": {"decline": "insufficient_funds"}}).create_checkout({})


@pytest.mark.parametrize("rule, fragment", [
    ({"provider": "psp", "action": {"status": 200, "patch": {"/a": 1}, "commit": True}},
     "commit, patch cannot apply to a psp call"),
    ({"provider": "webhook", "action": {"body_mode": "truncated", "status": 200, "commit": True}},
     "body_mode, commit cannot apply to a webhook delivery"),
    ({"provider": "dodo", "operation": "create_session", "action": {"webhook": "drop"}},
     "webhook cannot apply to an API answer"),
    ({"provider": "waffo", "action": {"decline": "insufficient_funds"}}, "decline cannot apply"),
    ({"provider": "psp", "sequence": [None, {"message": "x", "status": 500}]},
     "sequence[1]: message cannot apply to a psp call"),
])
def test_an_action_field_that_means_nothing_where_the_rule_fires_is_refused(client, rule, fragment):
    response = client.post("/_mock/faults", json=rule)
    assert response.status_code == 400 and fragment in response.json["error"], response.json


def test_a_rule_with_no_provider_may_carry_anything_each_place_ignores_what_does_not_apply(client):
    assert client.post("/_mock/faults", json={"action": {"status": 429, "headers": {"Retry-After": "1"}}}
                       ).status_code == 201
