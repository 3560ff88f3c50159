"""`verification/scan-prompt`: Waffo's content-safety check of an AIGC prompt, answered
deterministically from the prompt, so a test can ask for each verdict.

Waffo's scan is stateless and answers a redacted verdict (SDK types ScanResult, ScanAction,
ScanReasonCode, ScanPolicyCategory, ScanSemanticStatus): `action` allow | review | block, a
`reasonCode`, the policy categories matched (empty when allowed), a `requestId` and how the
semantic channel took part. Its real rules and thresholds are not public; paymock matches
keywords (below, English, Japanese and Chinese, case-insensitive, whatever `locale` says):

- any term of a restricted category (csam_minor, sexual_violence_nonconsensual,
  undress_transform, face_swap_identity, bestiality_restricted): `block`, `restricted_content`;
- an adult term (adult_nsfw) alone: `review`, `review_required`;
- the marker `[paymock:degraded]`: `review`, `service_degraded`, as the real scan fails closed
  when its service is down (semantic status `provider_timeout`);
- anything else: `allow`, `allowed`.
The semantic channel (`semantic`, default `off`): off gives `disabled`; shadow `shadow_scored`;
enforce `scored`, or `skipped_rules_block` when the keyword rules already blocked.
`requestId` is `scan_` and 24 hex characters of a SHA-256 of the request: the same request gets
the same id.
"""
from __future__ import annotations

import hashlib

from ...core.request import Request
from ..base import handler

RESTRICTED = {
    "csam_minor": ("child porn", "underage nude", "minor nude", "児童ポルノ", "儿童色情"),
    "sexual_violence_nonconsensual": ("non-consensual", "nonconsensual", "rape", "強姦", "强奸"),
    "undress_transform": ("undress", "remove her clothes", "remove his clothes", "nudify",
                          "脱衣", "去衣"),
    "face_swap_identity": ("face swap", "faceswap", "deepfake", "顔交換", "换脸"),
    "bestiality_restricted": ("bestiality", "zoophilia", "獣姦", "兽交"),
}
ADULT = ("nsfw", "nude", "naked", "porn", "explicit sex", "ヌード", "裸体", "色情")
DEGRADED = "[paymock:degraded]"


def scan(body: dict) -> dict:
    prompt = body["prompt"]
    text = prompt.lower()
    semantic = body.get("semantic") or "off"
    matched = [category for category, terms in RESTRICTED.items()
               if any(term in text for term in terms)]
    if matched:
        action, reason = "block", "restricted_content"
    elif any(term in text for term in ADULT):
        action, reason, matched = "review", "review_required", ["adult_nsfw"]
    elif DEGRADED in text:
        action, reason = "review", "service_degraded"
    else:
        action, reason = "allow", "allowed"
    if reason == "service_degraded" and semantic != "off":
        status = "provider_timeout"
    else:
        status = {"off": "disabled", "shadow": "shadow_scored",
                  "enforce": "skipped_rules_block" if action == "block" else "scored"}[semantic]
    digest = hashlib.sha256("\x00".join(
        (prompt, body.get("locale") or "en", semantic)).encode()).hexdigest()
    return {"action": action, "reasonCode": reason, "matchedCategories": matched,
            "requestId": f"scan_{digest[:24]}", "semanticStatus": status}


class ContentSafetyHandlers:
    @handler("scanPrompt")
    def scan_prompt(self, req: Request):
        return scan(req.body)
