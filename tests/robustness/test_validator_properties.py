"""Hypothesis over the contract validators: for every request body of both contracts, any JSON
value is either valid or a RequestInvalid naming a field, never another exception; and the compiled
fast path (jsonschema_rs) never accepts what jsonschema refuses."""
from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_server.core.contracts import Contract, RequestInvalid

CONTRACTS = {name: Contract.load(name) for name in ("dodo", "waffo")}
OPERATIONS = [(name, op_id) for name, contract in CONTRACTS.items()
              for op_id, op in contract.operations.items() if op.body_schema is not None]
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
           | st.sampled_from(["", "USD", "US", "pdt_uGej5ygB4DvTZFDmnvmUM", "a@b.co", "2026-01-01"]))
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["product_cart", "product_id", "quantity", "customer", "email", "productId",
                         "currency", "billingDetail", "country", "isBusiness", "metadata", "x"])
        | st.text(max_size=10), children, max_size=6),
    max_leaves=30)

# Bodies that pass, to mutate one leaf at a time: the interesting inputs sit next to valid ones.
VALID = {
    ("dodo", "create_session"): {"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM",
                                                   "quantity": 1}],
                                 "customer": {"email": "a@b.co", "name": "A"},
                                 "billing_address": {"country": "US", "zipcode": "94105"}},
    ("waffo", "createCheckoutSession"): {"productId": "PROD_" + "a" * 22, "currency": "USD",
                                         "billingDetail": {"country": "US", "isBusiness": False,
                                                           "state": "CA"}},
}


def check(contract: Contract, op_id: str, body) -> bool:
    """True if valid; a RequestInvalid must name a field and say something."""
    try:
        contract.validate_body(op_id, body)
        return True
    except RequestInvalid as exc:
        assert isinstance(exc.field, str) and exc.field, exc
        assert isinstance(exc.message, str) and exc.message, exc
        return False


def jsonschema_accepts(contract: Contract, op_id: str, body) -> bool:
    return contract.body_validator(op_id).is_valid(body)


@pytest.mark.parametrize("provider,op_id", OPERATIONS, ids=[f"{p}.{o}" for p, o in OPERATIONS])
@SETTINGS
@given(body=json_values)
def test_any_json_value_is_valid_or_request_invalid(provider, op_id, body):
    contract = CONTRACTS[provider]
    valid = check(contract, op_id, body)
    assert valid == jsonschema_accepts(contract, op_id, body)


@pytest.mark.parametrize("provider,op_id", list(VALID), ids=[f"{p}.{o}" for p, o in VALID])
@SETTINGS
@given(data=st.data())
def test_one_changed_leaf_never_escapes_the_validator(provider, op_id, data):
    contract = CONTRACTS[provider]
    body = copy.deepcopy(VALID[(provider, op_id)])
    assert check(contract, op_id, body)
    paths = list(_leaf_paths(body))
    path = data.draw(st.sampled_from(paths))
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = data.draw(json_values)
    valid = check(contract, op_id, body)
    fast = contract.fast_body(op_id)
    if fast is not None:
        try:
            fast_ok = fast.is_valid(body)
        except Exception:
            fast_ok = False
        assert not fast_ok or jsonschema_accepts(contract, op_id, body)  # never looser
    assert valid == jsonschema_accepts(contract, op_id, body)


def _leaf_paths(value, prefix=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield prefix + (key,)
            yield from _leaf_paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield prefix + (index,)
            yield from _leaf_paths(child, prefix + (index,))


def test_the_fast_path_is_compiled_for_every_body():
    missing = [f"{p}.{o}" for p, o in OPERATIONS if CONTRACTS[p].fast_body(o) is None]
    assert not missing, f"no compiled validator for {missing}: is jsonschema_rs installed?"


@pytest.mark.parametrize("quantity", [2**31, -(2**31) - 1, 1e10, 2.0**63, 10**30])
def test_integer_formats_hold_for_integral_floats_and_big_integers(quantity):
    body = {"product_cart": [{"product_id": "pdt_uGej5ygB4DvTZFDmnvmUM", "quantity": quantity}]}
    with pytest.raises(RequestInvalid, match=r"product_cart\[0\]\.quantity"):
        CONTRACTS["dodo"].validate_body("create_session", body)
