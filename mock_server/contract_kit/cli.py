"""`paymock contract <provider> [options]` and `paymock contract diff <provider> --vendor-spec PATH`.

mock_server/cli.py calls `register(subparsers)`; everything else about the command lives here. The
providers, and each one's credential flags, come from the provider registry (contract_kit/
registry.py): a registered provider with a ContractSupport is a subcommand.
Exit codes: 0 nothing failed; 1 a check failed, the run hit errors, an operation was not tested
and --require-all was given, or (diff) unintended drift; 2 bad options (an unknown operation id,
phase or check) or missing credentials (nothing was run). Without --require-all an operation that
got no case is reported as not tested, with a warning, and the exit status stays 0: strictness is
asked for, as --fail-fast is.
"""
from __future__ import annotations

import argparse
import os
import sys

from . import registry


def _phases(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def _add_run_options(parser: argparse.ArgumentParser, provider) -> None:
    support = provider.contract_support
    real_api = f", or the real API: {support.default_base_url}" if support.default_base_url else \
        ", or the real API"
    parser.add_argument("--target", metavar="URL",
                        help="base URL to test (a running paymock such as http://127.0.0.1:8787"
                        f"{provider.mount}{real_api}); default: a paymock the kit starts on a free port")
    parser.add_argument("--checks", type=_phases, metavar="NAME,...",
                        help="only these Schemathesis checks (default: all), e.g. "
                        "response_schema_conformance,status_code_conformance")
    parser.add_argument("--max-examples", type=int, default=20, metavar="N",
                        help="examples per operation in the fuzzing phase (default 20); the "
                        "stateful phase runs at least 30 scenarios")
    parser.add_argument("--report", action="append", metavar="PATH",
                        help="write the results (repeatable): PATH.xml is JUnit XML, PATH.json the "
                        "JSON report (per operation: id, method, path, cases, status, failures; "
                        "the totals), anything else the text summary")
    parser.add_argument("--allow-writes", action="store_true",
                        help="against a real API, also run operations that create or change data")
    parser.add_argument("--stateful", action=argparse.BooleanOptionalAction, default=True,
                        help="run the stateful phase, following the contract's links (default on)")
    parser.add_argument("--max-requests", type=int, metavar="N",
                        help="stop after N requests (default: 300 against a real API, unbounded on a mock)")
    parser.add_argument("--max-time", type=float, metavar="S",
                        help="stop after S seconds (default: 300 against a real API, unbounded on a mock)")
    parser.add_argument("--phases", type=_phases, metavar="NAME,...",
                        help="examples,coverage,fuzzing,stateful (default: all four; against a "
                        "real API all but coverage, whose boundary values would spend the budget)")
    parser.add_argument("--operation", action="append", metavar="OPERATION_ID",
                        help="only this operation (repeatable), e.g. create_session")
    parser.add_argument("--control-token", default=os.environ.get("PAYMOCK_CONTROL_TOKEN"), metavar="TOKEN",
                        help="paymock's control token, sent to /_mock (default PAYMOCK_CONTROL_TOKEN)")
    parser.add_argument("--remote", action="store_true",
                        help="treat the target as a real API even if it is paymock (safe mode)")
    parser.add_argument("--seed", type=int, help="Hypothesis seed, to repeat a run")
    stop = parser.add_mutually_exclusive_group()
    stop.add_argument("--fail-fast", action="store_true",
                      help="stop at the first failure; the operations not reached are reported as "
                      "not tested")
    stop.add_argument("--max-failures", type=int, metavar="N",
                      help="stop after N distinct failures")
    parser.add_argument("--require-all", action="store_true",
                        help="exit 1 when an operation got no case (not tested); without it that is "
                        "a warning and the exit status stays 0")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                        help="progress on stderr while the run works: a live display on a terminal, "
                        "one line per finished operation otherwise (default on)")
    options = tuple(support.cli_options())
    for option in options:
        parser.add_argument(option.flag, dest=option.dest, metavar=option.metavar, help=option.help)
    parser.set_defaults(func=_run, provider=provider.name,
                        credential_dests=tuple(option.dest for option in options))


def _run(args) -> int:
    try:
        from .runner import RunOptions, UsageError, run
    except ModuleNotFoundError as exc:  # Schemathesis comes with the contract extra only
        if exc.name != "schemathesis":
            raise
        print("paymock contract: needs Schemathesis, which comes with the contract extra: "
              "pip install 'paymock[contract]'", file=sys.stderr)
        return 2

    options = RunOptions(
        provider=args.provider, target=args.target, checks=args.checks, max_examples=args.max_examples,
        report=args.report, allow_writes=args.allow_writes, stateful=args.stateful,
        max_requests=args.max_requests, max_time=args.max_time, phases=args.phases,
        operations=args.operation, control_token=args.control_token, remote=args.remote,
        credentials={dest: getattr(args, dest) for dest in args.credential_dests}, seed=args.seed,
        fail_fast=args.fail_fast, max_failures=args.max_failures, require_all=args.require_all,
        progress=args.progress)
    try:
        report = run(options, out=lambda text: print(text, flush=True))
    except UsageError as exc:
        print(f"paymock contract: {exc}", file=sys.stderr)
        return 2
    return report.exit_code


def _diff(args) -> int:
    from .diff import DiffError, run_diff

    try:
        return run_diff(args.provider, args.vendor_spec, overlay=args.overlay, report=args.report,
                        out=lambda text: print(text, flush=True))
    except DiffError as exc:
        print(f"paymock contract diff: {exc}", file=sys.stderr)
        return 2


def register(subparsers) -> argparse.ArgumentParser:
    """Add `contract` to paymock's subcommands."""
    providers = registry.supported()
    contract = subparsers.add_parser(
        "contract", help="run a provider's contract against the mock or the real API, or check drift",
        description="Run contracts/<provider>/openapi.json with Schemathesis against a target, or "
        "compare a contract derived from a vendor's spec with that spec. Exit 0 only when nothing "
        "failed.")
    sub = contract.add_subparsers(dest="contract_command", required=True,
                                  metavar="{" + ",".join([*providers, "diff"]) + "}")
    for name, provider in providers.items():
        env = ", ".join(provider.contract_support.env_vars())
        _add_run_options(sub.add_parser(
            name, help=f"run the {name} contract",
            description=f"Run the {name} contract." + (f" Credentials from the flags below or "
                                                       f"the environment: {env}." if env else "")),
            provider)
    diff = sub.add_parser("diff", help="compare our contract with a vendor OpenAPI document")
    diff.add_argument("provider", choices=list(registry.derived()))
    diff.add_argument("--vendor-spec", required=True, metavar="PATH", help="the vendor's OpenAPI JSON")
    diff.add_argument("--overlay", metavar="PATH",
                      help="the derivation script whose overlay is intended (default "
                      "the one paymock ships)")
    diff.add_argument("--report", metavar="PATH", help="also write the differences (.json or text)")
    diff.set_defaults(func=_diff)
    return contract
