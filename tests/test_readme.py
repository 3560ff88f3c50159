"""The README's examples run verbatim (only the port differs) against a live server, and every
id it documents exists in the fixture catalog."""
import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)


def on_live(code: str, server) -> str:
    return code.replace("http://127.0.0.1:8787", server.url)


@pytest.mark.parametrize("code", [c for lang, c in BLOCKS if lang == "bash" and "curl" in c])
def test_curl_examples(live_server, code):
    # README keys are arbitrary; the live test server accepts only the suite's keys.
    code = on_live(code, live_server).replace("sk_test_readme", "sk_test_paymock_suite")
    try:
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], capture_output=True,
                                text=True, timeout=30)
    finally:
        requests.delete(f"{live_server.url}/_mock/faults", timeout=5)  # examples may add rules
        requests.post(f"{live_server.url}/_mock/clock/reset", timeout=5)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    shown = re.search(r"^# (\{.*\})$", code, flags=re.M)
    if shown and "..." not in shown.group(1):
        assert answer == json.loads(shown.group(1))  # the README shows the exact answer
    else:
        assert "error" not in answer and "code" not in answer, answer


@pytest.mark.parametrize("code", [c for lang, c in BLOCKS if lang == "python"])
def test_python_examples(live_server, code):
    code = on_live(code, live_server).replace("sk_test_anything", "sk_test_paymock_suite")
    exec(compile(code, "README.md", "exec"), {})


def test_documented_ids_exist(catalog):
    known = {p["product_id"] for p in catalog.data["dodo"]["products"]}
    known |= {c["customer_id"] for c in catalog.data["dodo"]["customers"]}
    documented = set(re.findall(r"\b(?:pdt|cus)_[0-9A-Za-z]{21}\b", README))
    assert documented and documented <= known
    waffo = catalog.data["waffo"]
    waffo_ids = {p["id"] for p in waffo["products"]} | {m["merchantId"] for m in waffo["merchants"]}
    # (less the id the own-products example gives the product it makes)
    documented_waffo = set(re.findall(r"\b(?:PROD|MER)_[0-9A-Za-z]{22}\b", README)) - {
        "PROD_MyOwnWaffoProduct00001"}
    assert documented_waffo and documented_waffo <= waffo_ids
    codes = {d["code"] for d in catalog.data["dodo"]["discounts"]}
    assert {"BLACKFRIDAY2024", "WELCOME5", "LAPTOP10", "EXPIRED2023"} <= codes


@pytest.mark.parametrize("name", ["test_merchant_suite.py", "test_contract_pytest.py",
                                  "test_waffo_merchant_suite.py"])
def test_the_plugin_examples_are_shown_verbatim(name):
    example = (Path(__file__).resolve().parent / "example" / name).read_text()
    assert example.rstrip() in README


def test_the_dodo_operations_table_is_the_handler_registry():
    """Which operation is served by paymock's rules and which by the generic engine, as the
    README lists them, is what a fresh app serves (tools/operations_table.py regenerates it)."""
    from mock_server.operations_table import markdown
    listed = re.search(r"<!-- dodo-operations:start -->\n(.*?)<!-- dodo-operations:end -->",
                       README, flags=re.S)
    assert listed is not None and listed.group(1) == markdown("dodo")
