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
    assert "8787:8787" in paymock["ports"]
    assert any("/_mock/health" in part for part in paymock["healthcheck"]["test"])
    assert paymock["environment"]["PAYMOCK_CONTROL_TOKEN"]
    tests = SERVICES["contract-tests"]
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
    assert stages == ["FROM python:3.11-slim AS wheel", "FROM python:3.11-slim"]
    user = next(line for line in lines if line.startswith("USER "))
    assert user.split()[1] not in ("root", "0")
    assert "EXPOSE 8787" in lines
    health = next(line for line in lines if line.startswith("HEALTHCHECK"))
    assert "/_mock/health" in DOCKERFILE[DOCKERFILE.index(health):]
    copies = [line.split()[1:-1] for line in lines
              if line.startswith("COPY ") and not line.startswith("COPY --from=")]
    for sources in copies:
        for source in sources:
            assert (REPO_ROOT / source).exists(), source
    cmd = [line for line in lines if line.startswith("CMD [")][-1]
    import json
    argv = json.loads(cmd[4:])
    assert argv[:2] == ["paymock", "serve"] and argv[argv.index("--host") + 1] == "0.0.0.0"
    _check_command(argv)
    ignored = (REPO_ROOT / ".dockerignore").read_text().split()
    assert ".git" in ignored and "**/node_modules" in ignored


def test_the_image_runs_the_wheel_not_the_source_tree():
    # The first stage builds the wheel from the sources the build copies data from; the image
    # installs that wheel (tests/packaging proves a wheel serves everything) and nothing else.
    build, image = DOCKERFILE.split("\nFROM python:3.11-slim\n")
    for folder in ("contracts", "fixtures", "mock_server", "paymock"):
        assert f"COPY {folder} ./{folder}" in build
    assert "RUN pip wheel --no-deps --wheel-dir /dist ." in build
    assert "COPY --from=wheel /dist /dist" in image
    assert 'RUN pip install "$(echo /dist/paymock-*.whl)[contract]"' in image
    assert "PYTHONPATH" not in DOCKERFILE and "COPY mock_server" not in image
