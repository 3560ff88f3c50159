"""The /_mock control API: health, reset, state, clock, journal, and its bad input."""
import pytest

from mock_server.core.http import credential_namespace
from tests.conftest import API_KEY


def make_session(client, auth, catalog):
    body = {"product_cart": [{"product_id": catalog.dodo_id("ebook_guide"), "quantity": 1}]}
    return client.post("/dodo/checkouts", json=body, headers=auth).json["session_id"]


def test_health(client):
    health = client.get("/_mock/health").json
    assert health["status"] == "ok"
    assert health["providers"]["dodo"] == "/dodo"


def test_state_shows_a_namespace_per_key_without_the_key(client, auth, catalog):
    session_id = make_session(client, auth, catalog)
    ns = credential_namespace("dodo", API_KEY)
    state = client.get("/_mock/state").json
    assert session_id in state["namespaces"][ns]["session"]
    assert API_KEY not in str(state)
    one = client.get(f"/_mock/state?namespace={ns}").json
    assert list(one["namespaces"]) == [ns]
    missing = client.get("/_mock/state?namespace=dodo:nope")
    assert missing.status_code == 404 and "known:" in missing.json["error"]


def test_reset_one_namespace_keeps_the_others(client, auth, catalog):
    mine = make_session(client, auth, catalog)
    other_auth = {"Authorization": "Bearer sk_other"}
    theirs = make_session(client, other_auth, catalog)
    ns = credential_namespace("dodo", API_KEY)
    assert client.post("/_mock/reset", json={"namespace": ns}).json == {"reset": [ns]}
    assert client.get(f"/dodo/checkouts/{mine}", headers=auth).status_code == 404
    assert client.get(f"/dodo/checkouts/{theirs}", headers=other_auth).status_code == 200
    # the namespace comes back seeded: the catalog is still there
    assert client.get(f"/dodo/products/{catalog.dodo_id('mouse')}", headers=auth).status_code == 200
    client.post("/_mock/reset")
    assert client.get(f"/dodo/checkouts/{theirs}", headers=other_auth).status_code == 404


def test_clock_read_freeze_advance_resume(client, clock):
    start = client.get("/_mock/clock").json
    assert start["frozen"] is True
    advanced = client.post("/_mock/clock/advance", json={"seconds": 90}).json
    assert advanced["epoch"] == start["epoch"] + 90
    assert client.post("/_mock/clock/resume").json["frozen"] is False
    assert client.post("/_mock/clock", json={"action": "freeze", "at": 100}).json["epoch"] == 100


@pytest.mark.parametrize("path, body, fragment", [
    ("/_mock/clock", {"action": "rewind"}, "action must be one of"),
    ("/_mock/clock/advance", {"seconds": "ten"}, "seconds must be a number"),
    ("/_mock/clock/advance", {"seconds": -5}, "only moves forward"),
    ("/_mock/clock/advance", {}, "seconds must be a number"),
    ("/_mock/reset", {"namespace": 5}, "namespace must be a string"),
])
def test_bad_control_input_is_a_400_naming_the_problem(client, path, body, fragment):
    response = client.post(path, json=body)
    assert response.status_code == 400
    assert fragment in response.json["error"]


def test_control_body_must_be_an_object(client):
    response = client.post("/_mock/clock/advance", data="[1]", content_type="application/json")
    assert response.status_code == 400 and "JSON object" in response.json["error"]


def test_journal_records_requests_with_credentials_redacted(client, auth, catalog):
    make_session(client, auth, catalog)
    client.get("/dodo/checkouts/cks_missing", headers=auth)
    ns = credential_namespace("dodo", API_KEY)
    entries = client.get(f"/_mock/journal?namespace={ns}").json["entries"]
    assert [(e["operation"], e["status"]) for e in entries] == [
        ("create_session", 200), ("get_checkout_sessions_status", 404)]
    assert entries[0]["request_headers"]["Authorization"] == "<redacted>"
    assert API_KEY not in str(entries)
    assert client.get("/_mock/journal?limit=x").status_code == 400


