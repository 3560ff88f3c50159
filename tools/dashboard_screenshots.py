"""Redraw the README's dashboard screenshots (docs/dashboard-*.png): a server in this process with a
small shop's day in it (paid, declined and open checkouts, a webhook receiver that fails once, a
fault rule that fired), photographed in Debian's chromium at a laptop's 1280x800.

    python tools/dashboard_screenshots.py            # needs /usr/bin/chromium and playwright
"""
from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.control import Client
from mock_server.server import Server

DOCS = Path(__file__).resolve().parent.parent / "docs"
CHROMIUM = "/usr/bin/chromium"
KEY = "sk_test_shop_demo_K3v9"
PRODUCT = "pdt_uGej5ygB4DvTZFDmnvmUM"
BUYERS = ["ada@example.com", "grace@example.org", "alan@example.net", "edsger@example.com",
          "barbara@example.org", "donald@example.com"]


class FailsOnce(BaseHTTPRequestHandler):
    seen = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        FailsOnce.seen += 1
        self.send_response(500 if FailsOnce.seen == 1 else 200)
        self.end_headers()

    def log_message(self, *_args):
        pass


def shop_day(url: str) -> str:
    mock = Client(url)
    namespace = Client.namespace_for("dodo", KEY)
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), FailsOnce)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    auth = {"Authorization": f"Bearer {KEY}"}
    requests.post(f"{url}/dodo/checkouts", headers=auth, timeout=10,
                  json={"product_cart": [{"product_id": PRODUCT, "quantity": 1}]})
    mock.webhooks.add_endpoint(f"http://127.0.0.1:{receiver.server_address[1]}/webhooks",
                               namespace=namespace)
    for n, email in enumerate(BUYERS):
        made = requests.post(f"{url}/dodo/checkouts", headers=auth, timeout=10, json={
            "product_cart": [{"product_id": PRODUCT, "quantity": 1}],
            "customer": {"email": email, "name": email.split("@")[0].title()}}).json()
        if n % 3 == 0:
            mock.pay(made["session_id"])
        elif n % 3 == 1:
            mock.pay(made["session_id"], "declined", reason="insufficient_funds")
    mock.faults.add({"provider": "dodo", "operation": "create_session",
                     "action": {"preset": "unavailable"}, "times": 1,
                     "description": "checkout down once"})
    requests.post(f"{url}/dodo/checkouts", headers=auth, timeout=10,
                  json={"product_cart": [{"product_id": PRODUCT, "quantity": 1}]})
    mock.webhooks.flush(wait=5)
    return namespace


def main() -> int:
    app = create_app(Settings(port=0))
    server = Server(app, "127.0.0.1", 0, threads=8).start()
    try:
        namespace = shop_day(server.url)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless"])
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            for name, path in (("namespace", f"/_mock/ui/ns/{namespace}?kind=session"),
                               ("webhooks", "/_mock/ui/webhooks")):
                page.goto(f"{server.url}{path}")
                page.wait_for_timeout(500)  # the live panels' first round
                out = DOCS / f"dashboard-{name}.png"
                page.screenshot(path=str(out))
                print(f"wrote {out}")
            browser.close()
    finally:
        server.stop()
        app.extensions["paymock.webhooks"].stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
