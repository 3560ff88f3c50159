"""The Dodo part of the seeded catalog: a business, its products (named after the ten examples of
Dodo's checkout-session guide), customers and discount codes.

Ids come from a random source seeded by the catalog's seed alone, so adding or changing another
provider's fixtures never shifts a Dodo id.
"""
from __future__ import annotations

import random

from ...core.clock import iso
from ...core.ids import BASE62

# slug, name, recurring, tax category, currency, price range (minor units), extra price fields.
# The slugs follow the product names of the Dodo checkout-session guide's ten examples.
PRODUCTS = [
    ("ebook_guide", "The Complete E-book Guide", False, "e_book", "USD", (999, 2999), {}),
    ("laptop", "Developer Laptop License", False, "digital_products", "USD", (89900, 149900), {}),
    ("mouse", "Precision Mouse Driver", False, "digital_products", "USD", (1999, 4999), {}),
    ("warranty", "Extended Warranty", False, "digital_products", "USD", (4900, 9900), {}),
    ("premium_course", "Premium Programming Course", False, "edtech", "USD", (9900, 29900), {}),
    ("consulting_service", "Consulting Hour", False, "live_tutoring", "GBP", (15000, 30000), {}),
    ("enterprise_license", "Enterprise Seat License", False, "saas", "USD", (19900, 49900), {}),
    ("gaming_chair", "Gaming Chair Configurator", False, "digital_products", "USD", (19900, 39900), {}),
    ("online_course_hindi", "Online Course (Hindi)", False, "edtech", "INR", (49900, 199900), {}),
    ("luxury_watch", "Luxury Watch Face Pack", False, "digital_products", "USD", (99900, 249900), {}),
    ("tip_jar", "Tip Jar (pay what you want)", False, "digital_products", "USD", (100, 100),
     {"pay_what_you_want": True, "suggested_price": 500}),
    ("vat_inclusive_template", "Template Pack (VAT inclusive)", False, "digital_products", "EUR",
     (1900, 4900), {"tax_inclusive": True}),
    ("monthly_plan", "Professional Plan (monthly)", True, "saas", "USD", (1900, 4900),
     {"interval": "Month", "trial_period_days": 0}),
    ("monthly_subscription", "Starter Subscription (monthly)", True, "saas", "USD", (900, 1900),
     {"interval": "Month", "trial_period_days": 0}),
    ("yearly_plan", "Team Plan (yearly, 7-day trial)", True, "saas", "USD", (19900, 49900),
     {"interval": "Year", "trial_period_days": 7}),
]

# Products that issue license keys (a License Key entitlement, plus the deprecated product fields
# Dodo still returns for it): slug, name, recurring, price, activations limit, key duration. Their
# ids come from a random source of their own, so adding them shifted no id above (the README and
# tests name those).
LICENSE_PRODUCTS = [
    ("desktop_app_license", "Desktop App License (license key)", False, 4900, 3, (1, "Year")),
    ("team_seats_plan", "Team Seats Plan (monthly, a license key per seat)", True, 2900, 2, None),
]



def _id(rng: random.Random, prefix: str, length: int = 21) -> str:
    return f"{prefix}_" + "".join(rng.choice(BASE62) for _ in range(length))


