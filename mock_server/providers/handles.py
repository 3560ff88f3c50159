"""What one test gets for one provider (`Provider.handle_for_test`, handed out by testing.Paymock):
where the provider is served and, when it can mint one, a credential no other test uses, whose
namespace keeps the test's data apart from every other test's on a shared server."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProviderHandle:
    name: str
    base_url: str                  # e.g. http://127.0.0.1:PORT/<mount>, what an SDK takes
    credential: str | None = None  # e.g. an API key of the test's own; None: it mints none
    namespace: str | None = None   # the namespace that credential reaches (core.http)
