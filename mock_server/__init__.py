"""paymock: a local, stateful emulator of hosted-checkout payment APIs."""

__version__ = "0.1.0"
