"""`paymock pay | clock | faults | state | webhooks | logs`: a running server's control API from
the terminal, as the Stripe CLI drives Stripe's test mode. Each command is a thin call of
`control.client.Client` (the same client tests use), printed as a table for people, or as the
API's JSON with `--json` for scripts. `--url` (or PAYMOCK_URL) picks the server and
`--control-token` (or PAYMOCK_CONTROL_TOKEN) is sent when the server asks for one."""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhdw]?)$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
FOLLOW_EVERY = 1.0  # seconds between looks when following the journal or the deliveries


class CommandError(Exception):
    """What the user asked cannot be done; said on stderr, exit status 2."""


def seconds(text: str) -> float:
    """`90`, `90s`, `30m`, `24h`, `7d`, `2w` -> seconds."""
    found = DURATION.match(text.strip())
    if found is None:
        raise CommandError(f"a duration is a number with s, m, h, d or w (24h, 30m, 7d), got "
                           f"{text!r}")
    return float(found.group(1)) * UNITS[found.group(2)]


def _client(args):
    from .control.client import Client

    return Client(args.url, token=args.control_token)


# -- output ------------------------------------------------------------------------------------
def _console():
    from rich.console import Console

    # Piped into a file or another program, a table keeps whole ids on one line (rich would
    # fold them at 80 columns); a terminal gets its own width.
    return Console(highlight=False, soft_wrap=False,
                   width=None if sys.stdout.isatty() else 240)


def _table(title: str | None, columns: list[str], rows: list[list]) -> None:
    from rich.table import Table

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    _console().print(table)


def _json(value) -> None:
    print(json.dumps(value, indent=2))


# -- the commands ----------------------------------------------------------------------------
def pay(args) -> None:
    payment = _client(args).pay(args.id, args.outcome, args.reason)
    if args.json:
        return _json({"payment": payment})  # as POST /_mock/payments/{id}/outcome answers
    _table(None, ["payment", "status", "amount", "currency", "reason", "namespace"],
           [[payment["id"], payment["status"], payment["amount"], payment["currency"],
             payment.get("reason"), payment.get("namespace")]])


def clock(args) -> None:
    client = _client(args).clock
    if args.action == "advance":
        if not args.value:
            raise CommandError("clock advance wants a duration, e.g. `paymock clock advance 24h`")
        answer = client.advance(seconds(args.value))
    elif args.action == "freeze":
        answer = client.freeze(float(args.value) if args.value else None)
    elif args.action == "resume":
        answer = client.resume()
    elif args.action == "reset":
        answer = client.reset()
    else:
        answer = client.get()
    if args.json:
        return _json(answer)
    rows = [[key, value] for key, value in answer.items() if not isinstance(value, (list, dict))]
    _table("clock", ["", ""], rows)
    for key, value in answer.items():  # what fell due, when an advance lists it
        if isinstance(value, list) and value:
            _table(key, ["ran"], [[item if not isinstance(item, dict) else json.dumps(item)]
                                  for item in value])


def faults(args) -> None:
    client = _client(args)
    if args.action == "list":
        rules = client.faults.list()
        if args.json:
            return _json(rules)
        _table("fault rules", ["id", "provider", "operation", "action", "times", "matched",
                               "fired"],
               [[r["id"], r.get("provider"), r.get("operation"),
                 json.dumps(r.get("action") or r.get("sequence")), r.get("times"),
                 r.get("matched"), r.get("fired")] for r in rules])
    elif args.action == "clear":
        removed = client.faults.reset()
        return _json({"removed": removed}) if args.json else print(f"{removed} rule(s) removed")
    elif args.action == "presets":
        presets = client._call("GET", "/faults/presets")["presets"]
        if args.json:
            return _json(presets)
        _table("action presets (--preset NAME)", ["name", "action"],
               [[name, json.dumps(action)] for name, action in presets.items()])
    else:  # add: a scenario file or preset, a JSON rule, or flags
        if args.scenario:
            added = _scenario(client, args.scenario)
        else:
            rule = json.loads(args.rule) if args.rule else {}
            for name in ("provider", "operation", "times", "namespace"):
                value = getattr(args, name)
                if value is not None:
                    rule[name] = value
            action = dict(rule.get("action") or {})
            if args.preset:
                action["preset"] = args.preset
            if args.status is not None:
                action["status"] = args.status
            if args.decline:
                action["decline"] = args.decline
            if action:
                rule["action"] = action
            if "action" not in rule and "sequence" not in rule:
                raise CommandError("faults add wants what to do: --preset NAME (`paymock faults "
                                   "presets`), --status N, --decline REASON, --rule JSON or "
                                   "--scenario NAME")
            added = [client.faults.add(rule)]
        if args.json:
            return _json(added)
        _table("added", ["id", "provider", "operation", "action", "times"],
               [[r["id"], r.get("provider"), r.get("operation"),
                 json.dumps(r.get("action") or r.get("sequence")), r.get("times")]
                for r in added])


