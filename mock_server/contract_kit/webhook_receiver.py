"""A tiny webhook receiver for docker-compose demos: verifies each delivery and logs it.

    python -m mock_server.contract_kit.webhook_receiver --port 9000

Each provider with contract support verifies its own deliveries (ContractSupport.claims_webhook,
webhook_key, verify_webhook): a delivery goes to the first provider whose signature headers it
carries, which checks it with the key its environment variables configure (each built-in
provider's contract_support.py says which variables, and which key it falls back to).

A verified delivery answers 204 and prints one JSON line (`"verified": true`, the provider, the
event type and delivery id); a bad signature answers 401 and prints why. Receivers should dedupe
on the delivery id: this one prints `"duplicate": true` for an id it has seen.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..providers.contract_support import WebhookRejected
from . import registry


class Receiver:
    """Verifies each delivery with the provider that claims it and logs one JSON line."""

    def __init__(self, verifiers, out=None):
        """`verifiers`: (provider name, ContractSupport, key) in the order they are asked."""
        self.verifiers = list(verifiers)
        self.out = out or sys.stdout
        self.seen: set[str] = set()

    @classmethod
    def from_env(cls, env, out=None) -> Receiver:
        """Every provider with contract support, each with the key `env` configures for it."""
        return cls([(name, provider.contract_support, provider.contract_support.webhook_key(env))
                    for name, provider in registry.supported().items()], out)

    def handle(self, headers, body: bytes) -> tuple[int, dict]:
        try:
            claimed = next(((name, support, key) for name, support, key in self.verifiers
                            if support.claims_webhook(headers)), None)
            if claimed is None:
                expected = [h for _, support, _ in self.verifiers for h in support.webhook_headers]
                raise WebhookRejected(f"no provider's signature headers (one of {', '.join(expected)})")
            provider, support, key = claimed
            verified = support.verify_webhook(headers, body, key)
        except WebhookRejected as exc:
            entry = {"verified": False, "reason": str(exc)}
            self._log(entry)
            return 401, entry
        entry = {"verified": True, "provider": provider, "delivery": verified.delivery,
                 "type": verified.type, "duplicate": verified.delivery in self.seen}
        self.seen.add(verified.delivery)
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
    receiver = Receiver.from_env(os.environ)
    server = make_server(receiver, args.host, args.port)
    print(f"webhook receiver listening on {args.host}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
