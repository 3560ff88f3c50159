"""`paymock contract diff dodo --vendor-spec PATH`: our contract against the vendor's document.
The vendor spec is ../shared/reference/dodo-current/dodo-openapi-1.113.0.json (the `vendor_spec` fixture
fails in CI when it is missing)."""
from __future__ import annotations

import copy
import json

from mock_server.contract_kit import diff
from mock_server.core.contracts import document_file

OURS = json.loads((document_file("dodo")).read_text())


def _write(tmp_path, doc) -> str:
    path = tmp_path / "vendor.json"
    path.write_text(json.dumps(doc))
    return str(path)


def test_the_contract_has_no_drift_from_the_spec_it_was_derived_from(kit, vendor_spec, tmp_path):
    result = kit("contract", "diff", "dodo", "--vendor-spec", _write(tmp_path, vendor_spec),
                 "--report", str(tmp_path / "diff.json"))
    assert result.code == 0, result.text
    assert "DRIFT (not explained by the overlay): 0" in result.out
    assert "no drift: every difference is intended" in result.out
    # The overlay's deliberate choices are listed and marked intended:
    assert "[intended] POST /checkouts: request body.product_cart maxItems: limit: ours 20, vendor -" in result.out
    assert "[intended] POST /checkouts: responses: status: ours {200, 401, 422, 500}, vendor {200, 422, 500}" in result.out
    saved = json.loads((tmp_path / "diff.json").read_text())
    assert saved["drift"] == [] and len(saved["intended"]) > 20


def test_vendor_changes_are_drift_and_named(kit, vendor_spec, tmp_path):
    vendor = copy.deepcopy(vendor_spec)
    schemas = vendor["components"]["schemas"]
    request = schemas["CreateCheckoutSessionRequest"]
    request["properties"]["gift_message"] = {"type": "string"}           # a new field
    request.setdefault("required", []).append("return_url")              # a new required field
    schemas["CreateSessionResponse"]["properties"]["session_id"] = {"type": "integer"}  # a type
    vendor["paths"]["/checkouts"]["post"]["responses"]["404"] = {"description": "Not found"}  # a status
    schemas["Currency"]["enum"] = [v for v in schemas["Currency"]["enum"] if v != "USD"]  # an enum value
    result = kit("contract", "diff", "dodo", "--vendor-spec", _write(tmp_path, vendor))
    assert result.code == 1, result.text
    drift = [line for line in result.out.splitlines() if line.startswith("  [drift]")]
    text = "\n".join(drift)
    assert "POST /checkouts: request body.gift_message: field: ours absent, vendor present" in text
    assert "POST /checkouts: request body: required:" in text and "return_url" in text
    assert "POST /checkouts: response 200.session_id: type: ours string, vendor integer" in text
    assert "POST /checkouts: responses: status: ours {200, 401, 422, 500}, vendor {200, 404, 422, 500}" in text
    assert 'enum: ours only ours {"USD"}' in text
    # what the overlay does is still intended
    assert "[intended] POST /checkouts: request body.product_cart maxItems" in result.out


def test_a_hand_edited_contract_is_drift(vendor_spec):
    ours = copy.deepcopy(OURS)
    ours["components"]["schemas"]["CreateSessionResponse"]["required"].append("checkout_url")
    report = diff.check(ours, vendor_spec, diff.load_overlay("dodo"))
    assert report.exit_code == 1
    assert [(d.operation, d.where, d.kind) for d in report.drift] == [("POST /checkouts", "response 200", "required")]


def test_a_vendor_spec_the_overlay_cannot_take_is_all_drift(vendor_spec):
    vendor = copy.deepcopy(vendor_spec)
    vendor["paths"]["/checkouts"]["post"]["responses"]["503"] = {"description": "Unavailable"}
    report = diff.check(OURS, vendor, diff.load_overlay("dodo"))  # the script has no error example for 503
    assert "overlay could not be applied" in report.overlay_note
    assert report.exit_code == 1 and not report.intended


def test_a_vendor_spec_without_an_operation_we_serve(vendor_spec):
    vendor = copy.deepcopy(vendor_spec)
    del vendor["paths"]["/checkouts/preview"]
    report = diff.check(OURS, vendor, diff.load_overlay("dodo"))
    assert any(d.operation == "POST /checkouts/preview" and d.kind == "operation" for d in report.drift)


def test_unreadable_vendor_spec_exits_2(kit, tmp_path):
    result = kit("contract", "diff", "dodo", "--vendor-spec", str(tmp_path / "missing.json"))
    assert result.code == 2 and "cannot read" in result.err
    (tmp_path / "bad.json").write_text("{not json")
    assert kit("contract", "diff", "dodo", "--vendor-spec", str(tmp_path / "bad.json")).code == 2