def generate(seed: int, generated_at: float) -> dict:
    """Dodo's section of a generated catalog: a business, products, customers, discounts."""
    rng = random.Random(seed)
    from faker import Faker  # only to generate; loading needs none of it

    fake = Faker("en_US")
    fake.seed_instance(seed)
    created = iso(generated_at)
    expired_at = iso(generated_at - 365 * 24 * 3600)
    business_id = _id(rng, "bus")
    # The products are the primary brand's, whose id is the business id (Dodo's spec,
    # ArchiveBrandRequest). The draw that made a brand id of its own is kept, so that every id
    # after it stays what it was.
    _id(rng, "bus")
    brand_id = business_id
    products = []
    for slug, name, recurring, category, currency, (low, high), extra in PRODUCTS:
        amount = low if low == high else rng.randrange(low, high + 1, 100)
        price = {
            "currency": currency, "price": amount, "discount": 0,
            "purchasing_power_parity": False, "tax_inclusive": extra.get("tax_inclusive", False),
        }
        if recurring:
            price.update(type="recurring_price", payment_frequency_count=1,
                         payment_frequency_interval=extra["interval"], subscription_period_count=10,
                         subscription_period_interval="Year",
                         trial_period_days=extra["trial_period_days"])
        else:
            price.update(type="one_time_price",
                         pay_what_you_want=extra.get("pay_what_you_want", False),
                         suggested_price=extra.get("suggested_price"))
        products.append({
            "product_id": _id(rng, "pdt"), "business_id": business_id, "brand_id": brand_id,
            "name": name, "description": fake.sentence(nb_words=12),
            "created_at": created, "updated_at": created, "is_recurring": recurring,
            "tax_category": category, "price": price, "license_key_enabled": False,
            "metadata": {"fixture": slug}, "credit_entitlements": [], "entitlements": [],
            "addons": [], "image": None, "digital_product_delivery": None,
        })
    products += _license_products(random.Random(f"{seed}:license_keys"), business_id, brand_id,
                                  created)
    by_slug = {p["metadata"]["fixture"]: p["product_id"] for p in products}
    customers = []
    for _ in range(3):
        name = fake.name()
        customers.append({
            "customer_id": _id(rng, "cus"), "business_id": business_id, "name": name,
            "email": fake.unique.email(), "phone_number": fake.numerify("+1555#######"),
            "created_at": created, "metadata": {},
        })
    discounts = [
        ("BLACKFRIDAY2024", "percentage", 2000, None, []),
        ("WELCOME5", "flat", 500, None, []),
        ("LAPTOP10", "percentage", 1000, None, [by_slug["laptop"]]),
        ("EXPIRED2023", "percentage", 1500, expired_at, []),
    ]
    discount_objects = [{
        "discount_id": _id(rng, "dsc"), "business_id": business_id, "code": code,
        "name": code.title(), "type": kind, "amount": amount,
        "expires_at": expires, "restricted_to": restricted,
        "times_used": 0, "usage_limit": None, "per_customer_usage_limit": None,
        "subscription_cycles": None, "starts_at": None, "created_at": created,
        "preserve_on_plan_change": False, "customer_eligibility": "any", "metadata": {},
    } for code, kind, amount, expires, restricted in discounts]
    return {"business_id": business_id, "products": products, "customers": customers,
            "discounts": discount_objects}


def _license_products(rng: random.Random, business_id: str, brand_id: str, created: str) -> list:
    products = []
    for slug, name, recurring, amount, limit, duration in LICENSE_PRODUCTS:
        price = {"currency": "USD", "price": amount, "discount": 0,
                 "purchasing_power_parity": False, "tax_inclusive": False}
        if recurring:
            price.update(type="recurring_price", payment_frequency_count=1,
                         payment_frequency_interval="Month", subscription_period_count=10,
                         subscription_period_interval="Year", trial_period_days=0)
        else:
            price.update(type="one_time_price", pay_what_you_want=False, suggested_price=None)
        message = f"Paste the key in {name.split(' (')[0]}: Settings > License"
        count, interval = duration or (None, None)
        products.append({
            "product_id": _id(rng, "pdt"), "business_id": business_id, "brand_id": brand_id,
            "name": name, "description": f"{name}: TEST-ONLY fixture product that issues "
            "license keys.", "created_at": created, "updated_at": created,
            "is_recurring": recurring, "tax_category": "saas" if recurring else "digital_products",
            "price": price, "license_key_enabled": True, "license_key_activations_limit": limit,
            "license_key_duration": None if duration is None else {"count": count,
                                                                   "interval": interval},
            "license_key_activation_message": message,
            "metadata": {"fixture": slug}, "credit_entitlements": [],
            "entitlements": [{
                "id": _id(rng, "ent"), "integration_type": "license_key",
                "name": f"{name.split(' (')[0]} key", "description": None,
                "integration_config": {"activations_limit": limit, "duration_count": count,
                                       "duration_interval": interval,
                                       "activation_message": message, "fulfillment_mode": "auto"},
            }],
            "addons": [], "image": None, "digital_product_delivery": None,
        })
    return products
