"""The dashboard at /_mock/ui over HTTP (the browser tests drive it in chromium): who may see it,
the session cookie and CSRF tokens, its security headers, paging and search, what it calls
namespaces, and the control API parts it added (fault switch, what an advance made due)."""
from __future__ import annotations

import re

import pytest

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control import Client
from mock_server.control.ui.session import DashboardKeys

TOKEN = "dash-token-0123456789"
CART = {"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]}


@pytest.fixture
def guarded():
    app = create_app(Settings(port=0, control_token=TOKEN))
    yield app
    app.extensions["paymock"].scheduler.stop()


@pytest.fixture
def open_app():
    app = create_app(Settings(port=0))
    yield app
    app.extensions["paymock"].scheduler.stop()


def csrf_of(html: bytes) -> str:
    return re.search(rb'<meta name="csrf-token" content="([^"]+)"', html).group(1).decode()


def cookie_header(response) -> str:
    return next(v for k, v in response.headers.items()
                if k == "Set-Cookie" and v.startswith("paymock_ui="))


def sign_in(client) -> str:
    page = client.get("/_mock/ui/sign-in")
    answer = client.post("/_mock/ui/sign-in", data={"token": TOKEN, "next": "/_mock/ui",
                                                    "csrf_token": csrf_of(page.data)})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/_mock/ui")
    return csrf_of(client.get("/_mock/ui").data)


# -- the session ------------------------------------------------------------------------------------
def test_a_cookie_is_signed_and_bound_to_its_key():
    keys = DashboardKeys("one-token")
    cookie = keys.new_cookie(signed_in=True)
    session = keys.session(cookie)
    assert session is not None and session.signed_in
    assert keys.session(cookie.replace("signed-in", "visitor")) is None  # the level is signed
    session_id = cookie.split(".")[0]
    assert keys.session(f"{session_id}.signed-in.{'0' * 32}") is None
    assert DashboardKeys("another-token").session(cookie) is None  # a new token signs all out
    assert DashboardKeys("one-token").session(cookie) == session  # a restart with the same one
    assert keys.session("") is None and keys.session("a.b") is None and keys.session(None) is None
    token = keys.csrf_token(session)
    assert keys.csrf_ok(session, token) and not keys.csrf_ok(session, token[:-1] + "x")
    assert not keys.csrf_ok(session, None)
    other = keys.session(keys.new_cookie(signed_in=True))
    assert not keys.csrf_ok(other, token)  # a token is its session's only


def test_with_a_control_token_a_browser_signs_in_once(guarded):
    client = guarded.test_client()
    first = client.get("/_mock/ui/webhooks?status=failed")
    assert first.status_code == 303
    assert first.headers["Location"] == "/_mock/ui/sign-in?next=/_mock/ui/webhooks%3Fstatus%3Dfailed"
    page = client.get(first.headers["Location"])
    assert page.status_code == 200 and b'type="password"' in page.data
    wrong = client.post("/_mock/ui/sign-in", data={"token": "nope", "csrf_token": csrf_of(page.data)})
    assert wrong.status_code == 401 and b"not this server" in wrong.data
    right = client.post("/_mock/ui/sign-in", data={
        "token": TOKEN, "csrf_token": csrf_of(page.data), "next": "/_mock/ui/webhooks?status=failed"})
    assert right.status_code == 303 and right.headers["Location"] == "/_mock/ui/webhooks?status=failed"
    cookie = cookie_header(right)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/_mock" in cookie
    assert TOKEN not in cookie
    assert client.get("/_mock/ui/webhooks?status=failed").status_code == 200
    # ...and the page's scripts reach the control API with the cookie: reads as they are,
    # changes with the CSRF token only
    assert client.get("/_mock/faults").status_code == 200
    refused = client.post("/_mock/clock/advance", json={"seconds": 5})
    assert refused.status_code == 403 and "CSRF" in refused.get_json()["error"]
    csrf = csrf_of(client.get("/_mock/ui").data)
    assert client.post("/_mock/clock/advance", json={"seconds": 5},
                       headers={"X-Paymock-CSRF": csrf}).status_code == 200
    # signing out ends it
    assert client.post("/_mock/ui/sign-out", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/_mock/ui").status_code == 303
    assert client.get("/_mock/faults").status_code == 401


def test_sign_in_needs_its_csrf_token_and_never_sends_a_browser_elsewhere(guarded):
    client = guarded.test_client()
    page = client.get("/_mock/ui/sign-in")
    assert client.post("/_mock/ui/sign-in", data={"token": TOKEN}).status_code == 403
    for elsewhere in ("https://evil.example/", "//evil.example/_mock/ui", "/other", "/_mock/ui\\@evil"):
        answer = client.post("/_mock/ui/sign-in", data={"token": TOKEN, "next": elsewhere,
                                                        "csrf_token": csrf_of(page.data)})
        assert answer.headers["Location"] == "/_mock/ui", elsewhere


def test_a_forged_or_stolen_looking_cookie_reads_nothing(guarded):
    client = guarded.test_client()
    client.set_cookie("paymock_ui", "abc.signed-in." + "f" * 32, path="/_mock")
    assert client.get("/_mock/ui").status_code == 303
    assert client.get("/_mock/state").status_code == 401
    # the token still works for scripts, cookie or not
    assert client.get("/_mock/state", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_another_sites_page_is_refused_even_signed_in(guarded):
    client = guarded.test_client()
    csrf = sign_in(client)
    answer = client.post("/_mock/reset", json={}, headers={"X-Paymock-CSRF": csrf,
                                                          "Origin": "https://evil.example"})
    assert answer.status_code == 403 and "origin" in answer.get_json()["error"]


def test_without_a_token_a_visitor_needs_no_sign_in_but_actions_need_csrf(open_app):
    client = open_app.test_client()
    page = client.get("/_mock/ui")
    assert page.status_code == 200 and "HttpOnly" in cookie_header(page)
    assert client.get("/_mock/ui/sign-in").status_code == 303  # nothing to sign in to
    assert client.post("/_mock/reset", json={}).status_code == 403  # the cookie is there
    assert client.post("/_mock/reset", json={},
                       headers={"X-Paymock-CSRF": csrf_of(page.data)}).status_code == 200
    # a script without the cookie is as before
    assert open_app.test_client().post("/_mock/reset", json={}).status_code == 200


def test_every_page_has_a_strict_policy_with_a_fresh_nonce(open_app):
    client = open_app.test_client()
    nonces = set()
    for path in ("/_mock/ui", "/_mock/ui/webhooks", "/_mock/ui/faults", "/_mock/ui/clock",
                 "/_mock/ui/journal"):
        page = client.get(path)
        policy = page.headers["Content-Security-Policy"]
        nonce = re.search(r"script-src 'nonce-([^']+)'", policy).group(1)
        assert "default-src 'none'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert f'<script src="/_mock/ui/static/ui.js" nonce="{nonce}"'.encode() in page.data
        assert b"http://" not in re.sub(rb'href="http://[^"]*"', b"", page.data).split(b"<body>")[0]
        nonces.add(nonce)
    assert len(nonces) == 5
    assert client.get("/_mock/ui/static/ui.js").status_code == 200


# -- what it shows ------------------------------------------------------------------------------------
def test_objects_are_paged_newest_first_and_searchable_by_email(open_app):
    client = open_app.test_client()
    key = "sk_test_dash_paging_a1b2"
    auth = {"Authorization": f"Bearer {key}"}
    made = []
    for n in range(120):
        body = {**CART, "customer": {"email": f"buyer{n}@example.com", "name": f"Buyer {n}"}}
        made.append(client.post("/dodo/checkouts", json=body, headers=auth).get_json()["session_id"])
    ns = Client.namespace_for("dodo", key)
    first = client.get(f"/_mock/ui/ns/{ns}?kind=session").data.decode()
    assert "Page 1 of 3" in first and "120 sessions" in first
    assert first.index(made[-1]) < first.index(made[-2])  # newest first
    assert made[0] not in first
    last = client.get(f"/_mock/ui/ns/{ns}?kind=session&page=3").data.decode()
    assert made[0] in last and made[19] in last and made[20] not in last
    found = client.get(f"/_mock/ui/ns/{ns}?kind=session&q=BUYER7@example").data.decode()
    assert "1 session holding" in found and made[7] in found and made[70] not in found
    by_id = client.get(f"/_mock/ui/ns/{ns}?kind=session&q={made[42][-8:]}").data.decode()
    assert made[42] in by_id and "1 session holding" in by_id
    assert client.get(f"/_mock/ui/find?id={made[5]}").headers["Location"] == \
        f"/_mock/ui/ns/{ns}/session/{made[5]}"
    assert client.get("/_mock/ui/find?id=cks_nothing").status_code == 404


def test_namespaces_carry_the_names_people_know(open_app):
    client = open_app.test_client()
    client.post("/dodo/checkouts", json=CART, headers={"Authorization": "Bearer sk_test_who_Zq9x"})
    core = open_app.extensions["paymock"]
    waffo = open_app.extensions["paymock.provider.waffo"]
    merchant = next(m for m in waffo._gateway.registry.all() if m.fixture)
    core.store.namespace(Client.namespace_for("waffo", merchant.merchant_id))
    overview = client.get("/_mock/ui").data.decode()
    assert "API key …Zq9x" in overview
    assert f"{merchant.name} ({merchant.merchant_id}, fixture)".replace("'", "&#39;") in overview
    assert "sk_test_who" not in overview  # only the key's end


def test_an_object_shows_its_timeline_and_the_requests_that_touched_it(open_app):
    client = open_app.test_client()
    key = "sk_test_dash_timeline"
    made = client.post("/dodo/checkouts", json=CART, headers={"Authorization": f"Bearer {key}"})
    session_id = made.get_json()["session_id"]
    assert client.post(f"/_mock/payments/{session_id}/outcome", json={"outcome": "paid"},
                       headers={"X-Paymock-CSRF": csrf_of(client.get("/_mock/ui").data)}
                       ).status_code == 200
    ns = Client.namespace_for("dodo", key)
    page = client.get(f"/_mock/ui/ns/{ns}/session/{session_id}").data.decode()
    assert "event <strong>payment.succeeded</strong>" in page
    assert "POST /dodo/checkouts" in page  # the request that made it, from the journal
    assert "Bearer" not in page  # credentials are redacted in the journal


def test_a_fault_rule_switches_off_and_on_keeping_its_counts(open_app):
    client = open_app.test_client()
    rule = client.post("/_mock/faults", json={"provider": "dodo", "operation": "create_session",
                                              "action": {"status": 503}}).get_json()["rules"][0]
    auth = {"Authorization": "Bearer sk_test_switch"}
    assert client.post("/dodo/checkouts", json=CART, headers=auth).status_code == 503
    off = client.patch(f"/_mock/faults/{rule['id']}", json={"enabled": False}).get_json()
    assert off["enabled"] is False and off["fired"] == 1
    assert client.post("/dodo/checkouts", json=CART, headers=auth).status_code == 200
    on = client.patch(f"/_mock/faults/{rule['id']}", json={"enabled": True}).get_json()
    assert on["enabled"] is True and on["matched"] == 1
    assert client.post("/dodo/checkouts", json=CART, headers=auth).status_code == 503
    assert client.patch(f"/_mock/faults/{rule['id']}", json={"enabled": "no"}).status_code == 400
    assert client.patch("/_mock/faults/rule_404", json={"enabled": True}).status_code == 404


def test_an_advance_lists_what_fell_due(open_app):
    client = open_app.test_client()
    auth = {"Authorization": "Bearer sk_test_fell_due"}
    client.post("/_mock/faults", json={"provider": "dodo", "operation": "create_session",
                                       "action": {"status": 500}, "times": 1, "enabled": False})
    client.post("/dodo/checkouts", json=CART, headers=auth)
    quiet = client.post("/_mock/clock/advance", json={"seconds": 1}).get_json()
    assert quiet["fell_due"] == []
    # an unpaid session's payment is abandoned an hour on: Dodo says so in an event
    session_id = client.post("/dodo/checkouts", json=CART, headers=auth).get_json()["session_id"]
    client.post(f"/_mock/payments/{session_id}/outcome", json={"outcome": "declined"})
    moved = client.post("/_mock/clock/advance", json={"seconds": 2 * 3600}).get_json()
    assert moved["fell_due"], moved
    assert all(set(event) == {"namespace", "provider", "type", "at"} for event in moved["fell_due"])
    assert {event["namespace"] for event in moved["fell_due"]} == {
        Client.namespace_for("dodo", "sk_test_fell_due")}


def test_a_page_reached_through_another_name_is_refused_without_a_token(open_app):
    """DNS rebinding: a name of the attacker's resolving to 127.0.0.1 reads nothing."""
    client = open_app.test_client()
    answer = client.get("/_mock/ui", headers={"Host": "evil.example:8787"})
    assert answer.status_code == 403 and "rebinding" in answer.get_json()["error"]
    assert client.get("/_mock/ui", headers={"Host": "localhost:8787"}).status_code == 200
