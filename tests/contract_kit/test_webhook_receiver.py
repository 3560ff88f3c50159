"""The compose demo's webhook receiver: verifies Standard Webhooks (Dodo) and X-Waffo-Signature."""
from __future__ import annotations

from pathlib import Path
import base64
import io
import json
import threading
import time

import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from mock_server.contract_kit import webhook_receiver as wr
from mock_server.providers.dodo.contract_support import dodo_sign
from mock_server.providers.dodo.webhooks import DEFAULT_SECRET

REPO_ROOT = Path(__file__).resolve().parents[2]  # the checkout: the source files themselves

KEYS = REPO_ROOT / "fixtures" / "waffo" / "keys"
PRIVATE = (KEYS / "acme-test.TEST-ONLY.private.pem").read_bytes()
PUBLIC = (KEYS / "acme-test.TEST-ONLY.public.pem").read_text()
BODY = json.dumps({"type": "payment.succeeded", "data": {"payment_id": "pay_1"}}).encode()


def _dodo_headers(body=BODY, stamp=None, secret=DEFAULT_SECRET):
    stamp = str(int(stamp or time.time()))
    return {"webhook-id": "msg_1", "webhook-timestamp": stamp,
            "webhook-signature": dodo_sign(secret, "msg_1", stamp, body)}


def _waffo_headers(body: bytes, t_ms: int | None = None):
    t = str(t_ms or int(time.time() * 1000))
    key = serialization.load_pem_private_key(PRIVATE, None)
    sig = key.sign(f"{t}.".encode() + body, padding.PKCS1v15(), hashes.SHA256())
    return {"X-Waffo-Signature": f"t={t},v1={base64.b64encode(sig).decode()}"}


def test_dodo_deliveries_are_verified_and_deduped():
    receiver = wr.Receiver.from_env({}, out=io.StringIO())
    assert receiver.handle(_dodo_headers(), BODY) == (204, {
        "verified": True, "provider": "dodo", "delivery": "msg_1", "type": "payment.succeeded",
        "duplicate": False})
    assert receiver.handle(_dodo_headers(), BODY)[1]["duplicate"] is True
    assert receiver.handle(_dodo_headers(), BODY + b" ")[0] == 401  # body changed
    assert receiver.handle(_dodo_headers(stamp=time.time() - 600), BODY)[1]["reason"].startswith(
        "webhook-timestamp is more than 5 minutes off")
    other = "whsec_" + base64.b64encode(b"another secret").decode()
    assert receiver.handle(_dodo_headers(secret=other), BODY)[0] == 401


def test_waffo_deliveries_are_verified():
    body = json.dumps({"id": "d-1", "eventType": "order.completed", "data": {}}).encode()
    receiver = wr.Receiver.from_env({"WAFFO_WEBHOOK_PUBLIC_KEY": PUBLIC}, out=io.StringIO())
    status, entry = receiver.handle(_waffo_headers(body), body)
    assert (status, entry["provider"], entry["type"]) == (204, "waffo", "order.completed")
    assert receiver.handle(_waffo_headers(body), body.replace(b"d-1", b"d-2"))[0] == 401
    old = int((time.time() - 46 * 60) * 1000)
    assert receiver.handle(_waffo_headers(body, old), body)[0] == 401
    assert wr.Receiver.from_env({}, out=io.StringIO()).handle(_waffo_headers(body), body)[0] == 401


def test_over_http():
    out = io.StringIO()
    server = wr.make_server(wr.Receiver.from_env({}, out=out), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert requests.post(url, data=BODY, headers=_dodo_headers(), timeout=5).status_code == 204
        assert requests.post(url, data=BODY, timeout=5).status_code == 401
        assert requests.get(url, timeout=5).status_code == 200
    finally:
        server.shutdown()
    logged = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [entry["verified"] for entry in logged] == [True, False]
