"""A tiny webhook receiver for tests: an HTTP server on 127.0.0.1 that records every request,
answers with a scripted status (e.g. fail twice, then succeed) and can verify signatures."""
from __future__ import annotations

import html
import json
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SDK_DIR = HERE.parent / "waffo" / "sdk"


class Receiver:
    def __init__(self, statuses=(), verify=None, delays=()):
        self.statuses = list(statuses)   # answered in order, then 200
        self.verify = verify             # (body, headers) -> None, raises when invalid: 401
        self.delays = list(delays)       # seconds to sleep before each answer, in order (timeouts)
        self.requests: list[dict] = []
        self.processed: dict[str, dict] = {}  # deduped on the delivery id, as receivers must
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver._handle(self, raw)

            def do_GET(self):
                # The merchant's return and cancel pages, for buyers the browser tests redirect.
                body = f"<!doctype html><title>Merchant</title><h1>Merchant page</h1><p>{html.escape(self.path)}</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, handler, raw: bytes) -> None:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        body = raw.decode()
        with self._lock:
            status = self.statuses.pop(0) if self.statuses else 200
            delay = self.delays.pop(0) if self.delays else 0
        error = None
        if status == 200 and self.verify is not None:
            try:
                self.verify(body, headers)
            except Exception as exc:  # the receiver refuses what it cannot verify
                status, error = 401, f"{type(exc).__name__}: {exc}"
        if delay:
            time.sleep(delay)
        record = {"headers": headers, "body": body, "status": status, "error": error}
        with self._lock:
            self.requests.append(record)
            if status == 200:
                key = headers.get("webhook-id") or json.loads(body).get("id")
                self.processed.setdefault(key, json.loads(body))
            self._lock.notify_all()
        handler.send_response(status)
        handler.send_header("Content-Type", "text/plain")
        handler.end_headers()
        handler.wfile.write(b"ok" if status == 200 else f"no: {error or status}".encode())

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} webhook request(s), got "
                                         f"{len(self.requests)}: {self.requests}")
                self._lock.wait(left)
            return list(self.requests)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verify_waffo(public_key: str, deliveries: list[dict]) -> list[dict]:
    """Run the official @waffo/pancake-ts verifyWebhook over recorded (body, signature) pairs."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is required to verify Waffo webhooks with @waffo/pancake-ts "
                    "(apt-get install nodejs npm); this test must not be skipped")
    if not (SDK_DIR / "node_modules" / "@waffo" / "pancake-ts").is_dir():
        subprocess.run([shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"],
                       cwd=SDK_DIR, check=True, timeout=300)
    proc = subprocess.run([node, str(HERE / "verify_waffo.mjs")], capture_output=True, text=True,
                          timeout=60, input=json.dumps({"publicKey": public_key,
                                                        "deliveries": deliveries}))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
