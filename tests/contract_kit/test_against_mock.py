"""`paymock contract dodo|waffo` against a mock the kit starts itself, every phase including the
stateful one: the contracts hold (exit 0), the contracts' links are followed, JUnit XML is written."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from mock_server.core.contracts import document_file


def _operations(provider: str) -> list[str]:
    raw = json.loads((document_file(provider)).read_text())
    return sorted(f"{method.upper()} {path}" for path, item in raw["paths"].items() for method in item)


def _junit(path, provider: str) -> ET.Element:
    suite = ET.parse(path).getroot()  # well-formed, or this raises
    assert suite.tag == "testsuite" and suite.get("name") == f"paymock contract {provider}"
    assert sorted(case.get("name") for case in suite.iter("testcase")) == _operations(provider)
    return suite


def test_dodo_contract_holds_on_the_mock_and_the_links_run(kit, tmp_path):
    result = kit("contract", "dodo", "--max-examples", "5", "--seed", "1",
                 "--report", str(tmp_path / "dodo.xml"))
    assert result.code == 0, result.text
    assert "(paymock started by the kit)" in result.out
    for operation in _operations("dodo"):
        assert operation in result.out  # the summary table has a row per operation
    # Transitions through the links tools/derive_dodo_contract.py adds (inference is off). The
    # two from POST /customers, whose bodies nearly always succeed: a link from a random
    # checkout body (GetCheckoutSessionStatus) is followed only when that body was accepted,
    # which 30 scenarios among 158 operations do not always reach.
    assert "POST /customers -> [200] CreateCheckoutForCustomer -> POST /checkouts" in result.out
    assert "POST /customers -> [200] GetCustomer -> GET /customers/{customer_id}" in result.out
    assert "passed:" in result.out and "0 failures, 0 errors" in result.out
    suite = _junit(tmp_path / "dodo.xml", "dodo")
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert int(props["link_transitions"]) > 0 and int(props["requests"]) > 100


def test_waffo_contract_holds_on_the_mock_and_the_links_run(kit, tmp_path):
    result = kit("contract", "waffo", "--max-examples", "5", "--seed", "1",
                 "--report", str(tmp_path / "waffo.xml"))
    assert result.code == 0, result.text
    out = result.out
    for link, target in [("CreateOnetimeOrderFromSession", "POST /v1/actions/onetime-order/create-order"),
                         ("CreateSubscriptionOrderFromSession", "POST /v1/actions/subscription-order/create-order"),
                         ("CreateOnetimeOrderWithToken", "POST /v1/actions/onetime-order/create-order")]:
        assert f"-> [200] {link} -> {target}" in out, out
    assert "TEST-ONLY fixture merchant acme" in out
    suite = _junit(tmp_path / "waffo.xml", "waffo")
    assert suite.get("failures") == "0" and suite.get("errors") == "0"


def test_the_text_report_is_the_summary(kit, tmp_path):
    result = kit("contract", "dodo", "--operation", "list_products_handler", "--phases", "examples,fuzzing",
                 "--max-examples", "3", "--report", str(tmp_path / "summary.txt"))
    assert result.code == 0, result.text
    text = (tmp_path / "summary.txt").read_text()
    assert "GET /products" in text and "passed:" in text
    assert "POST /checkouts" not in text  # only the operation asked for


def test_bad_options_exit_2_without_running(kit):
    assert kit("contract", "dodo", "--phases", "warp").code == 2
    result = kit("contract", "dodo", "--operation", "no_such_operation")
    assert result.code == 2 and "no_such_operation" in result.err
    result = kit("contract", "dodo", "--checks", "not_a_check")
    assert result.code == 2 and "not_a_check" in result.err