def test_the_journal_never_stores_a_credential_header_and_bounds_what_it_keeps(client, auth, catalog):
    """Every credential-looking header is replaced before the entry is stored (not only when
    shown), and a request with huge headers is kept in a bounded excerpt."""
    from mock_server.core.journal import HEADER_VALUE_EXCERPT, HEADERS_BUDGET

    secrets = {"Proxy-Authorization": "Basic cHJveHk6c2VjcmV0", "X-Api-Key": "key-secret-1",
               "X-Paymock-Control-Token": "control-secret-2", "X-Session-Token": "token-secret-4"}
    client.set_cookie("sid", "cookie-secret-3")  # (the test client sends cookies from its jar)
    client.get("/dodo/checkouts/cks_missing", headers={**auth, **secrets})
    client.delete_cookie("sid")
    secrets["Cookie"] = "cookie-secret-3"
    client.get("/dodo/checkouts/cks_missing", headers={**auth, "X-Big": "x" * 180_000,
                                                      **{f"X-Extra-{i}": "y" * 400 for i in range(60)}})
    ns = credential_namespace("dodo", API_KEY)
    core = client.application.extensions["paymock"]
    stored = b"".join(core.journal._entries[ns])
    for value in (*secrets.values(), API_KEY):
        assert value.encode() not in stored  # not in memory, hence never in a dump or a log
    first, second = client.get(f"/_mock/journal?namespace={ns}").json["entries"]
    assert {first["request_headers"][name] for name in secrets} == {"<redacted>"}
    headers = second["request_headers"]
    assert headers["X-Big"] == "x" * HEADER_VALUE_EXCERPT + "…"
    assert len(str(headers)) < HEADERS_BUDGET + 2048
    assert headers["X-Paymock-Journal"] == "further headers not kept"


def test_an_evicted_namespace_takes_its_journal_and_idempotency_keys_with_it():
    from mock_server.app import create_app
    from mock_server.config import Settings

    app = create_app(Settings(max_namespaces=3))
    client = app.test_client()
    core = app.extensions["paymock"]
    for i in range(3):
        client.get("/dodo/products", headers={"Authorization": f"Bearer sk_test_{i}"})
    first = credential_namespace("dodo", "sk_test_0")
    core.idempotency.reserve(first, "k", "op").complete(200, b"{}")
    assert client.get(f"/_mock/journal?namespace={first}").json["entries"]
    client.get("/dodo/products", headers={"Authorization": "Bearer sk_test_new"})
    assert core.store.find(first) is None
    assert client.get(f"/_mock/journal?namespace={first}").json["entries"] == []
    assert core.idempotency.keys(first) == []
    assert len(core.store.names()) == 3


def test_state_is_paged_by_namespace(client):
    for i in range(5):
        client.get("/dodo/products", headers={"Authorization": f"Bearer sk_test_page_{i}"})
    everything = client.get("/_mock/state").json
    total = everything["total"]
    assert total >= 5 and everything["next_offset"] is None and len(everything["namespaces"]) == total
    first = client.get("/_mock/state?limit=2").json
    assert len(first["namespaces"]) == 2 and first["next_offset"] == 2 and first["total"] == total
    rest = client.get(f"/_mock/state?limit=1000&offset={first['next_offset']}").json
    assert sorted([*first["namespaces"], *rest["namespaces"]]) == sorted(everything["namespaces"])
    assert client.get("/_mock/state?limit=0").status_code == 400
    assert client.get("/_mock/state?offset=-1").status_code == 400
    for i in range(12):
        client.get("/dodo/products", headers={"Authorization": f"Bearer sk_test_more_{i}"})
    missing = client.get("/_mock/state?namespace=dodo:nope")
    assert missing.status_code == 404 and "more: GET /_mock/namespaces lists them" in missing.json["error"]


def test_the_root_tells_a_browser_and_a_script_where_everything_is(client):
    answer = client.get("/")
    assert answer.status_code == 200 and answer.is_json
    body = answer.get_json()
    assert {p["name"] for p in body["providers"]} == {"dodo", "waffo"}
    assert all(p["base_url"].endswith("/" + p["name"]) for p in body["providers"])
    urls = [c["url"] for c in body["control"]]
    assert any(u.endswith("/_mock/health") for u in urls)
    for url in urls:  # every link the page gives answers
        path = url.split("://", 1)[1].split("/", 1)[1]
        assert client.get("/" + path).status_code == 200, url
    page = client.get("/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/_mock/state" in html and "/dodo" in html and "/waffo" in html
    assert '/_mock/ui" id="dashboard"' in html and body["dashboard"].endswith("/_mock/ui")
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
