"""A webhook receiver for the mix scenario: a small WSGI app served by waitress (a real HTTP server).

    python benchmarks/sink.py PORT [SECRET]

`POST /hook/<anything>` counts one delivery per (path, webhook-id): received, unique, duplicates,
and, given the Dodo signing secret (`whsec_...`), deliveries whose Standard Webhooks signature
(`webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`) does not match. Answers 204.
`GET /stats` answers the counts as JSON; `POST /reset` zeroes them. Nothing else is stored.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import threading
import time


class Sink:
    def __init__(self, secret: str = ""):
        whsec = secret.startswith("whsec_")
        self.key = base64.b64decode(secret.split("_", 1)[1]) if whsec else None
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.received = 0
            self.bad_signatures = 0
            self.seen: set[tuple[str, str]] = set()
            self.by_path: dict[str, int] = {}
            self.first_at = self.last_at = None

    def stats(self) -> dict:
        with self.lock:
            return {"received": self.received, "unique": len(self.seen),
                    "duplicates": self.received - len(self.seen),
                    "bad_signatures": self.bad_signatures, "by_path": dict(self.by_path),
                    "first_at": self.first_at, "last_at": self.last_at, "now": time.time()}

    def _signed(self, environ, body: bytes) -> bool:
        if self.key is None:
            return True
        msg_id = environ.get("HTTP_WEBHOOK_ID", "")
        stamp = environ.get("HTTP_WEBHOOK_TIMESTAMP", "")
        digest = hmac.new(self.key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        expected = base64.b64encode(digest).decode()
        return any(part.split(",", 1)[-1] == expected
                   for part in environ.get("HTTP_WEBHOOK_SIGNATURE", "").split())

    def __call__(self, environ, start_response):
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method == "POST" and path.startswith("/hook/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            good = self._signed(environ, body)
            now = time.time()
            with self.lock:
                self.received += 1
                self.seen.add((path, environ.get("HTTP_WEBHOOK_ID", "")))
                self.by_path[path] = self.by_path.get(path, 0) + 1
                self.bad_signatures += not good
                self.first_at = self.first_at or now
                self.last_at = now
            start_response("204 No Content", [])
            return [b""]
        if method == "GET" and path == "/stats":
            body = json.dumps(self.stats()).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if method == "POST" and path == "/reset":
            self.reset()
            start_response("204 No Content", [])
            return [b""]
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]


def main(argv: list[str]) -> None:
    import waitress

    port = int(argv[0])
    secret = argv[1] if len(argv) > 1 else ""
    print(f"sink listening on http://127.0.0.1:{port}", flush=True)
    waitress.serve(Sink(secret), host="127.0.0.1", port=port, threads=4, ident="sink",
                   _quiet=True)


if __name__ == "__main__":
    main(sys.argv[1:])
