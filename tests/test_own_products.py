"""Products with the user's own ids through the control API, for Dodo and Waffo alike
(`POST /_mock/<provider>/products`): into the catalog (every namespace, now and later) or into
one namespace; checked by the provider's contract or the catalog format; kept in the state file."""
from __future__ import annotations

from mock_server.app import create_app
from mock_server.config import Settings
from mock_server.core.http import credential_namespace
from waffo.helpers import CREATE_SESSION, WaffoClient, merchant_id

EBOOK = {"name": "My e-book", "tax_category": "e_book",
         "price": {"type": "one_time_price", "currency": "USD", "price": 1999, "discount": 0,
                   "purchasing_power_parity": False}}
OWN_WAFFO = {"id": "PROD_MyOwnWaffoProduct00001", "type": "subscription", "name": "Own plan",
             "billingPeriod": "monthly", "prices": {"USD": {"amount": "12.50",
                                                            "taxCategory": "saas"}}}


def dodo_get(client, key, product_id):
    return client.get(f"/dodo/products/{product_id}", headers={"Authorization": f"Bearer {key}"})


def test_a_dodo_product_with_its_own_id_reaches_every_namespace(tmp_path):
    app = create_app(Settings(port=0, state_file=tmp_path / "state.json"))
    client = app.test_client()
    assert dodo_get(client, "sk_test_before", "pdt_uGej5ygB4DvTZFDmnvmUM").status_code == 200
    made = client.post("/_mock/dodo/products", json={"product_id": "pdt_MyEbook2026", **EBOOK})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["namespaces_now"] == 1
    for key in ("sk_test_before", "sk_test_after"):  # one that existed, one made later
        answer = dodo_get(client, key, "pdt_MyEbook2026")
        assert answer.status_code == 200 and answer.get_json()["price"]["price"] == 1999
    session = client.post("/dodo/checkouts", headers={"Authorization": "Bearer sk_test_after"},
                          json={"product_cart": [{"product_id": "pdt_MyEbook2026",
                                                  "quantity": 2}]})
    assert session.status_code == 200, session.get_json()
    again = client.post("/_mock/dodo/products", json={"product_id": "pdt_MyEbook2026", **EBOOK})
    assert again.status_code == 409
    bad = client.post("/_mock/dodo/products", json={"product_id": "pdt_X", "name": "no price"})
    assert bad.status_code == 400 and "POST /products" in bad.get_json()["error"]
    wrong_id = client.post("/_mock/dodo/products", json={"product_id": "prod_1", **EBOOK})
    assert wrong_id.status_code == 400 and "pdt_" in wrong_id.get_json()["error"]
    # One namespace only.
    ns = credential_namespace("dodo", "sk_test_before")
    one = client.post("/_mock/dodo/products", json={"product_id": "pdt_OnlyHere",
                                                    "namespace": ns, **EBOOK})
    assert one.status_code == 201
    assert dodo_get(client, "sk_test_before", "pdt_OnlyHere").status_code == 200
    assert dodo_get(client, "sk_test_after", "pdt_OnlyHere").status_code == 404
    # A restart with the state file: a namespace made after it has the catalog's addition.
    app.extensions["paymock"].persistence.save(tmp_path / "state.json")
    later = create_app(Settings(port=0))
    later.extensions["paymock"].persistence.restore(tmp_path / "state.json")
    assert dodo_get(later.test_client(), "sk_test_new", "pdt_MyEbook2026").status_code == 200


def test_a_waffo_product_with_its_own_id_sells_in_its_stores_namespaces():
    app = create_app(Settings(port=0))
    client = app.test_client()
    made = client.post("/_mock/waffo/products", json=OWN_WAFFO)
    assert made.status_code == 201, made.get_json()
    product = made.get_json()["product"]
    assert (product["status"], product["storeId"]) == ("active", "STO_c7egnSR1BL1yrVAmGvpUby")
    waffo = WaffoClient(client)
    status, payload, _ = waffo.api(CREATE_SESSION, {"productId": OWN_WAFFO["id"],
                                                    "currency": "USD"})
    assert status == 200, payload
    session = app.extensions["paymock"].store.namespace(
        credential_namespace("waffo", merchant_id())).get("checkout_session",
                                                          payload["data"]["sessionId"])
    assert (session["price"]["amount"], session["billingPeriod"]) == ("12.50", "monthly")
    assert client.post("/_mock/waffo/products", json=OWN_WAFFO).status_code == 409
    refused = client.post("/_mock/waffo/products", json=dict(OWN_WAFFO, id="PROD_short"))
    assert refused.status_code == 400 and "/product/id" in refused.get_json()["error"]
    no_period = {k: v for k, v in OWN_WAFFO.items() if k != "billingPeriod"}
    refused = client.post("/_mock/waffo/products",
                          json=dict(no_period, id="PROD_MyOwnWaffoProduct00002"))
    assert refused.status_code == 400 and "billingPeriod" in refused.get_json()["error"]
    unknown = client.post("/_mock/waffo/products", json=dict(OWN_WAFFO, colour="red"))
    assert unknown.status_code == 400 and "colour" in unknown.get_json()["error"]
