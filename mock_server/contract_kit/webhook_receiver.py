"""A tiny webhook receiver for docker-compose demos: verifies each delivery and logs it.

    python -m mock_server.contract_kit.webhook_receiver --port 9000

- Dodo (Standard Webhooks): `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64
  HMAC-SHA256 of "{id}.{timestamp}.{body}">`, key = base64 part of the `whsec_` secret
  (DODO_PAYMENTS_WEBHOOK_KEY; default paymock's TEST-ONLY secret). Timestamps more than 5 minutes
  off are refused.
- Waffo: `X-Waffo-Signature: t=<unix ms>,v1=<base64 RSA-SHA256 of "{t}.{body}">`, verified with
  WAFFO_WEBHOOK_PUBLIC_KEY (PEM text) or WAFFO_WEBHOOK_PUBLIC_KEY_FILE.

A verified delivery answers 204 and prints one JSON line (`"verified": true`, the event type and
id); a bad signature answers 401 and prints why. Receivers should dedupe on the delivery id: this
one prints `"duplicate": true` for an id it has seen.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# TEST-ONLY: the secret paymock signs Dodo webhooks with unless told otherwise.
DEFAULT_DODO_SECRET = "whsec_cGF5bW9jay1URVNULU9OTFktd2ViaG9vay1zZWNyZXQ="
DODO_TOLERANCE = 300
WAFFO_PAST, WAFFO_FUTURE = 45 * 60, 60


class Rejected(Exception):
    pass


def dodo_sign(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_dodo(headers, body: bytes, secret: str, now: float | None = None) -> str:
    msg_id, stamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature", "")
    if not msg_id or not stamp or not signatures:
        raise Rejected("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        if abs((now or time.time()) - int(stamp)) > DODO_TOLERANCE:
            raise Rejected("webhook-timestamp is more than 5 minutes off")
    except ValueError:
        raise Rejected("webhook-timestamp is not a unix time") from None
    expected = dodo_sign(secret, msg_id, stamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures.split()):
        raise Rejected("webhook-signature does not match")
    return msg_id


def verify_waffo(headers, body: bytes, public_key_pem: str, now: float | None = None) -> str:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = dict(item.split("=", 1) for item in headers.get("X-Waffo-Signature", "").split(",") if "=" in item)
    if "t" not in parts or "v1" not in parts:
        raise Rejected("X-Waffo-Signature must be t=<ms>,v1=<signature>")
    try:
        age = (now or time.time()) - int(parts["t"]) / 1000
    except ValueError:
        raise Rejected("X-Waffo-Signature t is not a unix time in milliseconds") from None
    if age > WAFFO_PAST or age < -WAFFO_FUTURE:
        raise Rejected("X-Waffo-Signature t is outside 45 minutes old / 1 minute ahead")
    key = serialization.load_pem_public_key(public_key_pem.encode())
    try:
        key.verify(base64.b64decode(parts["v1"]), f"{parts['t']}.".encode() + body,
                   padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        raise Rejected("X-Waffo-Signature does not verify with the configured public key") from None
    try:
        return str(json.loads(body).get("id"))
    except (ValueError, AttributeError):
        raise Rejected("body is not a JSON object") from None


class Receiver:
    def __init__(self, dodo_secret: str | None, waffo_public_key: str | None, out=None):
        self.dodo_secret = dodo_secret
        self.waffo_public_key = waffo_public_key
        self.out = out or sys.stdout
        self.seen: set[str] = set()

    def handle(self, headers, body: bytes) -> tuple[int, dict]:
        try:
            if headers.get("X-Waffo-Signature"):
                if not self.waffo_public_key:
                    raise Rejected("a Waffo delivery, but no WAFFO_WEBHOOK_PUBLIC_KEY is configured")
                provider, delivery = "waffo", verify_waffo(headers, body, self.waffo_public_key)
            else:
                provider, delivery = "dodo", verify_dodo(headers, body, self.dodo_secret or DEFAULT_DODO_SECRET)
        except Rejected as exc:
            entry = {"verified": False, "reason": str(exc)}
            self._log(entry)
            return 401, entry
        event = json.loads(body)
        entry = {"verified": True, "provider": provider, "delivery": delivery,
                 "type": event.get("type") or event.get("eventType"), "duplicate": delivery in self.seen}
        self.seen.add(delivery)
        self._log(entry)
        return 204, entry

    def _log(self, entry: dict) -> None:
        print(json.dumps(entry), file=self.out, flush=True)


def make_server(receiver: Receiver, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, entry = receiver.handle(self.headers, body)
            payload = b"" if status == 204 else json.dumps(entry).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):  # noqa: N802 - a health check for compose
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    return ThreadingHTTPServer((host, port), Handler)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mock_server.contract_kit.webhook_receiver",
                                     description="verify and log paymock's (or a provider's) webhooks")
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=9000)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    key = os.environ.get("WAFFO_WEBHOOK_PUBLIC_KEY")
    if not key and os.environ.get("WAFFO_WEBHOOK_PUBLIC_KEY_FILE"):
        with open(os.environ["WAFFO_WEBHOOK_PUBLIC_KEY_FILE"]) as fh:
            key = fh.read()
    receiver = Receiver(os.environ.get("DODO_PAYMENTS_WEBHOOK_KEY"), key)
    server = make_server(receiver, args.host, args.port)
    print(f"webhook receiver listening on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
