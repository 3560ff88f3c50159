"""Fixtures for the robustness suite: a live server as `paymock serve` runs it (any Dodo key), raw
HTTP that sends exactly the bytes a test chooses, and the providers' error envelopes."""
from __future__ import annotations

import http.client
import json

import pytest

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.server import Server

DODO_KEY = "sk_test_robustness_suite"


@pytest.fixture(scope="module")
def live():
    app = create_app(Settings(port=0))
    server = Server(app, "127.0.0.1", 0, threads=8).start()
    yield server
    server.stop()


class Raw:
    """HTTP/1.1 with exactly the bytes given: no client-side quoting or normalisation."""

    def __init__(self, url: str):
        self.host, port = url.split("//", 1)[1].rsplit(":", 1)
        self.port = int(port)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None, chunked: bool = False):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if body is not None and not chunked:
                conn.putheader("Content-Length", str(len(body)))
            if chunked:
                conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            if body is not None:
                if chunked:
                    for start in range(0, len(body), 65536):
                        piece = body[start:start + 65536]
                        conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                    conn.send(b"0\r\n\r\n")
                else:
                    conn.send(body)
            resp = conn.getresponse()
            return resp.status, resp.read(), dict(resp.getheaders())
        finally:
            conn.close()


@pytest.fixture(scope="module")
def raw(live):
    return Raw(live.url)


def dodo_error(status: int, raw_body: bytes) -> dict:
    """Dodo's envelope {code, message}, and nothing that looks like a traceback."""
    assert b"Traceback" not in raw_body and b"<html" not in raw_body.lower(), raw_body[:300]
    payload = json.loads(raw_body)
    assert set(payload) == {"code", "message"}, payload
    assert isinstance(payload["code"], str) and isinstance(payload["message"], str)
    return payload


def waffo_error(status: int, raw_body: bytes) -> dict:
    """Waffo's envelope {data: null, errors: [{message, layer}]}."""
    assert b"Traceback" not in raw_body and b"<html" not in raw_body.lower(), raw_body[:300]
    payload = json.loads(raw_body)
    assert payload["data"] is None and len(payload["errors"]) == 1, payload
    assert set(payload["errors"][0]) == {"message", "layer"}, payload
    return payload["errors"][0]
