"""The chat channels a Waffo store webhook may post to instead of the signed HTTP envelope:
Feishu, Discord, Telegram and Slack, each in the message shape its platform takes.

Waffo's webhooks overview says these channels are unsigned and carry a card (Feishu, in Chinese,
times in UTC+8), an embed (Discord), a `sendMessage` call whose `chat_id` is the webhook's
`secret` and whose text is HTML (Telegram), or attachments in mrkdwn (Slack). The exact JSON is
not documented: what is written here is each platform's own documented message format, filled
with the event's essentials (event, order, product, amount, buyer, store, mode).
"""
from __future__ import annotations

import html
from datetime import datetime, timedelta, timezone

import orjson

CHANNELS = ("feishu", "discord", "telegram", "slack")
UTC8 = timezone(timedelta(hours=8))
FEISHU_TITLES = {  # the card's title, in Chinese as Waffo's Feishu cards are
    "order.completed": "订单已完成", "subscription.activated": "订阅已激活",
    "subscription.payment_succeeded": "订阅付款成功", "subscription.renewed": "订阅已续费",
    "subscription.recovered": "订阅已恢复", "subscription.plan_changed": "订阅方案已变更",
    "subscription.plan_change_scheduled": "订阅方案变更已排期",
    "subscription.plan_change_failed": "订阅方案变更失败", "subscription.canceling": "订阅将取消",
    "subscription.uncanceled": "订阅已撤销取消", "subscription.canceled": "订阅已取消",
    "subscription.past_due": "订阅已逾期", "refund.succeeded": "退款成功",
    "refund.failed": "退款失败",
}


def _facts(payload: dict) -> list[tuple[str, str]]:
    data = payload.get("data") or {}
    amount = data.get("chargedAmount") or data.get("refundedAmount") or data.get("total")
    facts = [("Order", data.get("orderId")), ("Product", data.get("productName")),
             ("Amount", f"{amount} {data.get('currency', '')}".strip() if amount else None),
             ("Buyer", data.get("buyerEmail")), ("Status", data.get("orderStatus")),
             ("Store", payload.get("storeName") or payload.get("storeId")),
             ("Mode", payload.get("mode"))]
    return [(name, str(value)) for name, value in facts if value]


def discord(payload: dict, delivery_id: str, endpoint) -> str:
    return orjson.dumps({"embeds": [{
        "title": payload["eventType"], "timestamp": payload.get("timestamp"),
        "fields": [{"name": name, "value": value, "inline": True}
                   for name, value in _facts(payload)],
        "footer": {"text": f"Waffo Pancake · {delivery_id}"}}]}).decode()


def slack(payload: dict, delivery_id: str, endpoint) -> str:
    return orjson.dumps({"text": f"*{payload['eventType']}*", "attachments": [{
        "fallback": payload["eventType"], "mrkdwn_in": ["text", "fields"],
        "fields": [{"title": name, "value": value, "short": True}
                   for name, value in _facts(payload)],
        "footer": f"Waffo Pancake · {delivery_id}"}]}).decode()


def telegram(payload: dict, delivery_id: str, endpoint) -> str:
    lines = [f"<b>{html.escape(payload['eventType'])}</b>"] + [
        f"{html.escape(name)}: {html.escape(value)}" for name, value in _facts(payload)]
    return orjson.dumps({"chat_id": endpoint.metadata.get("secret"), "parse_mode": "HTML",
                         "text": "\n".join(lines)}).decode()


def feishu(payload: dict, delivery_id: str, endpoint) -> str:
    stamp = payload.get("timestamp")
    try:
        local = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC8)
        when = local.strftime("%Y-%m-%d %H:%M:%S (UTC+8)")
    except (AttributeError, ValueError):
        when = str(stamp)
    content = "\n".join(f"**{name}**: {value}" for name, value in _facts(payload))
    return orjson.dumps({"msg_type": "interactive", "card": {
        "header": {"title": {"tag": "plain_text",
                             "content": FEISHU_TITLES.get(payload["eventType"],
                                                          payload["eventType"])}},
        "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": content}},
                     {"tag": "note", "elements": [{"tag": "plain_text",
                                                   "content": f"{when} · {delivery_id}"}]}]}},
                        ).decode()


FORMATS = {"discord": discord, "slack": slack, "telegram": telegram, "feishu": feishu}
