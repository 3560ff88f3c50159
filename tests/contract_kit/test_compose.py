"""docker-compose.yml and the Dockerfile, checked without a Docker engine: structure, every file
they reference exists, and every command they run parses with the real argument parser."""
from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml

from mock_server.cli import build_parser
from mock_server.contract_kit import webhook_receiver

REPO_ROOT = Path(__file__).resolve().parents[2]  # the checkout: the source files themselves

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()
SERVICES = COMPOSE["services"]


def _commands(command) -> list[list[str]]:
    """argv lists a service runs (`sh -c "a && b"` is split into its commands)."""
    argv = command if isinstance(command, list) else shlex.split(command)
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def _check_command(argv: list[str]) -> None:
    if argv[0] == "paymock":
        build_parser().parse_args(argv[1:])  # SystemExit (exit 2) on anything it does not know
    elif argv[:3] == ["python", "-m", "mock_server.contract_kit.webhook_receiver"]:
        webhook_receiver.build_parser().parse_args(argv[3:])
    else:
        pytest.fail(f"unknown command {argv}")


def test_services_and_their_wiring():
    assert set(SERVICES) == {"paymock", "contract-tests", "webhook-receiver"}
    paymock = SERVICES["paymock"]
    assert paymock["build"]["context"] == "." and paymock["build"]["dockerfile"] == "Dockerfile"
    assert paymock["build"]["target"] == "runtime"
    assert paymock["ports"] == ["127.0.0.1:8787:8787"]  # this machine only
    # The health check asks GET / (no token needed) on the port PAYMOCK_PORT says.
    script = paymock["healthcheck"]["test"][3]
    assert "PAYMOCK_PORT" in script and "/_mock" not in script
    assert paymock["environment"]["PAYMOCK_PORT"] == "8787"
    assert paymock["environment"]["PAYMOCK_CONTROL_TOKEN"]
    # One image, built once: the receiver runs the server's image and builds nothing.
    receiver = SERVICES["webhook-receiver"]
    assert "build" not in receiver and receiver["image"] == paymock["image"]
    assert receiver["pull_policy"] == "never"
    # It verifies Waffo deliveries too, with the mounted TEST-ONLY public key.
    key = receiver["environment"]["WAFFO_WEBHOOK_PUBLIC_KEY_FILE"]
    assert any(volume.split(":")[1] == key for volume in receiver["volumes"])
    assert receiver["environment"]["DODO_PAYMENTS_WEBHOOK_KEY"]
    tests = SERVICES["contract-tests"]
    assert tests["build"]["target"] == "contract" and tests["image"] != paymock["image"]
    assert tests["depends_on"]["paymock"]["condition"] == "service_healthy"
    # The runner gets the control token the server was given.
    assert tests["environment"]["PAYMOCK_CONTROL_TOKEN"] == paymock["environment"]["PAYMOCK_CONTROL_TOKEN"]
    runs = [argv for argv in _commands(tests["command"]) if argv[:2] == ["paymock", "contract"]]
    assert [(argv[2], argv[argv.index("--target") + 1]) for argv in runs] == [
        ("dodo", "http://paymock:8787/dodo"), ("waffo", "http://paymock:8787/waffo")]
    # The key the runner falls back to (TEST-ONLY fixture) is the one the server accepts.
    from mock_server.providers.dodo.contract_support import FIXTURE_DODO_API_KEY
    assert paymock["environment"]["PAYMOCK_DODO_API_KEYS"] == FIXTURE_DODO_API_KEY


def test_every_command_is_real():
    for name, service in SERVICES.items():
        for argv in _commands(service["command"]):
            _check_command(argv)
    health = SERVICES["paymock"]["healthcheck"]["test"]
    assert health[0] == "CMD" and health[1] == "python"
    compile(health[3], "healthcheck", "exec")  # the inline script is valid Python


def test_every_referenced_file_exists():
    for service in SERVICES.values():
        if "build" in service:
            context = REPO_ROOT / service["build"]["context"]
            assert (context / service["build"]["dockerfile"]).is_file()
        for volume in service.get("volumes", []):
            host = volume.split(":")[0]
            assert (REPO_ROOT / host).exists(), volume
    fixtures = SERVICES["paymock"]["command"][SERVICES["paymock"]["command"].index("--fixtures") + 1]
    mounted = {v.split(":")[1]: v.split(":")[0] for v in SERVICES["paymock"]["volumes"]}
    assert fixtures in mounted  # the catalog the server reads is the mounted file


def test_dockerfile():
    lines = [line.strip() for line in DOCKERFILE.splitlines() if line.strip() and not line.startswith("#")]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert stages == ["FROM python:3.11-slim AS wheel", "FROM python:3.11-slim AS base",
                      "FROM base AS contract", "FROM base AS runtime"]  # runtime: the default
    users = [line for line in lines if line.startswith("USER ")]
    assert users and all(user.split()[1] not in ("root", "0") for user in users)
    assert "EXPOSE 8787" in lines
    health = next(line for line in lines if line.startswith("HEALTHCHECK"))
    assert "PAYMOCK_PORT" in DOCKERFILE[DOCKERFILE.index(health):]
    copies = [line.split()[1:-1] for line in lines
              if line.startswith("COPY ") and not line.startswith("COPY --from=")]
    for sources in copies:
        for source in sources:
            assert (REPO_ROOT / source).exists(), source
    cmd = [line for line in lines if line.startswith("CMD [")][-1]
    import json
    argv = json.loads(cmd[4:])
    assert argv[:2] == ["paymock", "serve"]
    _check_command(argv)
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert ".git" in ignored and "**/node_modules" in ignored


def test_the_image_runs_the_wheel_not_the_source_tree():
    # The first stage builds the wheel from the sources the build copies data from; the images
    # install that wheel (tests/packaging proves a wheel serves everything) and nothing else:
    # the runtime image without test tools, the contract kit's with its extra.
    build, rest = DOCKERFILE.split("\nFROM python:3.11-slim AS base\n")
    for folder in ("contracts", "fixtures", "mock_server", "paymock"):
        assert f"COPY {folder} ./{folder}" in build
    assert "RUN pip wheel --no-deps --wheel-dir /dist ." in build
    contract, runtime = rest.split("\nFROM base AS runtime\n")
    assert "COPY --from=wheel /dist /dist" in contract and "COPY --from=wheel /dist /dist" in runtime
    assert 'RUN pip install "$(echo /dist/paymock-*.whl)[contract]"' in contract
    assert 'RUN pip install "$(echo /dist/paymock-*.whl)" && rm -rf /dist' in runtime
