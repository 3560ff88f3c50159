"""`paymock serve | contract | trigger | fixtures generate`, and the control API's commands
(`pay | clock | faults | state | webhooks | logs`, control_commands.py)."""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from pathlib import Path

from . import __version__, control_commands, fixtures, resources, server_logs


def _serve(args) -> int:
    from .app import create_app
    from .config import Settings
    from .core import scenarios
    from . import guards

    try:
        given = dict(host=args.host, port=args.port, public_url=args.public_url,
                     fixtures=args.fixtures, threads=args.threads, server=args.server,
                     strict=True if args.strict else None,
                     fault_header=False if args.no_fault_header else None, webhook_url=args.webhook_url,
                     state_file=args.state_file, state_interval=args.state_interval,
                     control_token=args.control_token, max_body_bytes=args.max_body_bytes,
                     max_header_bytes=args.max_header_bytes,
                     read_timeout_seconds=args.read_timeout_seconds,
                     log_level=args.log_level, log_format=args.log_format)
        # argparse made each dest from its flag: errors can name --max-body-bytes, not the field.
        settings = Settings.load(args.config, **given,
                                 flags={name: "--" + name.replace("_", "-") for name in given})
        settings, generated = guards.generated_token(settings)
        guards.check_exposure(settings)
        server_class = _server_class(settings.server)
        app = create_app(settings)
        core = app.extensions["paymock"]
        restored = guards.restore_state(core, settings)
        for scenario in args.scenario or []:
            doc = scenarios.read(scenario)
            try:
                added = scenarios.apply(doc, core.faults, core.clock)
            except ValueError as exc:
                raise ValueError(f"scenario {scenario}: {exc}") from None
            print(f"scenario {doc.get('name', scenario)}: {len(added)} fault rule(s)")
    except (OSError, ValueError) as exc:  # ScenarioError, FaultRuleError, StateFileError too
        print(f"paymock: cannot start: {exc}", file=sys.stderr)
        return 2
    try:
        server = server_class(app, settings.host, settings.port,
                              **({"threads": settings.threads}
                                 if settings.threads and settings.server == "waitress" else {}))
    except OSError as exc:
        print(f"paymock: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
              file=sys.stderr)
        return 2
    # Only now: granian's server runs logging.config.dictConfig when made, which closes every
    # handler made before it (and a closed batch writes nothing more).
    server_logs.configure(settings.log_level, settings.log_format)
    # What create_app built (contracts, routes, fixtures) lives as long as the process: frozen,
    # the garbage collector stops walking it on every full collection.
    gc.collect()
    gc.freeze()
    gc.callbacks.append(_freeze_survivors)

    def announce():  # once the socket listens: scripts read the first line and connect
        print(f"paymock {__version__} listening on {server.url} ({server.name}, {server.threads} "
              f"thread{'s' if server.threads != 1 else ''})")
        for provider in app.extensions["paymock.providers"]:
            print(f"  {provider.name:<8} {server.url}{provider.mount}")
        print(f"  control  {server.url}/_mock   hosted pages on {core.public_url}")
        print(f"  dashboard {server.url}/_mock/ui")
        print(f"  fixtures {settings.fixtures or resources.catalog()}")
        for line in guards.startup_lines(settings, restored):
            print(line)
        if generated:  # nobody else knows it: the one place it is said
            print(f"  control token (generated): {settings.control_token}")
        print("Ctrl-C or SIGTERM stops it.", flush=True)

    saver = guards.start_autosave(core, settings)
    server.serve_forever(ready=announce)
    if saver is not None and saver.stop():
        print(f"state saved to {settings.state_file}", flush=True)
    print("paymock stopped.", flush=True)
    return 0


def _freeze_survivors(phase: str, info: dict) -> None:
    # What survives a full collection is state (sessions, orders, payments): freezing it keeps
    # the next full collection from walking it again, so collection pauses stay as short as the
    # state made since the last one instead of growing with all of it. Stored objects hold no
    # reference cycles; when evicted, reference counting frees them frozen or not.
    if phase == "stop" and info["generation"] == 2:
        gc.freeze()


def _server_class(name: str):
    # Settings already refused any other name (config.py says which servers there are and why).
    if name == "granian":
        from .granian_server import GranianServer
        return GranianServer
    from .server import Server
    return Server


