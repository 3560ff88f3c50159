"""Issue 14: the control API cannot be abused from a browser (a cross-site POST, a DNS-rebinding
page) or by one bad rule (nested past the limits, hostile headers, waits that hold every worker)."""
from __future__ import annotations

import pytest

from mock_server.app import create_app
from mock_server.config import Settings

TOKEN = "ctl_TEST_ONLY_abuse"
DODO = {"Authorization": "Bearer sk_test_control_abuse"}


@pytest.fixture()
def plain():
    return create_app(Settings(port=8787, public_url="http://mock.test:9000")).test_client()


@pytest.fixture()
def tokened():
    return create_app(Settings(host="0.0.0.0", port=8787, control_token=TOKEN)).test_client()


# -- 1. cross-site requests and DNS rebinding ---------------------------------------------------
def test_a_cross_site_reset_is_refused_and_wipes_nothing(plain):
    plain.get("/dodo/products", headers=DODO)
    answer = plain.post("/_mock/reset", data=b"", content_type="text/plain",
                        headers={"Origin": "https://evil.example"})
    assert answer.status_code == 403
    assert "another origin" in answer.get_json()["error"]
    assert plain.get("/_mock/namespaces").get_json()["namespaces"]  # still there


@pytest.mark.parametrize("origin", ["http://localhost", "http://mock.test:9000"])
def test_the_servers_own_origin_and_the_public_urls_are_allowed(plain, origin):
    answer = plain.post("/_mock/reset", json={}, headers={"Origin": origin})
    assert answer.status_code == 200, answer.get_json()


@pytest.mark.parametrize("origin", ["null", "http://mock.test", "http://localhost.evil.example"])
def test_other_origins_are_refused(plain, origin):
    assert plain.get("/_mock/state", headers={"Origin": origin}).status_code == 403


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8787", "127.0.0.1.nip.io", "", "[::1"])
def test_a_rebound_host_cannot_read_state(plain, host):
    answer = plain.get("/_mock/state", headers={"Host": host})
    assert answer.status_code == 403
    assert "DNS rebinding" in answer.get_json()["error"]


@pytest.mark.parametrize("host", ["localhost", "localhost:8787", "127.0.0.1:1", "[::1]:8787",
                                  "mock.test:9000", "MOCK.TEST"])
def test_loopback_names_and_the_public_host_reach_the_control_api(plain, host):
    assert plain.get("/_mock/state", headers={"Host": host}).status_code == 200


def test_provider_apis_and_pages_do_not_check_host_or_origin(plain):
    headers = {**DODO, "Host": "mock.test:9000", "Origin": "https://shop.example"}
    assert plain.get("/dodo/products", headers=headers).status_code == 200


def test_with_a_token_any_host_works_but_a_foreign_origin_does_not(tokened):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert tokened.get("/_mock/state", headers={**auth, "Host": "paymock.internal:8787"}).status_code == 200
    assert tokened.get("/_mock/state", headers={"Host": "paymock.internal"}).status_code == 401
    refused = tokened.post("/_mock/reset", headers={**auth, "Origin": "https://evil.example"})
    assert refused.status_code == 403
