"""The plugin's Waffo handle (`paymock.waffo`, providers/waffo/merchant_handle.py): a merchant of
each test's own, with a fresh key pair, registered with the server on first use; a signer that
signs as @waffo/pancake-ts does; and the options that point the official SDK at it."""
import itertools
import json
import subprocess

import requests

from mock_server.core.http import credential_namespace
from mock_server.providers.waffo import auth
from mock_server.providers.waffo.merchant_keys import KeyPool, new_merchant_id
from mock_server.providers.waffo.control import MERCHANT_ID

CREATE_SESSION = "/v1/actions/checkout/create-session"
EBOOK = "PROD_n9BAyublbbOLvbySWsH7zx"  # a fixture product of the first fixture merchant (acme)
ACME = "MER_VVB510ATxn8d56NTITtVY8"
seen = {}  # test name -> (merchant id, namespace, public key): two tests compare theirs


def _remember(name, paymock):
    seen[name] = (paymock.waffo.merchant_id, paymock.waffo.namespace, paymock.waffo.public_key)


def test_a_test_gets_a_merchant_of_its_own(paymock):
    _remember("first", paymock)
    waffo = paymock.waffo
    assert MERCHANT_ID.match(waffo.merchant_id)
    assert waffo.credential == waffo.merchant_id
    assert waffo.namespace == credential_namespace("waffo", waffo.merchant_id)
    assert waffo.base_url == f"{paymock.url}/waffo"
    assert waffo.private_key.startswith("-----BEGIN PRIVATE KEY-----")
    merchant = paymock.control._call("GET", f"/waffo/merchants/{waffo.merchant_id}")
    assert (merchant["namespace"], merchant["environments"], merchant["fixture"]) == (
        waffo.namespace, ["test"], False)


def test_the_next_test_gets_another_merchant_and_key(paymock):
    _remember("second", paymock)
    assert len(seen) == 2, "run with the test above (pytest runs a module's tests in order)"
    (first_id, first_ns, first_key), (second_id, second_ns, second_key) = seen.values()
    assert first_id != second_id and first_ns != second_ns and first_key != second_key


def test_a_signed_call_lands_in_the_tests_namespace_only(paymock):
    response = paymock.waffo.post(CREATE_SESSION, json={"productId": EBOOK, "currency": "USD"})
    assert response.status_code == 200, response.text
    session_id = response.json()["data"]["sessionId"]
    # The fixture product works: the new namespace was seeded with acme's stores and products.
    mine = paymock.state(paymock.waffo.namespace)["namespaces"][paymock.waffo.namespace]
    assert list(mine["checkout_session"]) == [session_id]
    assert EBOOK in mine["product"]
    acme = paymock.control.namespace_for("waffo", ACME)
    others = paymock.control.state()["namespaces"]  # every namespace
    assert not [name for name, objects in others.items()
                if name != paymock.waffo.namespace and session_id in objects.get("checkout_session", {})]
    assert acme not in others or session_id not in others[acme].get("checkout_session", {})


def test_a_tampered_body_is_refused(paymock):
    raw = json.dumps({"productId": EBOOK, "currency": "USD"}).encode()
    headers = paymock.waffo.headers(CREATE_SESSION, raw)
    tampered = raw.replace(b"USD", b"EUR")
    response = requests.post(paymock.waffo.base_url + CREATE_SESSION, data=tampered,
                             headers=headers, timeout=10)
    assert response.status_code == 401
    assert "does not verify" in response.headers["X-Paymock-Auth-Reason"]
    # the same headers with the body they were made for go through
    response = requests.post(paymock.waffo.base_url + CREATE_SESSION, data=raw, headers=headers,
                             timeout=10)
    assert response.status_code == 200, response.text


def test_the_signer_signs_what_the_sdk_signs(paymock):
    waffo = paymock.waffo
    headers = waffo.headers(CREATE_SESSION, b'{"a":1}', timestamp=1700000000)
    assert headers["X-Timestamp"] == "1700000000"
    assert headers["X-Signature"] == auth.sign(waffo.private_key, "POST", CREATE_SESSION,
                                               "1700000000", b'{"a":1}')
    # a full URL or the mounted path sign the same path below the mount
    assert waffo.headers(waffo.base_url + CREATE_SESSION, b'{"a":1}', timestamp=1700000000) \
        == headers == waffo.headers("/waffo" + CREATE_SESSION, b'{"a":1}', timestamp=1700000000)
    # post() encodes as JSON.stringify does (no spaces), the bytes it signs
    sent = waffo.post(CREATE_SESSION, json={"productId": EBOOK, "currency": "USD"}).request
    assert sent.body == b'{"productId":"PROD_n9BAyublbbOLvbySWsH7zx","currency":"USD"}'


def test_a_test_that_never_touches_waffo_mints_no_merchant(paymock):
    assert not paymock.waffo.minted
    assert paymock.waffo.namespaces_used() == ()
    assert paymock.namespaces_used() == (paymock.dodo.namespace,)
    assert "not minted" in repr(paymock.waffo)


def test_the_official_sdk_runs_on_the_tests_merchant(paymock):
    from tests.waffo.test_sdk import SDK_DIR, _tools  # installs the SDK if it is missing

    node, _ = _tools()
    script = ("import { WaffoPancake } from '@waffo/pancake-ts';"
              "const c = new WaffoPancake(JSON.parse(process.env.OPTIONS));"
              f"console.log(JSON.stringify(await c.checkout.createSession("
              f"{{productId: '{EBOOK}', currency: 'USD'}})));")
    options = paymock.waffo.sdk_options()
    assert set(options) == {"merchantId", "privateKey", "baseUrl", "webhookPublicKey"}
    assert "PUBLIC KEY" in options["webhookPublicKey"]
    proc = subprocess.run([node, "--input-type=module", "-e", script], cwd=SDK_DIR, timeout=60,
                          capture_output=True, text=True, env={"OPTIONS": json.dumps(options),
                                                               "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    session_id = json.loads(proc.stdout)["sessionId"]
    mine = paymock.state(paymock.waffo.namespace)["namespaces"][paymock.waffo.namespace]
    assert list(mine["checkout_session"]) == [session_id]


def test_merchant_ids_and_the_key_pool():
    assert MERCHANT_ID.match(new_merchant_id()) and new_merchant_id() != new_merchant_id()
    pool = KeyPool(size=2, make=itertools.count().__next__)  # thread-safe: two threads make
    first = pool.take()  # nothing ready: made on the spot, then the pool fills behind it
    assert first == 0
    taken = {first, pool.take(), pool.take(), pool.take()}
    assert len(taken) == 4  # never the same pair twice
