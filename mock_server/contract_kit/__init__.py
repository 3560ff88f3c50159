"""The contract test kit: the contracts in `contracts/` run by Schemathesis against the mock or a
provider's real API (`paymock contract`), and a drift check against the vendor's spec
(`paymock contract diff`)."""
__all__ = ["RunOptions", "UsageError", "run"]


def __getattr__(name):
    # The runner imports Schemathesis (a tenth of a second); `paymock serve` builds the same
    # command-line parser and should not pay for it.
    if name in __all__:
        from . import runner
        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
