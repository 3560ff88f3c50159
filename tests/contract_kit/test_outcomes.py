"""Honest counting (issue 18): every operation ends passed, failed, not tested or skipped, and one
that got no case is never counted as passed; the JSON report lists that per operation with the
totals; --require-all turns "not tested" into a failure; --fail-fast stops at the first failure;
an unknown --operation id exits 2 naming the valid ones. Runs are small (a few operations, few
examples, no coverage phase) so that each takes a few seconds."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from mock_server.contract_kit import selection

DODO_THREE = ("--operation", "list_products_handler", "--operation", "get_product_handler",
              "--operation", "get_checkout_sessions_status")
# GET /checkouts/{id} has an example in the contract, GET /products none: with the examples phase
# alone, the second gets no case at all.
EXAMPLES_ONLY = ("--operation", "list_products_handler", "--operation", "get_checkout_sessions_status",
                 "--phases", "examples")


def _ops(report: dict) -> dict[str, dict]:
    return {op["operation_id"]: op for op in report["operations"]}


def _summary(out: str) -> str:
    return next(line for line in reversed(out.splitlines()) if " requests in " in line)


def test_the_json_report_lists_each_operation_and_the_totals(kit, tmp_path):
    path = tmp_path / "run.json"
    result = kit("contract", "dodo", *DODO_THREE, "--phases", "examples,fuzzing", "--max-examples", "3",
                 "--seed", "1", "--report", str(path), "--report", str(tmp_path / "run.xml"))
    assert result.code == 0, result.text
    assert f"report written to {path}" in result.out and "run.xml" in result.out  # both written
    report = json.loads(path.read_text())
    assert report["format"] == "paymock-contract-report" and report["version"] == 1
    assert report["provider"] == "dodo" and report["verdict"] == "passed" and report["exit_code"] == 0
    ops = _ops(report)
    assert set(ops) == {"list_products_handler", "get_product_handler", "get_checkout_sessions_status"}
    assert (ops["get_product_handler"]["method"], ops["get_product_handler"]["path"]) == ("GET", "/products/{id}")
    for op in ops.values():
        assert op["status"] == "passed" and op["cases"] > 0 and op["failures"] == [] and op["reason"] is None
    totals = report["totals"]
    assert {k: totals[k] for k in ("operations", "passed", "failed", "not_tested", "skipped")} == \
        {"operations": 3, "passed": 3, "failed": 0, "not_tested": 0, "skipped": 0}
    assert totals["cases"] == sum(op["cases"] for op in ops.values())
    assert totals["failures"] == 0 and totals["errors"] == 0
    assert _summary(result.out).startswith("passed: 3 operations passed, 0 failed, 0 not tested, 0 skipped; ")


def test_an_operation_without_a_case_is_not_tested_never_passed(kit, tmp_path):
    path, xml = tmp_path / "run.json", tmp_path / "run.xml"
    result = kit("contract", "dodo", *EXAMPLES_ONLY, "--report", str(path), "--report", str(xml))
    # Not tested is a warning by default: nothing failed, exit 0, but the run says it is incomplete.
    assert result.code == 0, result.text
    row = next(line for line in result.out.splitlines() if line.startswith("GET /products "))
    assert " 0  not tested  no case generated (examples: No examples in schema)" in row
    assert "WARNING: 1 of 2 operations not tested" in result.out
    assert _summary(result.out).startswith("INCOMPLETE: 1 operation passed, 0 failed, 1 not tested, 0 skipped; ")
    report = json.loads(path.read_text())
    assert report["verdict"] == "incomplete" and report["exit_code"] == 0
    products = _ops(report)["list_products_handler"]
    assert products["status"] == "not tested" and products["cases"] == 0
    assert "No examples in schema" in products["reason"]
    assert _ops(report)["get_checkout_sessions_status"]["status"] == "passed"
    assert (report["totals"]["passed"], report["totals"]["not_tested"]) == (1, 1)
    case = next(c for c in ET.parse(xml).getroot().iter("testcase") if c.get("name") == "GET /products")
    assert case.find("skipped").get("message").startswith("not tested: ")  # a skip in JUnit, not a pass

    # --require-all: the same run fails.
    result = kit("contract", "dodo", *EXAMPLES_ONLY, "--require-all", "--report", str(path), "--report", str(xml))
    assert result.code == 1, result.text
    assert "NOT TESTED: 1 of 2 operations not tested" in result.out
    assert _summary(result.out).startswith("FAILED (--require-all): ")
    report = json.loads(path.read_text())
    assert report["verdict"] == "incomplete" and report["exit_code"] == 1 and report["require_all"] is True
    suite = ET.parse(xml).getroot()
    assert suite.get("failures") == "1"
    case = next(c for c in suite.iter("testcase") if c.get("name") == "GET /products")
    assert case.find("failure").get("type") == "not tested"


def test_operations_the_request_budget_did_not_reach_are_not_tested(kit, tmp_path):
    # The situation of issue 18: the budget ran out before some operations had a case, and the
    # run said "passed".
    path = tmp_path / "run.json"
    result = kit("contract", "dodo", *DODO_THREE, "--phases", "fuzzing", "--max-examples", "5",
                 "--max-requests", "3", "--report", str(path))
    report = json.loads(path.read_text())
    assert report["stopped"] == "request budget of 3 reached (--max-requests)"
    untested = [op for op in report["operations"] if op["status"] == "not tested"]
    assert untested, result.out
    for op in untested:
        assert op["cases"] == 0 and op["reason"] == "not reached: request budget of 3 reached (--max-requests)"
    assert report["totals"]["passed"] == sum(1 for op in report["operations"] if op["status"] == "passed") < 3
    assert not _summary(result.out).startswith("passed")


WAFFO_FOUR = ("--operation", "issueSessionToken", "--operation", "createCheckoutSession",
              "--operation", "createOnetimeOrder", "--operation", "createSubscriptionOrder")


def test_fail_fast_stops_at_the_first_failure(kit, mock, broken, tmp_path):
    # create-session answers checkoutUrl as a number. Schemathesis runs producers before their
    # consumers, so the two create-order operations (which take its checkoutSessionId) come after it.
    broken({"provider": "waffo", "operation": "createCheckoutSession",
            "action": {"patch": {"/data/checkoutUrl": 5}}})
    argv = ("contract", "waffo", "--target", f"{mock.url}/waffo", *WAFFO_FOUR, "--phases", "examples,fuzzing",
            "--max-examples", "10", "--seed", "1")
    path = tmp_path / "fast.json"
    result = kit(*argv, "--fail-fast", "--report", str(path))
    assert result.code == 1, result.text
    report = json.loads(path.read_text())
    assert report["stopped"] == "stopped at the first failure (--fail-fast)"
    ops = _ops(report)
    assert ops["createCheckoutSession"]["status"] == "failed"
    failure = ops["createCheckoutSession"]["failures"][0]
    assert failure["check"] == "response_schema_conformance" and failure["field"] == "/data/checkoutUrl"
    assert failure["message"] == "5 is not of type \"string\""
    assert report["totals"]["failures"] == 1 and report["totals"]["failed"] == 1
    for op_id in ("createOnetimeOrder", "createSubscriptionOrder"):
        assert ops[op_id]["status"] == "not tested" and ops[op_id]["cases"] == 0
        assert ops[op_id]["reason"].startswith("not reached: stopped at the first failure (--fail-fast)")
    assert "(stopped at the first failure (--fail-fast))" in _summary(result.out)

    # Without it the same run goes on: the operations after the failure get their cases.
    result = kit(*argv, "--report", str(path))
    assert result.code == 1, result.text
    ops = _ops(json.loads(path.read_text()))
    assert ops["createOnetimeOrder"]["cases"] > 0 and ops["createSubscriptionOrder"]["status"] == "passed"


def test_an_unknown_operation_id_exits_2_naming_the_valid_ones(kit):
    result = kit("contract", "waffo", "--operation", "createCheckoutSesion", "--operation", "issueSessionToken")
    assert result.code == 2 and result.out == ""  # nothing ran
    assert "unknown operation id for waffo: createCheckoutSesion" in result.err
    assert "createCheckoutSesion: did you mean createCheckoutSession?" in result.err
    assert "valid operation ids (32):" in result.err
    listed = result.err.split("valid operation ids (32):", 1)[1]
    for op_id in ("createCheckoutSession", "graphql", "scanPrompt", "resubmitRefundTicket"):
        assert op_id in listed
    result = kit("contract", "waffo", "--operation", "CreateCheckoutSession", "--operation", "nothing_like_it")
    assert result.code == 2
    assert "CreateCheckoutSession: did you mean createCheckoutSession?" in result.err  # a case slip
    assert "nothing_like_it: did you mean" not in result.err  # no near match: the list only


def test_closest_operation_ids_come_best_first():
    valid = ["createOnetimeOrder", "cancelOnetimeOrder", "createSubscriptionOrder", "graphql"]
    assert selection.closest("createOnetimeOrdr", valid)[0] == "createOnetimeOrder"
    assert selection.closest("GRAPHQL", valid) == ["graphql"]
    assert selection.closest("zzz", valid) == []