def _scenario(client, name: str) -> list[dict]:
    """A scenario file, or a preset scenario shipped with paymock (fixtures/scenarios/)."""
    from pathlib import Path

    from .core import scenarios

    source = scenarios.preset(name) or Path(name)
    if not source.is_file():
        raise CommandError(f"no scenario file or preset {name!r}")
    return client.load_scenario(json.loads(source.read_text()))


def state(args) -> None:
    answer = _client(args).state(args.namespace)
    if args.json:
        return _json(answer)
    shown, kinds_seen = 0, set()
    for name, kinds in answer["namespaces"].items():
        kinds_seen.update(kinds)
        for kind, objects in sorted(kinds.items()):
            if args.kind and kind != args.kind:
                continue
            rows = [[obj_id, _status(obj), _when(obj)] for obj_id, obj in objects.items()]
            _table(f"{name} · {kind} ({len(rows)})", ["id", "status", "created"], rows)
            shown += 1
    if not shown:
        raise CommandError(f"no {args.kind or ''} objects here".replace("  ", " ")
                           + (f"; kinds held: {', '.join(sorted(kinds_seen))}"
                              if kinds_seen else ""))


def _status(obj) -> str | None:
    if not isinstance(obj, dict):
        return None
    for key in ("status", "payment_status", "dispute_status"):
        if isinstance(obj.get(key), str):
            return obj[key]
    return None


def _when(obj) -> str | None:
    if not isinstance(obj, dict):
        return None
    return next((obj[key] for key in ("created_at", "createdAt") if isinstance(obj.get(key), str)),
                None)


def webhooks(args) -> None:
    client = _client(args).webhooks
    if args.action == "redeliver":
        if not args.id:
            raise CommandError("webhooks redeliver wants a delivery id (`paymock webhooks list`)")
        answer = client.redeliver(args.id)
        return _json(answer) if args.json else print(f"{args.id}: redelivery queued")
    seen: dict[str, tuple] = {}
    while True:
        rows = []
        for d in client.deliveries(args.namespace, args.status):
            attempts = d.get("attempts") or []
            last = attempts[-1] if attempts else {}
            key = (d["status"], len(attempts))
            if seen.get(d["id"]) == key:
                continue
            seen[d["id"]] = key
            rows.append(d if args.json else [d["id"], d["type"], d["status"], len(attempts),
                                             last.get("status_code") or last.get("error"),
                                             d.get("url")])
        if rows:
            if args.json:
                for row in rows:
                    print(json.dumps(row), flush=True)
            else:
                _table(None, ["delivery", "event", "status", "attempts", "last answer", "url"],
                       rows)
        if args.action != "tail":
            return None
        time.sleep(FOLLOW_EVERY)


def logs(args) -> None:
    """Follow the journal (every request the server answered), filtered, as `stripe logs tail`."""
    client = _client(args)
    last = 0
    while True:
        for entry in client.journal(args.namespace):
            if entry["seq"] <= last:
                continue
            last = entry["seq"]
            if args.status and not str(entry["status"]).startswith(args.status.rstrip("x")):
                continue
            if args.operation and entry.get("operation") != args.operation:
                continue
            if args.json:
                print(json.dumps(entry), flush=True)
            else:
                print(f"{entry['at']}  {entry['status']}  {entry['method']:<6} {entry['path']}  "
                      f"{entry.get('provider') or '-'}.{entry.get('operation') or '-'}  "
                      f"{entry['duration_ms']:.1f} ms", flush=True)
        if args.action != "tail":
            return
        time.sleep(FOLLOW_EVERY)


