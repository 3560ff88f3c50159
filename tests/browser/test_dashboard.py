"""The dashboard (/_mock/ui) in Debian's chromium: signed in once with the control token, each view
and each action (pay, decline, expire, trigger, redeliver, endpoints, clock, faults, reset) driven
by clicks and keys, and its effect checked through the control API; live updates and their pause;
hostile data rendered as text; axe-core finds no serious violation in light or dark mode.
Screenshots of the main views are written to $PAYMOCK_SCREENSHOTS (conftest.SCREENSHOTS)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

from mock_server.control import Client
from waffo.helpers import MERCHANTS, ONETIME_ORDER, WaffoClient
from webhooks.receiver import Receiver

from .conftest import screenshot, serving

TOKEN = "dashboard-test-token-7f3a"
CART = {"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": 1}]}
HOSTILE = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
AXE_DIR = Path(__file__).parent / "axe"


@pytest.fixture(scope="module")
def dash():
    yield from serving(control_token=TOKEN)


@pytest.fixture
def mock(dash) -> Client:
    return Client(dash.url, token=TOKEN)


class Merchant:
    """A Dodo key of the test's own, and its namespace."""

    def __init__(self, dash):
        self.url = dash.url
        self.key = f"sk_test_{uuid.uuid4().hex}"
        self.namespace = Client.namespace_for("dodo", self.key)

    def checkout(self, **extra) -> str:
        answer = requests.post(f"{self.url}/dodo/checkouts", json={**CART, **extra}, timeout=10,
                               headers={"Authorization": f"Bearer {self.key}"})
        assert answer.status_code == 200, answer.text
        return answer.json()["session_id"]


@pytest.fixture
def merchant(dash) -> Merchant:
    return Merchant(dash)


