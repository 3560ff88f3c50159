"""The mock's tax table, shared by both providers (documented in README, "Tax table").

Rates are basis points (725 = 7.25%). It is a plausible, fixed table for tests, not tax advice:
US rates are state-level only, Canadian rates combine GST/HST/PST/QST, EU member states use their
standard VAT rate, and an EU business with a well-formed VAT id pays 0% (reverse charge).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

US_STATES = {"CA": 725, "NY": 400, "TX": 625, "WA": 650, "FL": 600, "MA": 625, "IL": 625,
             "PA": 600, "NJ": 663, "CO": 290}
CA_PROVINCES = {"ON": 1300, "QC": 1498, "BC": 1200, "AB": 500, "MB": 1200, "SK": 1100,
                "NS": 1400, "NB": 1500, "NL": 1500, "PE": 1500}
EU_VAT = {"AT": 2000, "BE": 2100, "BG": 2000, "HR": 2500, "CY": 1900, "CZ": 2100, "DK": 2500,
          "EE": 2200, "FI": 2550, "FR": 2000, "DE": 1900, "GR": 2400, "HU": 2700, "IE": 2300,
          "IT": 2200, "LV": 2100, "LT": 2100, "LU": 1700, "MT": 1800, "NL": 2100, "PL": 2300,
          "PT": 2300, "RO": 1900, "SK": 2300, "SI": 2200, "ES": 2100, "SE": 2500}
OTHER = {"GB": 2000, "IN": 1800, "AU": 1000, "NZ": 1500, "JP": 1000, "SG": 900, "CH": 810,
         "NO": 2500}
CA_DEFAULT = 500  # federal GST where no province is given
DEFAULT_RATE = 0

# A VAT id is the country prefix (Greece uses EL) and 2 to 13 letters or digits.
_VAT_ID = re.compile(r"^(?P<cc>[A-Z]{2})[0-9A-Z]{2,13}$")


@dataclass(frozen=True)
class TaxQuote:
    rate_bp: int
    reverse_charge: bool = False

    @property
    def rate_percent(self) -> str:
        return f"{self.rate_bp / 100:.2f}"


def is_eu(country: str) -> bool:
    return country.upper() in EU_VAT


def valid_vat_id(country: str, tax_id: str | None) -> bool:
    if not tax_id:
        return False
    match = _VAT_ID.match(tax_id.replace(" ", "").upper())
    expected = "EL" if country.upper() == "GR" else country.upper()
    return bool(match) and match["cc"] == expected


def quote(country: str, state: str | None = None, business_tax_id: str | None = None) -> TaxQuote:
    country = (country or "").upper()
    state = (state or "").upper()
    if country in EU_VAT:
        if valid_vat_id(country, business_tax_id):
            return TaxQuote(0, reverse_charge=True)
        return TaxQuote(EU_VAT[country])
    if country == "US":
        return TaxQuote(US_STATES.get(state, DEFAULT_RATE))
    if country == "CA":
        return TaxQuote(CA_PROVINCES.get(state, CA_DEFAULT))
    return TaxQuote(OTHER.get(country, DEFAULT_RATE))


def split(amount: int, rate_bp: int, inclusive: bool) -> int:
    """Tax in minor units on `amount`: carved out of it when inclusive, added on top otherwise."""
    if rate_bp <= 0 or amount <= 0:
        return 0
    if inclusive:
        return amount - round(amount * 10000 / (10000 + rate_bp))
    return round(amount * rate_bp / 10000)
