"""The Waffo part of the seeded catalog: merchants, stores, products, test-only key pairs.

Ids come from a random source seeded independently of the Dodo section, so adding or changing
Waffo fixtures never shifts a Dodo id. RSA key generation cannot be seeded, so the merchant key
pairs are data, committed under `fixtures/waffo/keys/` (TEST-ONLY) and shipped with the package;
their public halves are copied into the catalog: the server never needs to read a private key.
Generating a catalog only reads them, so it never writes into an installed package.
"""
from __future__ import annotations

import random

from ... import resources
from ...core.ids import BASE62

KEYS_FOLDER = "waffo/keys"  # under the fixtures folder; catalogs name key files relative to it
ID_LENGTH = 22  # the SDK refuses ids that are not PREFIX_ + 22 base62 characters

# (key, name, slug, status, production enabled, merchant key)
STORES = [
    ("main", "Acme Digital", "acme-digital", "active", True, "acme"),
    ("labs", "Acme Labs", "acme-labs", "active", False, "acme"),
    ("archive", "Acme Archive", "acme-archive", "inactive", True, "acme"),
    ("beta", "Beta Studio", "beta-studio", "active", True, "beta"),
]
# (fixture slug, store key, type, name, prices {currency: amount}, tax category, period, trial days)
PRODUCTS = [
    ("ebook", "main", "onetime", "TypeScript Handbook (e-book)",
     {"USD": "29.00", "EUR": "27.00", "GBP": "24.00", "HKD": "228.00", "JPY": "4500", "CNY": "199.00",
      "INR": "2400.00"}, "ebook", None, None),
    ("course", "main", "onetime", "Async Python Course",
     {"USD": "149.00", "EUR": "139.00"}, "online_course", None, None),
    ("pro_monthly", "main", "subscription", "Pro Plan (monthly)",
     {"USD": "9.99", "EUR": "8.99", "GBP": "7.99", "JPY": "1500"}, "saas", "monthly", None),
    ("team_yearly", "main", "subscription", "Team Plan (yearly, 7-day trial)",
     {"USD": "199.00"}, "saas", "yearly", 7),
    ("labs_kit", "labs", "onetime", "Labs Starter Kit", {"USD": "19.00"}, "software", None, None),
    ("archive_pack", "archive", "onetime", "Archived Icon Pack", {"USD": "5.00"}, "digital_goods",
     None, None),
    ("beta_presets", "beta", "onetime", "Beta Preset Pack", {"USD": "12.00", "EUR": "11.00"},
     "digital_goods", None, None),
    ("beta_club", "beta", "subscription", "Beta Club (monthly)", {"USD": "5.00"}, "saas", "monthly",
     None),
]
# (merchant key, environments with a committed key pair)
MERCHANTS = [("acme", ("test", "prod")), ("beta", ("test",))]


def _id(rng: random.Random, prefix: str) -> str:
    return f"{prefix}_" + "".join(rng.choice(BASE62) for _ in range(ID_LENGTH))


def key_file(merchant_key: str, environment: str, half: str) -> str:
    """A key file's name relative to the fixtures folder (`half`: "private" or "public")."""
    return f"{KEYS_FOLDER}/{merchant_key}-{environment}.TEST-ONLY.{half}.pem"


def public_key_pem(merchant_key: str, environment: str) -> str:
    """The committed public key of a fixture merchant."""
    name = key_file(merchant_key, environment, "public")
    source = resources.fixtures() / name
    if not source.is_file():  # a merchant added to MERCHANTS without its key pair
        private = key_file(merchant_key, environment, "private")
        raise FileNotFoundError(
            f"no TEST-ONLY key pair for {merchant_key} ({environment}): in a checkout, run "
            f"`openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out fixtures/{private}"
            f" && openssl pkey -in fixtures/{private} -pubout -out fixtures/{name}`")
    return source.read_text()


def generate(seed: int, created: str) -> dict:
    rng = random.Random(f"waffo:{seed}")
    from faker import Faker  # only `paymock fixtures generate` needs it; a 60 ms import

    fake = Faker("en_US")
    fake.seed_instance(seed + 1)
    merchants, merchant_ids = [], {}
    for key, environments in MERCHANTS:
        merchant_ids[key] = _id(rng, "MER")
        merchants.append({
            "merchantId": merchant_ids[key], "name": fake.company(), "fixture": key,
            "keys": [{
                "environment": env,
                "publicKeyPem": public_key_pem(key, env),
                "privateKeyFile": key_file(key, env, "private"),
            } for env in environments],
        })
    stores, store_ids = [], {}
    for key, name, slug, status, prod_enabled, owner in STORES:
        store_ids[key] = _id(rng, "STO")
        stores.append({
            "id": store_ids[key], "merchantId": merchant_ids[owner], "name": name, "slug": slug,
            "status": status, "prodEnabled": prod_enabled, "supportEmail": fake.company_email(),
            "createdAt": created,
        })
    products = []
    for slug, store, kind, name, prices, category, period, trial in PRODUCTS:
        product = {
            "id": _id(rng, "PROD"), "storeId": store_ids[store], "type": kind, "name": name,
            "description": fake.sentence(nb_words=10), "status": "active", "version": 1,
            "prices": {cur: {"amount": amount, "taxCategory": category}
                       for cur, amount in prices.items()},
            "metadata": {"fixture": slug}, "createdAt": created,
        }
        if kind == "subscription":
            product["billingPeriod"] = period
            product["trialDays"] = trial
        products.append(product)
    return {
        "note": "TEST-ONLY merchants and key pairs; the private keys under fixtures/waffo/keys/ "
                "exist only to sign requests to paymock.",
        "merchants": merchants, "stores": stores, "products": products,
    }
