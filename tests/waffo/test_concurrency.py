"""Concurrent create-order calls on a real threaded server."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .helpers import MERCHANTS, ONETIME_ORDER, WaffoClient

US = {"country": "US", "isBusiness": False, "state": "WA"}
PARALLEL = 50


def _orders(core, waffo) -> list[dict]:
    ns = core.store.namespace(waffo.gateway.namespace_name(MERCHANTS["acme"]["merchantId"]))
    return ns.values("order")


def test_one_idempotency_key_makes_one_order(live, core, waffo):
    client = WaffoClient(base_url=live.url)
    session, token = client.session("ebook"), client.token()
    body = {"checkoutSessionId": session, "billingDetail": US, "buyerEmail": "a@b.co"}
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(
            lambda _: client.bearer(ONETIME_ORDER, body, token,
                                    headers={"X-Idempotency-Key": "one-order-please"}),
            range(PARALLEL)))
    [order] = _orders(core, waffo)
    ok = [r for r in results if r[0] == 200]
    conflicts = [r for r in results if r[0] == 409]
    assert len(ok) + len(conflicts) == PARALLEL and ok
    assert all(r[1] == {"data": {"checkoutUrl": order["payment"]["checkoutUrl"]}} for r in ok)
    assert sum(1 for r in ok if "X-Paymock-Idempotent-Replay" not in r[2]) == 1
    assert all(r[1]["errors"][0]["message"] ==
               "A request with this idempotency key is still in progress" for r in conflicts)


def test_parallel_orders_on_distinct_sessions_lose_none(live, core, waffo):
    client = WaffoClient(base_url=live.url)
    token = client.token()
    sessions = [client.session("ebook") for _ in range(PARALLEL)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        results = list(pool.map(
            lambda s: client.bearer(ONETIME_ORDER, {"checkoutSessionId": s, "billingDetail": US,
                                                    "buyerEmail": "a@b.co"}, token), sessions))
    assert [r[0] for r in results] == [200] * PARALLEL
    orders = _orders(core, waffo)
    assert sorted(o["checkoutSessionId"] for o in orders) == sorted(sessions)
    urls = {r[1]["data"]["checkoutUrl"] for r in results}
    assert urls == {o["payment"]["checkoutUrl"] for o in orders} and len(urls) == PARALLEL
