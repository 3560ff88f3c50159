"""The kit's table of providers: names, mounts, accepted answers, safe operations, remote URLs.

Kept apart from providers.py (which imports requests and the signing code) so that building the
`paymock` command line, which every `paymock serve` does, stays cheap.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.contracts import document_file


@dataclass
class Profile:
    name: str
    mount: str
    # Schema-valid data can still break a business rule only the server knows (the product must
    # exist, confirm=true needs an address): the provider's answer to those is an accepted answer.
    accepted: list[str]
    safe_writes: set[str]
    default_remote_url: str
    env_vars: list[str] = field(default_factory=list)
    # Disagreements between the contract and paymock that are known and explained: reported as
    # "known" (printed, in the JUnit XML as skipped), not counted as failures, and only against
    # paymock. Each: (operationIds, check, text in the failure message, why).
    known: list[tuple[set, str, str, str]] = field(default_factory=list)

    @property
    def contract(self):
        return document_file(self.name)

    def is_safe(self, method: str, operation_id: str | None) -> bool:
        return method.upper() in ("GET", "HEAD", "OPTIONS") or operation_id in self.safe_writes


PROFILES = {
    "dodo": Profile("dodo", "/dodo", ["2xx", "401", "403", "404", "409", "422", "429"],
                    {"preview_session"}, "https://test.dodopayments.com",
                    ["DODO_PAYMENTS_API_KEY"]),
    "waffo": Profile("waffo", "/waffo", ["2xx", "400", "401", "403", "404", "409"],
                     {"issueSessionToken"}, "https://api.waffo.ai",
                     ["WAFFO_MERCHANT_ID", "WAFFO_PRIVATE_KEY", "WAFFO_PRIVATE_KEY_FILE", "WAFFO_STORE_ID"]),
}