def signed_in(browser, dash, **context_options):
    """A new browser context signed in to the dashboard the way a person does it."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.goto(f"{dash.url}/_mock/ui")
    assert "/_mock/ui/sign-in" in page.url
    page.fill("#token", TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{dash.url}/_mock/ui")
    return context, page


@pytest.fixture
def ui(browser, dash):
    context, page = signed_in(browser, dash)
    yield page
    context.close()
    assert page.dialogs == [], f"a page ran a script: {page.dialogs}"


def acted(page, text: str) -> None:
    """Wait for the flash an action leaves (after its reload, when it asks for one)."""
    try:
        page.wait_for_selector(f"#flash.ok:has-text('{text}')", timeout=10_000)
    except Exception:
        raise AssertionError(f"no {text!r} after the action; the page says "
                             f"{page.inner_text('#flash')!r}") from None


# -- signing in, the overview ------------------------------------------------------------------------
def test_signed_in_once_with_a_cookie_no_script_reads(browser, dash, merchant):
    merchant.checkout()
    context, page = signed_in(browser, dash)
    try:
        cookie = next(c for c in context.cookies() if c["name"] == "paymock_ui")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/_mock"
        assert TOKEN not in cookie["value"]
        assert page.evaluate("document.cookie") == ""  # HttpOnly: no script sees it
        row = page.locator("tr", has_text=merchant.namespace)
        assert f"API key …{merchant.key[-4:]}" in row.inner_text()
        assert re.search(r"(?<!\d)1 session(?!s)", row.inner_text()), row.inner_text()
        screenshot(page, "dashboard-overview")
        # the home page points a browser here
        page.goto(f"{dash.url}/")
        page.click("#dashboard")
        page.wait_for_url(f"{dash.url}/_mock/ui")
    finally:
        context.close()


# -- steering a session -------------------------------------------------------------------------------
def test_pay_decline_and_expire_sessions(ui, dash, mock, merchant):
    paid, declined, expired = (merchant.checkout() for _ in range(3))
    ui.goto(f"{dash.url}/_mock/ui/ns/{merchant.namespace}?kind=session")
    ui.click(f"text={paid}")
    ui.wait_for_url(f"**/session/{paid}")
    screenshot(ui, "dashboard-object")
    # from the keyboard: focus the button, press Enter
    ui.focus("button:has-text('Pay')")
    ui.keyboard.press("Enter")
    acted(ui, "/outcome: done (200)")
    assert mock.payments.list(merchant.namespace)[0]["status"] == "succeeded"
    assert "payment.succeeded" in ui.inner_text("#timeline-h + ol")

    ui.goto(f"{dash.url}/_mock/ui/ns/{merchant.namespace}/session/{declined}")
    ui.select_option("#reason", "insufficient_funds")
    ui.click("button:has-text('Decline')")
    acted(ui, "/outcome: done (200)")
    payment = next(p for p in mock.payments.list(merchant.namespace)
                   if p["ref"]["id"] == declined)
    assert payment["status"] == "failed" and payment["reason"] == "INSUFFICIENT_FUNDS"

    ui.goto(f"{dash.url}/_mock/ui/ns/{merchant.namespace}/session/{expired}")
    ui.click("button:has-text('Expire now')")
    acted(ui, f"/_mock/expire/session/{expired}: done (200)")
    status = requests.get(f"{dash.url}/dodo/checkouts/{expired}", timeout=10,
                          headers={"Authorization": f"Bearer {merchant.key}"})
    assert status.status_code == 404 and "has expired" in status.json()["message"], status.text


def test_a_waffo_order_paid_from_its_page(ui, dash, mock):
    waffo = WaffoClient(base_url=dash.url)
    session_id, token = waffo.session("ebook"), waffo.token()
    status, placed, _ = waffo.bearer(ONETIME_ORDER, {
        "checkoutSessionId": session_id, "buyerEmail": "buyer@example.com",
        "billingDetail": {"country": "US", "isBusiness": False, "state": "CA"}}, token)
    assert status == 200, placed
    namespace = Client.namespace_for("waffo", MERCHANTS["acme"]["merchantId"])
    ui.goto(f"{dash.url}/_mock/ui")
    row = ui.locator("tr", has_text=namespace)
    assert f"({MERCHANTS['acme']['merchantId']}, fixture)" in row.inner_text()
    row.locator("a", has_text=re.compile(r" orders?$")).click()
    ui.locator("tbody tr", has_text="buyer@example.com").first.locator("a").click()
    order_id = ui.inner_text("h1")
    ui.click("button:has-text('Pay')")
    acted(ui, "/outcome: done (200)")
    assert "order.completed" in [e["type"] for e in mock.webhooks.events(namespace)
                                 if order_id in json.dumps(e["payload"])]
    # the checkout session is not paid from its page: the buyer's order is
    ui.goto(f"{dash.url}/_mock/ui/ns/{namespace}/checkout_session/{session_id}")
    assert ui.locator("button:has-text('Pay')").count() == 0
    assert ui.locator("button:has-text('Expire now')").count() == 1


def test_trigger_an_event_and_reset_a_namespace(ui, dash, mock, merchant):
    merchant.checkout()
    ui.goto(f"{dash.url}/_mock/ui/ns/{merchant.namespace}")
    ui.select_option("#event", "payment.succeeded")
    ui.click("button:has-text('Trigger')")
    acted(ui, "/_mock/trigger: done (200)")
    assert "payment.succeeded" in [e["type"] for e in mock.webhooks.events(merchant.namespace)]
    assert ui.locator(".tabs a", has_text="payments").count() == 1  # the reload shows it
    # a trigger the provider refuses says why, and changes nothing
    ui.fill("#params", "{not json")
    ui.click("button:has-text('Trigger')")
    ui.wait_for_selector("#flash.bad:has-text('Not sent')")

    ui.click(f"button:has-text('Reset {merchant.namespace}')")
    ui.wait_for_url(f"{dash.url}/_mock/ui")
    acted(ui, "/_mock/reset: done (200)")
    assert merchant.namespace not in [n["name"] for n in
                                      requests.get(f"{dash.url}/_mock/namespaces", timeout=10,
                                                   headers={"Authorization": f"Bearer {TOKEN}"}
                                                   ).json()["namespaces"]]


# -- webhooks -----------------------------------------------------------------------------------------
def test_webhook_endpoints_deliveries_and_redeliver(ui, dash, mock, merchant):
    receiver = Receiver(statuses=[500] * 10)  # refuses until told otherwise
    try:
        session_id = merchant.checkout()  # (its namespace exists from here on)
        ui.goto(f"{dash.url}/_mock/ui/webhooks")
        ui.fill("#ep-url", receiver.url)
        ui.select_option("#ep-ns", merchant.namespace)
        ui.fill("#ep-events", "payment.succeeded")
        ui.click("button:has-text('Add endpoint')")
        acted(ui, "/_mock/webhooks/endpoints: done (201)")
        endpoint = next(e for e in mock.webhooks.endpoints() if e["url"] == receiver.url)
        assert endpoint["events"] == ["payment.succeeded"]

        assert endpoint["namespace"] == merchant.namespace
        mock.pay(session_id)
        deadline = time.monotonic() + 10
        while not any(d["attempts"] for d in mock.webhooks.deliveries(merchant.namespace)):
            assert time.monotonic() < deadline, "the first attempt never came back"
            time.sleep(0.05)
        ui.goto(f"{dash.url}/_mock/ui/webhooks?status=pending")
        row = ui.locator("tr", has_text="payment.succeeded").first
        row.wait_for()
        delivery_id = row.locator("a").first.inner_text()
        assert "500" in row.inner_text()
        screenshot(ui, "dashboard-webhooks")

        receiver.statuses.clear()  # the receiver is fixed: redeliver it
        row.locator("button:has-text('Redeliver')").click()
        acted(ui, "/redeliver: done (202)")  # queued: sent at once, in the background
        deadline = time.monotonic() + 10
        while 200 not in (answers := [a["status_code"] for a in
                                      mock.webhooks.delivery(delivery_id)["attempts"]]):
            assert time.monotonic() < deadline, answers
            time.sleep(0.05)
        assert answers[0] == 500

        # the search reads bodies too: the session's id finds the delivery about it
        ui.goto(f"{dash.url}/_mock/ui/webhooks?q={session_id}")
        assert "1 delivery, newest first." in ui.inner_text("main")
        assert delivery_id in ui.inner_text("main")
        ui.goto(f"{dash.url}/_mock/ui/webhooks/{delivery_id}")
        ui.locator("summary:has-text('Request headers')").first.click()
        assert "webhook-signature" in ui.inner_text("main").lower()  # the headers it sent
        assert "answered 200" in ui.inner_text("body")

        ui.goto(f"{dash.url}/_mock/ui/webhooks")
        ui.click(f"button:has-text('Remove {endpoint['id']}')")
        acted(ui, "done (200)")
        assert all(e["url"] != receiver.url for e in mock.webhooks.endpoints())
    finally:
        receiver.stop()


# -- the clock, faults ---------------------------------------------------------------------------------
def test_clock_freeze_advance_with_what_fell_due_and_resume(ui, dash, mock, merchant):
    declined = merchant.checkout()
    mock.pay(declined, "declined")  # its abandoned-checkout check falls due an hour on
    ui.goto(f"{dash.url}/_mock/ui/clock")
    ui.click("button:has-text('Freeze')")
    acted(ui, "/_mock/clock/freeze: done (200)")
    assert mock.clock.get()["frozen"] is True
    assert "frozen" in ui.inner_text("header")
    ui.click("button:has-text('+ 1 day')")
    ui.wait_for_selector("#fell-due li")
    assert "abandoned_checkout.detected" in ui.inner_text("#fell-due")
    screenshot(ui, "dashboard-clock")
    ui.click("button:has-text('Resume')")
    acted(ui, "/_mock/clock/resume: done (200)")
    assert mock.clock.get()["frozen"] is False
    mock.clock.reset()


def test_a_fault_rule_from_a_preset_counted_switched_off_and_deleted(ui, dash, mock, merchant):
    ui.goto(f"{dash.url}/_mock/ui/faults")
    ui.select_option("#fa-preset", "unavailable")
    ui.select_option("#fa-provider", "dodo")
    ui.fill("#fa-op", "create_session")
    ui.fill("#fa-desc", "checkout is down")
    ui.click("button:has-text('Add rule')")
    acted(ui, "/_mock/faults: done (201)")
    rule = next(r for r in mock.faults.list() if r.get("description") == "checkout is down")
    failed = requests.post(f"{dash.url}/dodo/checkouts", json=CART, timeout=10,
                           headers={"Authorization": f"Bearer {merchant.key}"})
    assert failed.status_code == 503
    ui.reload()
    row = ui.locator("tr", has_text=rule["id"])
    assert row.locator("td").nth(4).inner_text() == "1"  # fired
    screenshot(ui, "dashboard-faults")
    row.locator("button[role=switch]").click()
    acted(ui, "done (200)")
    assert mock.faults.get(rule["id"])["enabled"] is False
    merchant.checkout()  # answered again
    assert mock.faults.switch(rule["id"], True)["enabled"] is True  # the Python client's way
    ui.reload()
    assert ui.get_attribute(f"tr:has-text('{rule['id']}') button[role=switch]",
                            "aria-checked") == "true"
    ui.locator("tr", has_text=rule["id"]).locator("button:has-text('Delete')").click()
    acted(ui, "done (200)")
    assert all(r["id"] != rule["id"] for r in mock.faults.list())
    # a form that makes no action says what the server said
    ui.click("button:has-text('Add rule')")
    ui.wait_for_selector("#flash.bad:has-text('refused (400)')")


# -- live ------------------------------------------------------------------------------------------------
def test_the_journal_updates_by_itself_and_pauses(ui, dash, merchant):
    ui.goto(f"{dash.url}/_mock/ui/journal?namespace={merchant.namespace}")
    merchant.checkout()
    ui.wait_for_selector("summary:has-text('POST /dodo/checkouts')", timeout=8000)
    ui.click("button[data-pause]")
    assert ui.get_attribute("button[data-pause]", "aria-pressed") == "true"
    requests.get(f"{dash.url}/dodo/checkouts/cks_paused_probe", timeout=10,
                 headers={"Authorization": f"Bearer {merchant.key}"})
    time.sleep(4.5)  # two rounds of polling would have shown it
    assert "cks_paused_probe" not in ui.inner_text("main")
    ui.click("button[data-pause]")
    ui.wait_for_selector("summary:has-text('cks_paused_probe')", timeout=8000)


# -- hostile data ----------------------------------------------------------------------------------------
def test_markup_in_names_emails_and_metadata_renders_as_text(ui, dash, merchant):
    session_id = merchant.checkout(customer={"email": "x@example.com", "name": HOSTILE},
                                   metadata={HOSTILE: HOSTILE, "note": HOSTILE})
    for path in (f"/_mock/ui/ns/{merchant.namespace}?kind=session",
                 f"/_mock/ui/ns/{merchant.namespace}/session/{session_id}",
                 f"/_mock/ui/ns/{merchant.namespace}?kind=session&q={requests.utils.quote(HOSTILE)}",
                 "/_mock/ui/journal"):
        ui.goto(f"{dash.url}{path}")
        ui.wait_for_timeout(300)
        assert ui.locator("main img").count() == 0 and ui.locator("main script").count() == 0
        for details in ui.locator("details").all():
            details.evaluate("d => d.open = true")
        text = ui.inner_text("main")
        # as text: itself in a table cell, JSON-escaped (its quote) in JSON
        assert HOSTILE in text or json.dumps(HOSTILE)[1:-1] in text, path
        if "?kind=session" in path:
            assert HOSTILE in text
    ui.goto(f"{dash.url}/_mock/ui/find?id={requests.utils.quote(HOSTILE)}")
    assert HOSTILE in ui.inner_text("main")
    assert ui.dialogs == []


# -- accessibility -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def axe_script() -> Path:
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is required to install axe-core for the accessibility check "
                        "(apt-get install npm); this test must not be skipped")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=AXE_DIR, check=True,
                       timeout=300)
    return script


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation_on_any_view(browser, dash, mock, merchant, axe_script,
                                                         scheme):
    session_id = merchant.checkout(customer={"email": "ada@example.com", "name": "Ada"})
    mock.pay(session_id)
    mock.faults.add({"provider": "dodo", "operation": "get_checkout_sessions_status", "action": {"status": 500},
                     "namespace": merchant.namespace})
    # axe is injected as a script of the test's own: the page's policy would refuse it
    context, page = signed_in(browser, dash, color_scheme=scheme, bypass_csp=True)
    try:
        views = {"overview": "/_mock/ui", "namespace": f"/_mock/ui/ns/{merchant.namespace}",
                 "object": f"/_mock/ui/ns/{merchant.namespace}/session/{session_id}",
                 "webhooks": "/_mock/ui/webhooks", "faults": "/_mock/ui/faults",
                 "clock": "/_mock/ui/clock", "journal": "/_mock/ui/journal"}
        found = {}
        for name, path in views.items():
            page.goto(f"{dash.url}{path}")
            page.wait_for_timeout(400)  # the live panels' first round
            page.add_script_tag(path=str(axe_script))
            violations = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
                ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))")
            serious = [v for v in violations if v["impact"] in ("serious", "critical")]
            if serious:
                found[name] = serious
            if scheme == "dark" and name in ("overview", "namespace"):
                screenshot(page, f"dashboard-{name}-dark")
        assert found == {}, found
    finally:
        context.close()
        mock.faults.reset()