# -- the parser --------------------------------------------------------------------------------
def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=os.environ.get("PAYMOCK_URL", "http://127.0.0.1:8787"),
                        help="the server (default $PAYMOCK_URL or http://127.0.0.1:8787)")
    parser.add_argument("--control-token", default=os.environ.get("PAYMOCK_CONTROL_TOKEN"),
                        help="the server's control token (default $PAYMOCK_CONTROL_TOKEN)")
    parser.add_argument("--json", action="store_true", help="the API's JSON, for scripts")


def add_commands(sub) -> None:
    p = sub.add_parser("pay", help="drive a payment's outcome (a payment, session or order id)")
    p.add_argument("id")
    p.add_argument("outcome", nargs="?", default="paid",
                   help="paid (default), declined, 3ds_required, 3ds_passed, 3ds_failed, "
                   "processing, cancelled, abandoned")
    p.add_argument("--reason", help="a decline reason, e.g. insufficient_funds")
    _common(p)
    p.set_defaults(func=_run(pay))

    p = sub.add_parser("clock", help="read or move the mock clock")
    p.add_argument("action", nargs="?", default="show",
                   choices=("show", "advance", "freeze", "resume", "reset"))
    p.add_argument("value", nargs="?", help="advance: a duration (24h, 30m, 7d); freeze: epoch "
                   "seconds (default: now)")
    _common(p)
    p.set_defaults(func=_run(clock))

    p = sub.add_parser("faults", help="list, add or clear fault rules")
    p.add_argument("action", choices=("list", "add", "clear", "presets"))
    p.add_argument("--preset", help="the rule's action: a named preset (`paymock faults presets`)")
    p.add_argument("--scenario", help="add the rules of a scenario file or shipped preset "
                   "(psp-outage, rate-limit, flaky-5xx, slow-network, ...)")
    p.add_argument("--rule", help="add one rule given as JSON")
    p.add_argument("--provider")
    p.add_argument("--operation", help="an operationId, e.g. createCheckoutSession")
    p.add_argument("--status", type=int, help="answer with this status")
    p.add_argument("--times", type=int, help="fire this many times, then stop")
    p.add_argument("--namespace")
    p.add_argument("--decline", help="the PSP declines with this reason")
    _common(p)
    p.set_defaults(func=_run(faults))

    p = sub.add_parser("state", help="the objects the server holds, as tables")
    p.add_argument("--namespace", help="one namespace (GET /_mock/namespaces lists them)")
    p.add_argument("--kind", help="one kind of object, e.g. payment, subscription, order")
    _common(p)
    p.set_defaults(func=_run(state))

    p = sub.add_parser("webhooks", help="webhook deliveries: list, follow (tail), redeliver")
    p.add_argument("action", choices=("list", "tail", "redeliver"))
    p.add_argument("id", nargs="?", help="redeliver: the delivery id")
    p.add_argument("--namespace")
    p.add_argument("--status", choices=("pending", "delivered", "failed"))
    _common(p)
    p.set_defaults(func=_run(webhooks))

    p = sub.add_parser("logs", help="the requests the server answered: list, or follow (tail)")
    p.add_argument("action", choices=("list", "tail"))
    p.add_argument("--namespace")
    p.add_argument("--status", help="a status or class, e.g. 404 or 4xx")
    p.add_argument("--operation", help="an operationId")
    _common(p)
    p.set_defaults(func=_run(logs))


def _run(command):
    def run(args) -> int:
        from .control.client import ControlAPIError

        try:
            command(args)
        except CommandError as exc:
            print(f"paymock {args.command}: {exc}", file=sys.stderr)
            return 2
        except (ControlAPIError, OSError) as exc:
            print(f"paymock {args.command}: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        return 0
    return run
