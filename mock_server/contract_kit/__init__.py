"""The contract test kit: the contracts in `contracts/` run by Schemathesis against the mock or a
provider's real API (`paymock contract`), and a drift check against the vendor's spec
(`paymock contract diff`)."""
from .runner import RunOptions, UsageError, run

__all__ = ["RunOptions", "UsageError", "run"]
