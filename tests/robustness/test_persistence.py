"""--state-file: state survives a restart (SIGTERM, then a new process on the same file), is written
atomically, and a corrupt or foreign file is refused with a clear message and left untouched."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest
import requests

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.core import persistence
from mock_server.core.persistence import StateFileError
from tests.waffo.helpers import CREATE_SESSION, ONETIME_ORDER, WaffoClient

from tests.processes import serve, stop

PRODUCT = "pdt_uGej5ygB4DvTZFDmnvmUM"
US = {"country": "US", "isBusiness": False, "state": "CA"}


def test_restart_with_the_same_state_file_finds_everything(tmp_path):
    state = tmp_path / "state.json"
    proc, port = serve("--state-file", state, "--state-interval", "0")
    url = f"http://127.0.0.1:{port}"
    try:
        dodo = {"Authorization": "Bearer sk_test_restart"}
        sessions = [requests.post(f"{url}/dodo/checkouts", headers=dodo, timeout=10, json={
            "product_cart": [{"product_id": PRODUCT, "quantity": i + 1}], "confirm": False,
        }).json()["session_id"] for i in range(3)]
        waffo = WaffoClient(base_url=url)
        session = waffo.session("ebook")
        token = waffo.token()
        status, order, _ = waffo.bearer(ONETIME_ORDER, {"checkoutSessionId": session, "billingDetail": US,
                                                        "buyerEmail": "a@b.co"}, token,
                                        headers={"X-Idempotency-Key": "order-once"})
        assert status == 200, order
        # A store made through the API: its slug is a credential after the restart too.
        made = waffo.api("/v1/actions/store/create-store", {"name": "Restart Shop"})[1]
        shop = made["data"]["store"]
        product = waffo.api("/v1/actions/onetime-product/create-product", {
            "storeId": shop["id"], "name": "Kept", "prices": {
                "USD": {"amount": "3.00", "taxCategory": "ebook"}}})[1]["data"]["product"]["id"]
        frozen_at = int(requests.get(f"{url}/_mock/clock", timeout=5).json()["epoch"]) + 100
        requests.post(f"{url}/_mock/clock/freeze", json={"at": frozen_at}, timeout=5)
        requests.post(f"{url}/_mock/clock/advance", json={"seconds": 60}, timeout=5)
        rule = requests.post(f"{url}/_mock/faults", timeout=5, json={
            "id": "slow-products", "operation": "list_products_handler",
            "action": {"status": 503}, "times": 3}).json()["rules"][0]
        assert requests.get(f"{url}/dodo/products", headers=dodo, timeout=5).status_code == 503
        before = requests.get(f"{url}/_mock/state", timeout=10).json()
        rules_before = requests.get(f"{url}/_mock/faults", timeout=5).json()["rules"]
    finally:
        out = stop(proc, signal.SIGTERM)
    assert proc.returncode == 0, out
    assert f"state saved to {state}" in out and "Traceback" not in out
    document = json.loads(state.read_text())
    assert document["format"] == "paymock-state" and document["version"] == 1

    proc, port = serve("--state-file", state, "--state-interval", "0")
    url = f"http://127.0.0.1:{port}"
    try:
        assert requests.get(f"{url}/_mock/clock", timeout=5).json()["epoch"] == frozen_at + 60
        assert requests.get(f"{url}/_mock/state", timeout=10).json()["namespaces"] == before["namespaces"]
        rules = requests.get(f"{url}/_mock/faults", timeout=5).json()["rules"]
        assert rules == rules_before and rules[0]["id"] == rule["id"] and rules[0]["fired"] == 1
        for sid in sessions:
            got = requests.get(f"{url}/dodo/checkouts/{sid}", headers=dodo, timeout=5)
            assert got.status_code == 200 and got.json()["id"] == sid
        # The fault rule keeps counting where it stopped: two more 503s, then real answers.
        codes = [requests.get(f"{url}/dodo/products", headers=dodo, timeout=5).status_code
                 for _ in range(3)]
        assert codes == [503, 503, 200]
        # The idempotency key still replays the first answer, with the token issued before the
        # restart (its signing key is saved too).
        waffo = WaffoClient(base_url=url)
        status, again, headers = waffo.bearer(ONETIME_ORDER, {"checkoutSessionId": session},
                                              token, headers={"X-Idempotency-Key": "order-once"})
        assert status == 200 and headers.get("X-Paymock-Idempotent-Replay") == "true", again
        assert again == order
        status, visitor, _ = waffo.slug(CREATE_SESSION, {"productId": product, "currency": "USD"},
                                        slug=shop["slug"])
        assert status == 200, visitor
    finally:
        out = stop(proc)
    assert "restored clock, store, faults, idempotency" in out, out
    assert "waffo.tokens" in out and json.loads(state.read_text())["components"]["waffo.tokens"]["secret"] not in out


def test_state_is_saved_every_interval_without_a_clean_stop(tmp_path):
    state = tmp_path / "state.json"
    proc, port = serve("--state-file", state, "--state-interval", "0.2")
    try:
        sid = requests.post(f"http://127.0.0.1:{port}/dodo/checkouts", timeout=5,
                            headers={"Authorization": "Bearer sk_test_interval"},
                            json={"product_cart": [{"product_id": PRODUCT, "quantity": 1}]}
                            ).json()["session_id"]
        deadline = time.time() + 10
        while time.time() < deadline and sid.encode() not in (state.read_bytes() if state.exists() else b""):
            time.sleep(0.1)
    finally:
        proc.kill()  # no chance to save on the way out
        proc.communicate(timeout=10)
    assert sid in state.read_text()
    assert not [p for p in tmp_path.iterdir() if p.name != "state.json"]  # no temp files left


@pytest.mark.parametrize("content,reason", [
    (b"this is not json", "not JSON"),
    (b'{"format": "paymock-state", "version": 1, "compo', "not JSON"),
    (b'{"hello": "world"}', '"format": "paymock-state"'),
    (b'[1, 2, 3]', '"format": "paymock-state"'),
    (b'{"format": "paymock-state", "version": 99, "components": {}}', "version 99"),
    (b'{"format": "paymock-state", "version": 1, "components": {"store": [1]}}', "store"),
    (b'{"format": "paymock-state", "version": 1, "components": {"faults": [{"action": 1}]}}', "faults"),
])
def test_a_corrupt_or_foreign_state_file_is_refused_and_left_untouched(tmp_path, content, reason):
    state = tmp_path / "state.json"
    state.write_bytes(content)
    stamp = state.stat().st_mtime_ns
    proc, _ = serve("--state-file", state, wait=False)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2, out
    assert "paymock: cannot start: state file" in out and reason in out, out
    assert "Traceback" not in out
    assert state.read_bytes() == content and state.stat().st_mtime_ns == stamp


def test_a_directory_is_not_a_state_file(tmp_path):
    proc, _ = serve("--state-file", tmp_path, wait=False)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "is a directory" in out and "Traceback" not in out


def test_writes_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / "state.json"
    path.write_bytes(b"old")

    def boom(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(persistence.os, "replace", boom)
    with pytest.raises(OSError):
        persistence.write_atomically(path, b"new")
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_temporary_files_of_a_killed_save_are_removed_at_the_next_start(tmp_path):
    """A save killed between writing its temporary file and renaming it leaves the file behind;
    the next start removes it (and nothing else)."""
    state = tmp_path / "state.json"
    app = create_app(Settings(port=0))
    app.extensions["paymock"].persistence.save(state)
    leftovers = [tmp_path / ".state.json.abc123.tmp", tmp_path / ".state.json.x.tmp"]
    for leftover in leftovers:
        leftover.write_bytes(b'{"format": "paymock-st')  # what kill -9 mid-save leaves
    unrelated = [tmp_path / ".other.json.abc.tmp", tmp_path / "notes.tmp"]
    for path in unrelated:
        path.write_text("keep")
    proc, _ = serve("--state-file", state)
    try:
        assert not any(path.exists() for path in leftovers)
        assert all(path.exists() for path in unrelated)
    finally:
        stop(proc)


def test_components_register_and_round_trip(tmp_path):
    app = create_app(Settings(port=0))
    core = app.extensions["paymock"]
    box = {"pending": [{"id": "evt_1", "attempts": 2}]}
    core.persistence.register("outbox", lambda: box, lambda data: box.update(restored=data))
    client = app.test_client()
    made = client.post("/dodo/checkouts", headers={"Authorization": "Bearer k"},
                       json={"product_cart": [{"product_id": PRODUCT, "quantity": 2}]})
    sid = made.get_json()["session_id"]
    frozen_at = core.clock.now() + 60
    core.clock.freeze(frozen_at)
    core.faults.add({"operation": "create_session", "action": {"status": 429}, "probability": 0.5,
                     "seed": 7})
    for _ in range(5):
        core.faults.decide(_request())
    saved = core.persistence.save(tmp_path / "s.json")

    other = create_app(Settings(port=0))
    other_core = other.extensions["paymock"]
    other_core.persistence.register("outbox", lambda: {}, lambda data: box.update(restored=data))
    restored = other_core.persistence.restore(saved)  # core components first, then any others
    assert restored[:4] == ["clock", "store", "faults", "idempotency"] and restored[-1] == "outbox"
    assert box["restored"] == {"pending": [{"id": "evt_1", "attempts": 2}]}
    assert other_core.clock.now() == frozen_at and other_core.clock.frozen
    assert other_core.store.snapshot() == core.store.snapshot()
    got = other.test_client().get(f"/dodo/checkouts/{sid}", headers={"Authorization": "Bearer k"})
    assert got.status_code == 200
    # The seeded random stream goes on where it was: both engines decide alike from here.
    mine = [bool(core.faults.decide(_request())) for _ in range(20)]
    theirs = [bool(other_core.faults.decide(_request())) for _ in range(20)]
    assert mine == theirs
    assert other_core.faults.add({"action": 500}).id == "rule_2"  # ids continue


def test_expired_objects_stay_expired_after_a_restore(tmp_path):
    app = create_app(Settings(port=0))
    core = app.extensions["paymock"]
    core.clock.freeze(1_900_000_000)
    client = app.test_client()
    auth = {"Authorization": "Bearer k"}
    sid = client.post("/dodo/checkouts", headers=auth, json={
        "product_cart": [{"product_id": PRODUCT, "quantity": 1}]}).get_json()["session_id"]
    core.clock.advance(24.5 * 3600)  # expired, still retained (evicted after 25 h)
    core.persistence.save(tmp_path / "s.json")
    other = create_app(Settings(port=0))
    other.extensions["paymock"].persistence.restore(tmp_path / "s.json")
    got = other.test_client().get(f"/dodo/checkouts/{sid}", headers=auth)
    assert got.status_code == 404 and "has expired" in got.get_json()["message"]


def test_read_refuses_what_it_cannot_use(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text(json.dumps({"format": "something-else", "version": 1}))
    with pytest.raises(StateFileError, match="not a paymock state file"):
        persistence.read(bad)
    assert persistence.Persistence().restore(tmp_path / "missing.json") is None
    assert os.path.exists(bad)


def _request():
    from mock_server.core.faults import RequestInfo
    return RequestInfo("dodo", "create_session", "POST", "/checkouts", "dodo:x")
