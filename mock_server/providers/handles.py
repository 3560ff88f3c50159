"""What one test gets for one provider (`Provider.handle_for_test`, handed out by testing.Paymock):
where the provider is served and, when it can mint one, a credential no other test uses, whose
namespace keeps the test's data apart from every other test's on a shared server.

`ProviderHandle` is the plain form. A provider may hand out a richer object instead (Waffo's
`providers/waffo/merchant_handle.WaffoHandle`: a merchant with its own key pair, and a signer)
as long as it has the same four attributes and `namespaces_used()`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderHandle:
    name: str
    base_url: str                  # e.g. http://127.0.0.1:PORT/<mount>, what an SDK takes
    credential: str | None = None  # e.g. an API key of the test's own; None: it mints none
    namespace: str | None = None   # the namespace that credential reaches (core.http)

    def namespaces_used(self) -> tuple[str, ...]:
        """The namespaces the test may have written to through this handle, named without
        minting anything: what the test's cleanup resets and its webhook inbox reads. A handle
        that mints its credential on first use answers () until then."""
        return (self.namespace,) if self.namespace else ()


def namespaces_used(handle) -> tuple[str, ...]:
    """`handle.namespaces_used()`, for any provider's handle (one without the method: its
    `namespace`, if it has one)."""
    used = getattr(handle, "namespaces_used", None)
    if used is not None:
        return tuple(used())
    namespace = getattr(handle, "namespace", None)
    return (namespace,) if namespace else ()
