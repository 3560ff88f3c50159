"""The fake PSP's test instruments, as data: one table for the payment pages and the control API.

Numbers follow the test cards a provider documents, with Stripe's conventional numbers for the
outcomes it does not (expired card, incorrect CVC, processing error, 3DS). Any future expiry and
any 3-4 digit CVC are accepted; numbers outside the table are refused on the form, so a typo never
silently "succeeds".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SUCCESS, DECLINE, CHALLENGE = "success", "decline", "3ds"

# reason code -> what the buyer (and a provider's error message) is told
REASONS = {
    "CARD_DECLINED": "Your card was declined.",
    "INSUFFICIENT_FUNDS": "Your card has insufficient funds.",
    "EXPIRED_CARD": "Your card has expired.",
    "INCORRECT_CVC": "Your card's security code is incorrect.",
    "PROCESSING_ERROR": "An error occurred while processing your card. Try again in a little bit.",
    "AUTHENTICATION_REQUIRED": "The payment requires authentication.",
    "AUTHENTICATION_FAILURE": "3D Secure authentication failed.",
    "CUSTOMER_CANCELLED": "The customer cancelled the payment.",
    "PAYMENT_DECLINED": "The payment was declined by the payer's bank.",
    "SESSION_EXPIRED": "The checkout session expired before the payment was completed.",
}


@dataclass(frozen=True)
class Card:
    number: str
    network: str          # as a provider reports the card's network
    outcome: str          # success | decline | 3ds
    reason: str | None = None
    country: str = "US"   # issuing country
    label: str = ""
    # Charges made later with the card saved (a subscription's renewals, off-session) fail
    # with this reason, while the payment the buyer makes with it succeeds (Stripe's 0341).
    later_decline: str | None = None

    @property
    def last4(self) -> str:
        return self.number[-4:]


CARDS = {card.number: card for card in (
    Card("4242424242424242", "VISA", SUCCESS, label="Success"),
    Card("5555555555554444", "MASTERCARD", SUCCESS, label="Success (Mastercard)"),
    Card("4000000000000002", "VISA", DECLINE, "CARD_DECLINED", label="Declined"),
    Card("4000000000009995", "VISA", DECLINE, "INSUFFICIENT_FUNDS", label="Insufficient funds"),
    Card("4000000000000069", "VISA", DECLINE, "EXPIRED_CARD", label="Expired card"),
    Card("4000000000000127", "VISA", DECLINE, "INCORRECT_CVC", label="Incorrect CVC"),
    Card("4000000000000119", "VISA", DECLINE, "PROCESSING_ERROR", label="Processing error"),
    Card("4576238912771450", "VISA", SUCCESS, country="IN", label="India, success"),
    Card("4706131211212123", "VISA", DECLINE, "CARD_DECLINED", country="IN", label="India, declined"),
    Card("4000002500003155", "VISA", CHALLENGE, label="3D Secure challenge"),
    Card("4000000000000341", "VISA", SUCCESS, later_decline="CARD_DECLINED",
         label="Succeeds now, later charges (renewals) declined"),
)}

# UPI virtual payment addresses: collect requests go through "processing" first.
UPI = {"success@upi": SUCCESS, "failure@upi": DECLINE}
UPI_DECLINE_REASON = "PAYMENT_DECLINED"
VPA = re.compile(r"^[A-Za-z0-9._-]{2,64}@[A-Za-z]{2,64}$")


class InstrumentError(ValueError):
    """The buyer typed something the form refuses; the page shows the message."""


def luhn_ok(number: str) -> bool:
    total = 0
    for index, digit in enumerate(reversed(number)):
        value = int(digit)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def parse_card(number: str, expiry: str, cvc: str, now_year: int, now_month: int) -> Card:
    digits = re.sub(r"[\s-]", "", number or "")
    if not digits.isdigit() or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
        raise InstrumentError("Your card number is invalid.")
    month, year = expiry_of(expiry)
    if (year, month) < (now_year, now_month):
        raise InstrumentError("Your card's expiration date is in the past.")
    if not re.fullmatch(r"\d{3,4}", (cvc or "").strip()):
        raise InstrumentError("Your card's security code is incomplete.")
    card = CARDS.get(digits)
    if card is None:
        raise InstrumentError("This is a test checkout: use one of the test cards listed below.")
    return card


def expiry_of(expiry: str) -> tuple[int, int]:
    """`06/32` -> (6, 2032); InstrumentError when it is not MM/YY (or MM/YYYY)."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*", expiry or "")
    if not match or not 1 <= int(match.group(1)) <= 12:
        raise InstrumentError("Enter the expiry date as MM/YY.")
    month, year = int(match.group(1)), int(match.group(2))
    return month, year + 2000 if year < 100 else year


def parse_vpa(vpa: str) -> str:
    vpa = (vpa or "").strip().lower()
    if not VPA.match(vpa):
        raise InstrumentError("Enter a UPI ID such as success@upi.")
    if vpa not in UPI:
        raise InstrumentError("This is a test checkout: use success@upi or failure@upi.")
    return vpa


def reason_code(raw: str | None, default: str = "CARD_DECLINED") -> str:
    """`insufficient_funds` -> `INSUFFICIENT_FUNDS`; unknown codes raise ValueError."""
    if raw is None:
        return default
    code = str(raw).strip().upper().replace("-", "_").replace(" ", "_")
    if code not in REASONS:
        raise ValueError(f"unknown reason {raw!r}; known: {sorted(c.lower() for c in REASONS)}")
    return code
