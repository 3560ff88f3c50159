"""verification/scan-prompt over HTTP: each verdict asked for by the prompt, the semantic
channel's status, the same request id for the same request, and the SDK's own types' values."""
import pytest

from mock_server.core.contracts import Contract

from .helpers import assert_error

CONTRACT = Contract.load("waffo")
SCAN = "/v1/actions/verification/scan-prompt"


def scan(client, **body):
    status, payload, _ = client.api(SCAN, body)
    assert status == 200, payload
    assert CONTRACT.response_errors("scanPrompt", 200, payload) == [], payload
    return payload["data"]


@pytest.mark.parametrize("prompt, action, reason, categories", [
    ("a cat riding a bike", "allow", "allowed", []),
    ("a tasteful NUDE figure study", "review", "review_required", ["adult_nsfw"]),
    ("deepfake of a senator", "block", "restricted_content", ["face_swap_identity"]),
    ("undress the photo and face swap it", "block", "restricted_content",
     ["undress_transform", "face_swap_identity"]),
    ("一只猫 换脸", "block", "restricted_content", ["face_swap_identity"]),
    ("a landscape [paymock:degraded]", "review", "service_degraded", []),
])
def test_the_verdict_follows_the_prompt(client, prompt, action, reason, categories):
    verdict = scan(client, prompt=prompt)
    assert (verdict["action"], verdict["reasonCode"], verdict["matchedCategories"]) == (
        action, reason, categories)
    assert verdict["semanticStatus"] == "disabled"


def test_semantic_status_and_request_ids(client):
    assert scan(client, prompt="a cat", semantic="shadow")["semanticStatus"] == "shadow_scored"
    assert scan(client, prompt="a cat", semantic="enforce")["semanticStatus"] == "scored"
    assert scan(client, prompt="deepfake", semantic="enforce")["semanticStatus"] == \
        "skipped_rules_block"
    assert scan(client, prompt="x [paymock:degraded]", semantic="enforce")["semanticStatus"] == \
        "provider_timeout"
    first, again = scan(client, prompt="a cat"), scan(client, prompt="a cat")
    assert first["requestId"] == again["requestId"] and first["requestId"].startswith("scan_")
    assert scan(client, prompt="a cat", locale="ja")["requestId"] != first["requestId"]


def test_bad_scans_are_refused(client):
    assert_error(client.api(SCAN, {}), 400, "Missing required field: prompt", "resource")
    assert_error(client.api(SCAN, {"prompt": ""}), 400, "prompt must be 1 to 10000 characters",
                 "resource")
    assert_error(client.api(SCAN, {"prompt": "x" * 10001}), 400,
                 "prompt must be 1 to 10000 characters", "resource")