def _trigger(args) -> int:
    from .control.client import Client, ControlAPIError

    client = Client(args.url, token=args.control_token)
    try:
        if args.event == "list":
            print(json.dumps(client.triggers(), indent=2))
            return 0
        params = {}
        for item in args.set:
            name, sep, raw = item.partition("=")
            if not sep or not name:
                print(f"paymock trigger: --set wants NAME=VALUE, got {item!r}", file=sys.stderr)
                return 2
            try:
                params[name] = json.loads(raw)
            except ValueError:
                params[name] = raw
        made = client.trigger(args.event, args.provider, args.namespace, **params)
    except (ControlAPIError, OSError) as exc:
        print(f"paymock trigger: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(made, indent=2))
    return 0


def _fixtures_generate(args) -> int:
    try:
        catalog = fixtures.generate(args.seed)
        fixtures.write(catalog, args.out)
    except (OSError, ValueError) as exc:  # CatalogPathError, a missing key pair, a read-only folder
        print(f"paymock fixtures generate: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.out} (seed {args.seed}): {_contents(catalog)}")
    # `serve` reads the packaged catalog unless told otherwise: say how to serve this one.
    print(f"serve it with: paymock serve --fixtures {args.out}")
    return 0


def _contents(catalog: dict) -> str:
    """What each provider's section holds, e.g. `acme: 15 products, 3 customers; ...`."""
    sections = []
    for name, section in catalog.items():
        if isinstance(section, dict):  # a provider's; "seed" and "note" are not
            counts = ", ".join(f"{len(objects)} {kind}" for kind, objects in section.items()
                               if isinstance(objects, list))
            sections.append(f"{name}: {counts or 'no objects'}")
    return "; ".join(sections)


def build_parser(prog: str = "paymock") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    parser.add_argument("--version", action="version", version=f"paymock {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the mock server")
    serve.add_argument("--host", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8787; 0 picks a free one)")
    serve.add_argument("--public-url", help="base URL for hosted pages (default http://HOST:PORT)")
    serve.add_argument("--fixtures", type=Path, help="catalog JSON (default: the catalog paymock ships)")
    serve.add_argument("--server", choices=("granian", "waitress"),
                       help="granian (default): Rust HTTP, one event-loop thread for the app, "
                       "the fastest; waitress: pure Python, a pool of threads")
    serve.add_argument("--threads", type=int, help="waitress' thread pool (default 16); granian "
                       "runs the app on one event-loop thread")
    serve.add_argument("--config", help="TOML file with a [paymock] table")
    serve.add_argument("--scenario", action="append", metavar="PATH",
                       help="load fault rules from a scenario file or preset name (repeatable)")
    serve.add_argument("--webhook-url", metavar="URL",
                       help="deliver every namespace's webhooks to this URL (or PAYMOCK_WEBHOOK_URL)")
    serve.add_argument("--strict", action="store_true", help="answer exactly like the real APIs, "
                       "without test conveniences")
    serve.add_argument("--no-fault-header", action="store_true",
                       help="ignore the X-Paymock-Fault request header (fault rules still apply)")
    serve.add_argument("--state-file", type=Path, metavar="PATH",
                       help="restore state from PATH at start; save it there on shutdown and "
                       "every --state-interval seconds")
    serve.add_argument("--state-interval", type=float, metavar="SECONDS",
                       help="seconds between state saves (default 30; 0: only on shutdown)")
    serve.add_argument("--control-token", metavar="TOKEN",
                       help="require TOKEN for /_mock/* (Authorization: Bearer TOKEN or "
                       "X-Paymock-Control-Token); needed to bind a non-loopback address; "
                       "`generate`: a random one, printed at start")
    serve.add_argument("--max-body-bytes", type=int, metavar="N",
                       help="refuse larger request bodies with 413 (default 1 MiB)")
    serve.add_argument("--max-header-bytes", type=int, metavar="N",
                       help="refuse larger request heads with 431 (default 64 KiB)")
    serve.add_argument("--read-timeout-seconds", type=float, metavar="SECONDS",
                       help="time a client has to send its request head, and then its body "
                       "(default 30)")
    serve.add_argument("--log-level", choices=server_logs.LEVELS,
                       help="info (default): a line per request, webhook attempts, fault "
                       "firings, clock moves; warning: failures only")
    serve.add_argument("--log-format", choices=server_logs.FORMATS,
                       help="text (default) or json: one object per line, on stderr")
    serve.set_defaults(func=_serve)

    trig = sub.add_parser("trigger", help="make an event happen on a running server, with "
                          "consistent state (like `stripe trigger`)")
    trig.add_argument("event", help="event type, e.g. dispute.opened; `paymock trigger list` "
                      "lists what each provider can trigger")
    trig.add_argument("--provider", help="whose event (default: the one provider that has it)")
    trig.add_argument("--namespace", help="where (\"<provider>:<hash>\"; default: the namespace "
                      "of an object a --set names)")
    trig.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                      help="a trigger parameter, e.g. --set payment_id=pay_... (repeatable; "
                      "VALUE is JSON when it parses as JSON)")
    trig.add_argument("--url", default=os.environ.get("PAYMOCK_URL", "http://127.0.0.1:8787"),
                      help="the server (default $PAYMOCK_URL or http://127.0.0.1:8787)")
    trig.add_argument("--control-token", default=os.environ.get("PAYMOCK_CONTROL_TOKEN"),
                      help="the server's control token (default $PAYMOCK_CONTROL_TOKEN)")
    trig.set_defaults(func=_trigger)
    control_commands.add_commands(sub)

    fix = sub.add_parser("fixtures", help="generate the seeded catalog")
    fix_sub = fix.add_subparsers(dest="fixtures_command", required=True)
    gen = fix_sub.add_parser("generate", help="write a catalog generated with faker")
    gen.add_argument("--seed", type=int, default=fixtures.DEFAULT_SEED)
    gen.add_argument("--out", type=Path, default=Path("fixtures/catalog.json"),
                     help="where to write it (default fixtures/catalog.json under the current "
                     "folder; never inside the installed package)")
    gen.set_defaults(func=_fixtures_generate)

    from .contract_kit.cli import register as register_contract
    register_contract(sub)
    return parser


def main(argv: list[str] | None = None, prog: str = "paymock") -> int:
    args = build_parser(prog).parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
