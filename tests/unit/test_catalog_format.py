"""The catalog format (fixtures/catalog.schema.json): the committed and a freshly generated
catalog fit it; a file that does not stops `paymock serve` naming the file, the JSON pointer and
the problem, never a 500 later; a user's catalog with their own ids and prices serves them."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mock_server import fixtures
from mock_server.core import catalog_format
from mock_server.app import create_app
from mock_server.config import Settings

COMMITTED = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "catalog.json")
                       .read_text())


def test_the_committed_and_a_generated_catalog_fit_the_format():
    assert catalog_format.check(COMMITTED) is None
    assert catalog_format.check(fixtures.generate(1234)) is None


@pytest.mark.parametrize("change, where, problem", [
    (lambda c: c["dodo"]["products"][3]["price"].update(type="one_tme"),
     "/dodo/products/3/price/type", "'one_tme' is not one of"),
    (lambda c: c["dodo"]["products"][0].pop("addons"), "/dodo/products/0",
     "'addons' is a required property"),
    (lambda c: c["dodo"].update(prodcts=[]), "/dodo", "'prodcts' was unexpected"),
    (lambda c: c["dodo"]["products"][1].update(product_id=c["dodo"]["products"][0]["product_id"]),
     "/dodo/products/1/product_id", "is used by another of the products"),
    (lambda c: c["waffo"]["products"][2].update(storeId="STO_" + "x" * 22),
     "/waffo/products/2/storeId", "no store"),
    (lambda c: c["waffo"]["products"][0]["prices"]["USD"].update(amount=29),
     "/waffo/products/0/prices/USD/amount", "is not of type 'string'"),
    (lambda c: c["waffo"]["stores"][0].update(merchantId="MER_" + "y" * 22),
     "/waffo/stores/0/merchantId", "no merchant"),
])
def test_a_wrong_catalog_is_named_by_pointer(change, where, problem):
    catalog = copy.deepcopy(COMMITTED)
    change(catalog)
    found = catalog_format.check(catalog)
    assert found is not None and found.startswith(where + ":") and problem in found, found


def test_serve_stops_on_a_wrong_catalog_with_the_file_and_the_pointer(tmp_path):
    catalog = copy.deepcopy(COMMITTED)
    catalog["dodo"]["products"][2]["price"]["price"] = "25.99"
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(catalog))
    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0",
                             "--fixtures", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"paymock: cannot start: {path}: /dodo/products/2/price/price: '25.99' is not of " \
           "type 'integer'" in result.stderr
    assert "Traceback" not in result.stderr
    path.write_text("{\"dodo\": ")
    result = subprocess.run([sys.executable, "-m", "mock_server.cli", "serve", "--port", "0",
                             "--fixtures", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and f"{path}: not JSON" in result.stderr


def test_a_users_catalog_serves_their_own_ids_and_prices(tmp_path):
    catalog = copy.deepcopy(COMMITTED)
    product = catalog["dodo"]["products"][0]
    product.update(product_id="pdt_MyOwnEbook2026", name="My own e-book")
    product["price"]["price"] = 1234
    waffo = catalog["waffo"]["products"][0]
    waffo.update(id="PROD_MyOwnWaffoProduct00001")
    waffo["prices"]["USD"]["amount"] = "12.34"
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(catalog))
    app = create_app(Settings(port=0, fixtures=path))
    client = app.test_client()
    answer = client.get("/dodo/products/pdt_MyOwnEbook2026",
                        headers={"Authorization": "Bearer sk_test_own"})
    assert answer.status_code == 200, answer.get_json()
    assert (answer.get_json()["name"], answer.get_json()["price"]["price"]) == ("My own e-book",
                                                                               1234)
    session = client.post("/dodo/checkouts", headers={"Authorization": "Bearer sk_test_own"},
                          json={"product_cart": [{"product_id": "pdt_MyOwnEbook2026",
                                                  "quantity": 1}]})
    assert session.status_code == 200, session.get_json()
