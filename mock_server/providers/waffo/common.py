"""Names and helpers the Waffo modules share."""
from __future__ import annotations

from dataclasses import dataclass

from ...core.errors import ApiError
from ...core.urls import return_url_problem

STORE, PRODUCT, SESSION, ORDER = "store", "product", "checkout_session", "order"
SESSION_INVALID = "Checkout session invalid, please re-enter checkout"


def error(status: int, message: str, layer: str) -> ApiError:
    """Waffo's error: `layer` names the service that failed (gateway, order, store, ...)."""
    return ApiError(status, message, layer)


@dataclass(frozen=True)
class Caller:
    """Who is calling, after the gateway checked the credential (a core.request.Caller)."""
    kind: str  # "api_key" | "store_slug" | "session_token"
    merchant_id: str
    environment: str
    store_id: str | None = None  # store-slug and session-token callers are bound to one store
    buyer_identity: str | None = None
    namespace: str = ""  # the merchant's (the gateway fills it in)


def normalise_email(email: str | None) -> str | None:
    """Waffo's rule: trim + lower-case, so Foo@Bar.COM and foo@bar.com are one buyer."""
    if email is None:
        return None
    return email.strip().lower() or None


def check_success_url(body: dict) -> None:
    """A successUrl the buyer could not be sent to is refused where it is given, as Waffo's
    other checkout validation errors are (400, layer order)."""
    problem = return_url_problem(body.get("successUrl"))
    if problem is not None:
        raise error(400, f"successUrl {problem}", "order")
