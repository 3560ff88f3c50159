"""The Waffo part of the seeded catalog: merchants, stores, products, test-only key pairs.

Ids come from a random source seeded independently of the Dodo section, so adding or changing
Waffo fixtures never shifts a Dodo id. RSA key generation cannot be seeded, so the merchant key
pairs are generated once, committed under `fixtures/waffo/keys/` (TEST-ONLY), and their public
halves are copied into the catalog: the server never needs to read a private key.
"""
from __future__ import annotations

import random
from pathlib import Path

from ...core.ids import BASE62

KEYS_DIR = Path(__file__).resolve().parents[3] / "fixtures" / "waffo" / "keys"
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


def key_files(merchant_key: str, environment: str) -> tuple[Path, Path]:
    stem = f"{merchant_key}-{environment}.TEST-ONLY"
    return KEYS_DIR / f"{stem}.private.pem", KEYS_DIR / f"{stem}.public.pem"


def ensure_key_pair(merchant_key: str, environment: str) -> str:
    """The committed public key PEM; a pair is generated only when the files are missing."""
    private_path, public_path = key_files(merchant_key, environment)
    if not (private_path.exists() and public_path.exists()):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        KEYS_DIR.mkdir(parents=True, exist_ok=True)
        private_path.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        public_path.write_bytes(key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return public_path.read_text()


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
                "publicKeyPem": ensure_key_pair(key, env),
                "privateKeyFile": str(key_files(key, env)[0].relative_to(KEYS_DIR.parents[1])),
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
