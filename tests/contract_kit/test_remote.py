"""The "real API" path: a strict paymock with an API-key allow-list and /_mock hidden stands in for
a provider's real API. Credentials come from environment variables and are signed for real; the
kit must run only safe operations unless --allow-writes, wait out 429s, stay within its budget, and
never print or write a secret."""
from __future__ import annotations

import re
from pathlib import Path

from .conftest import REMOTE_DODO_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]  # the checkout: the source files themselves

ACME_KEY = (REPO_ROOT / "fixtures" / "waffo" / "keys" / "acme-test.TEST-ONLY.private.pem").read_text()
ACME = "MER_VVB510ATxn8d56NTITtVY8"
ACME_DIGITAL = "STO_c7egnSR1BL1yrVAmGvpUby"
WRITES = {"/dodo/checkouts", "/dodo/customers"}


def _key_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if line and "-----" not in line]


def _assert_no_secret(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


def test_dodo_against_a_real_api_runs_only_safe_operations(kit, remote, monkeypatch, tmp_path):
    monkeypatch.setenv("DODO_PAYMENTS_API_KEY", REMOTE_DODO_KEY)
    remote.seen.clear()
    xml, txt, js = tmp_path / "remote.xml", tmp_path / "remote.txt", tmp_path / "remote.json"
    result = kit("contract", "dodo", "--target", f"{remote.url}/dodo", "--max-examples", "3",
                 "--report", str(xml), "--report", str(js))
    assert result.code == 0, result.text
    assert "not paymock's health document" in result.out  # /_mock/health is a 404 here
    assert "credentials: DODO_PAYMENTS_API_KEY" in result.out
    assert "mode: safe" in result.out
    for label in ("POST /checkouts ", "POST /customers "):
        row = next(line for line in result.out.splitlines() if line.startswith(label))
        assert " skipped " in row and "writes to the real account; pass --allow-writes" in row
    posts = {path for method, path in remote.seen if method == "POST"}
    assert posts == {"/dodo/checkouts/preview"}  # the one POST marked safe; nothing was written
    assert ("GET", "/dodo/products") in remote.seen
    assert "GetFirstProduct -> GET /products/{id}" in result.out  # GET-only flows still run
    kit("contract", "dodo", "--target", f"{remote.url}/dodo", "--max-examples", "2",
        "--phases", "examples", "--report", str(txt))
    for text in (result.text, xml.read_text(), txt.read_text(), js.read_text()):
        _assert_no_secret(text, REMOTE_DODO_KEY)
    assert "skipped" in xml.read_text()


def test_dodo_writes_run_with_allow_writes(kit, remote, monkeypatch):
    monkeypatch.setenv("DODO_PAYMENTS_API_KEY", REMOTE_DODO_KEY)
    remote.seen.clear()
    result = kit("contract", "dodo", "--target", f"{remote.url}/dodo", "--allow-writes",
                 "--operation", "create_session", "--phases", "fuzzing", "--max-examples", "3")
    assert result.code == 0, result.text
    assert ("POST", "/dodo/checkouts") in remote.seen
    _assert_no_secret(result.text, REMOTE_DODO_KEY)


def test_a_real_api_needs_credentials(kit, remote, monkeypatch):
    monkeypatch.delenv("DODO_PAYMENTS_API_KEY", raising=False)
    result = kit("contract", "dodo", "--target", f"{remote.url}/dodo")
    assert result.code == 2 and "DODO_PAYMENTS_API_KEY" in result.err
    for name in ("WAFFO_MERCHANT_ID", "WAFFO_PRIVATE_KEY", "WAFFO_PRIVATE_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    result = kit("contract", "waffo", "--target", f"{remote.url}/waffo")
    assert result.code == 2 and "WAFFO_MERCHANT_ID" in result.err


def test_a_rejected_key_stops_the_run_without_showing_it(kit, remote, monkeypatch):
    # Every answer would be a 401, which the contract documents: a run of them would pass.
    wrong = "sk_test_WRONG_KEY_also_secret_987654321"
    monkeypatch.setenv("DODO_PAYMENTS_API_KEY", wrong)
    result = kit("contract", "dodo", "--target", f"{remote.url}/dodo")
    assert result.code == 2, result.text
    assert "answered 401 to GET /products with this API key" in result.err
    _assert_no_secret(result.text, wrong)
    monkeypatch.setenv("WAFFO_MERCHANT_ID", "MER_0123456789abcdefghijkl")  # unknown merchant
    monkeypatch.setenv("WAFFO_PRIVATE_KEY", ACME_KEY)
    monkeypatch.setenv("WAFFO_STORE_ID", ACME_DIGITAL)
    result = kit("contract", "waffo", "--target", f"{remote.url}/waffo")
    assert result.code == 2 and "issue-session-token answered 401" in result.err
    _assert_no_secret(result.text, ACME_KEY, *_key_lines(ACME_KEY))


def test_waffo_against_a_real_api_signs_and_stays_safe(kit, remote, monkeypatch, tmp_path):
    monkeypatch.setenv("WAFFO_MERCHANT_ID", ACME)
    monkeypatch.setenv("WAFFO_PRIVATE_KEY", ACME_KEY)
    monkeypatch.setenv("WAFFO_STORE_ID", ACME_DIGITAL)
    remote.seen.clear()
    xml = tmp_path / "waffo.xml"
    result = kit("contract", "waffo", "--target", f"{remote.url}/waffo", "--max-examples", "3",
                 "--report", str(xml))
    assert result.code == 0, result.text
    assert "credentials: WAFFO_MERCHANT_ID + WAFFO_PRIVATE_KEY" in result.out
    posts = {path for method, path in remote.seen if method == "POST"}
    assert posts == {"/waffo/v1/actions/auth/issue-session-token"}  # the one safe operation
    row = next(line for line in result.out.splitlines() if "/auth/issue-session-token" in line)
    assert " none" in row  # signed requests were accepted: no failures
    for text in (result.text, xml.read_text()):
        _assert_no_secret(text, ACME_KEY, *_key_lines(ACME_KEY))


def test_waffo_private_key_from_a_file(kit, remote, monkeypatch, tmp_path):
    key_file = tmp_path / "key.pem"
    key_file.write_text(ACME_KEY)
    monkeypatch.delenv("WAFFO_PRIVATE_KEY", raising=False)
    monkeypatch.setenv("WAFFO_MERCHANT_ID", ACME)
    monkeypatch.setenv("WAFFO_PRIVATE_KEY_FILE", str(key_file))
    result = kit("contract", "waffo", "--target", f"{remote.url}/waffo", "--phases", "examples,fuzzing",
                 "--max-examples", "2")
    assert result.code == 0, result.text
    assert "WAFFO_PRIVATE_KEY_FILE" in result.out


def test_rate_limits_are_waited_out_and_the_run_is_bounded(kit, remote, monkeypatch):
    monkeypatch.setenv("DODO_PAYMENTS_API_KEY", REMOTE_DODO_KEY)
    rule = remote.core.faults.add({"provider": "dodo", "operation": "get_product_handler", "times": 2,
                                   "action": "rate-limit"})
    try:
        result = kit("contract", "dodo", "--target", f"{remote.url}/dodo", "--operation",
                     "get_product_handler", "--phases", "fuzzing", "--max-examples", "5")
    finally:
        remote.core.faults.delete(rule.id)
    assert result.code == 0, result.text
    assert "rate limits: 2 answers were 429" in result.out
    result = kit("contract", "dodo", "--target", f"{remote.url}/dodo", "--max-requests", "15")
    assert "request budget of 15 reached (--max-requests)" in result.out
    requests = int(re.search(r"; (\d+) requests in ", result.out.splitlines()[-1]).group(1))
    assert 15 <= requests <= 20, result.out
