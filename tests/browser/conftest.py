"""Playwright driving Debian's chromium against a live paymock, with local webhook receivers.

Playwright's own browser download does not work here, so the tests launch /usr/bin/chromium
(`apt-get install chromium`; .ci/run does it). When it is missing the tests fail, never skip.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import requests

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control import Client
from mock_server.server import Server
from webhooks.receiver import Receiver

CHROMIUM = os.environ.get("PAYMOCK_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("PAYMOCK_SCREENSHOTS", "/tmp/paymock-screenshots"))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"chromium not found at {CHROMIUM}: apt-get install -y chromium (the browser "
                    "tests must run, not skip)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs  # an escaping failure would run a script: no dialog may ever open
    yield page
    context.close()
    assert dialogs == [], f"a page ran a script: {dialogs}"


def serving(**settings):
    """A live server in this process for a module's tests (a generator for a fixture)."""
    app = create_app(Settings(port=0, webhook_timeout_seconds=2.0, **settings))
    server = Server(app, "127.0.0.1", 0, threads=8).start()
    yield server
    server.stop()
    app.extensions["paymock.webhooks"].stop()


@pytest.fixture(scope="module")
def live():
    yield from serving()


@pytest.fixture
def mock(live) -> Client:
    return Client(live.url)


class Shop:
    """One test's merchant: its own Dodo key (namespace), a receiver for its webhooks, and
    return/cancel pages served by that receiver."""

    def __init__(self, live, mock: Client, receiver: Receiver):
        self.live, self.mock, self.receiver = live, mock, receiver
        self.key = f"sk_test_{uuid.uuid4().hex}"
        self.namespace = Client.namespace_for("dodo", self.key)
        self.return_url = f"{receiver.base}/thanks"
        self.cancel_url = f"{receiver.base}/cart"

    def dodo(self, method: str, path: str, **kwargs):
        response = requests.request(method, f"{self.live.url}/dodo{path}", timeout=10,
                                    headers={"Authorization": f"Bearer {self.key}"}, **kwargs)
        return response


@pytest.fixture
def shop(live, mock):
    made = []

    def make(provider: str = "dodo", **receiver_kwargs) -> Shop:
        receiver = Receiver(**receiver_kwargs)
        made.append(receiver)
        shop = Shop(live, mock, receiver)
        if provider == "dodo":
            shop.endpoint = mock.webhooks.add_endpoint(receiver.url, namespace=shop.namespace)
        else:  # Waffo's fixture merchant namespace is shared by the module: scope by provider
            shop.endpoint = mock.webhooks.add_endpoint(receiver.url, provider="waffo")
        return shop

    yield make
    for receiver in made:
        receiver.stop()
    for endpoint in mock.webhooks.endpoints():
        mock.webhooks.delete_endpoint(endpoint["id"])


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
