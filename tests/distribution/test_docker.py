"""The Docker image as documented, without a Docker engine (none here): the image's entry
command, with the image's environment, run in a subprocess: it binds beyond loopback with a
control token it generates and prints (or the one given), and the image's health check passes
against it on the port PAYMOCK_PORT says."""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import requests

from tests.processes import free_port

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = (REPO / "Dockerfile").read_text()


def _stage(name: str) -> str:
    """The lines of one stage (`FROM ... AS name` up to the next FROM)."""
    return re.split(r"\nFROM ", DOCKERFILE.split(f" AS {name}\n", 1)[1])[0]


def _instruction(stage: str, word: str) -> str:
    """An instruction's text, continuation lines joined."""
    text = stage.replace("\\\n", " ")
    return next(line for line in text.splitlines() if line.startswith(word + " "))[len(word) + 1:]


def image_env() -> dict[str, str]:
    return dict(shlex.split(pair)[0].split("=", 1)
                for pair in re.findall(r"\S+=\S+", _instruction(_stage("base"), "ENV")))


def entry_command() -> list[str]:
    return json.loads(_instruction(_stage("base"), "CMD"))


def health_check() -> list[str]:
    check = _instruction(_stage("base"), "HEALTHCHECK")
    return shlex.split(check.split(" CMD ", 1)[1])


def run_entry(extra_env: dict) -> tuple[subprocess.Popen, int, list[str]]:
    port = free_port()
    env = {**os.environ, **image_env(), "PAYMOCK_PORT": str(port), **extra_env}
    argv = entry_command()
    assert argv[0] == "paymock"
    proc = subprocess.Popen([sys.executable, "-m", "paymock", *argv[1:]], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = []
    while not lines or not lines[-1].startswith("Ctrl-C"):
        line = proc.stdout.readline()
        assert line, f"the server stopped: {''.join(lines)}"
        lines.append(line)
    return proc, port, lines


def test_the_images_entry_command_generates_and_prints_a_token():
    env = image_env()
    assert (env["PAYMOCK_HOST"], env["PAYMOCK_CONTROL_TOKEN"]) == ("0.0.0.0", "generate")
    proc, port, lines = run_entry({})
    try:
        text = "".join(lines)
        assert "listening on 0.0.0.0" in text
        token = text.split("control token (generated): ")[1].split()[0]
        health = f"http://127.0.0.1:{port}/_mock/health"
        assert requests.get(health, timeout=5).status_code == 401
        assert requests.get(health, headers={"Authorization": f"Bearer {token}"},
                            timeout=5).status_code == 200
        # The image's health check, as Docker runs it, on the port PAYMOCK_PORT says.
        check = health_check()
        assert check[0] == "python"
        ran = subprocess.run([sys.executable, *check[1:]], timeout=30,
                             env={**os.environ, "PAYMOCK_PORT": str(port)})
        assert ran.returncode == 0
        elsewhere = subprocess.run([sys.executable, *check[1:]], timeout=30,
                                   env={**os.environ, "PAYMOCK_PORT": str(free_port())},
                                   capture_output=True)
        assert elsewhere.returncode != 0  # the check follows the port, it is not fixed
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_given_token_is_used_and_not_printed():
    proc, port, lines = run_entry({"PAYMOCK_CONTROL_TOKEN": "given-TEST-ONLY-token"})
    try:
        text = "".join(lines)
        assert "generated" not in text and "given-TEST-ONLY-token" not in text
        assert requests.get(f"http://127.0.0.1:{port}/_mock/health", timeout=5, headers={
            "Authorization": "Bearer given-TEST-ONLY-token"}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_runtime_image_holds_no_test_tools():
    runtime, contract = _stage("runtime"), _stage("contract")
    install = _instruction(runtime, "RUN")
    assert "paymock-*.whl" in install and "[contract]" not in install
    assert "[contract]" in _instruction(contract, "RUN")
    # `docker build .` builds the last stage: the runtime one.
    assert DOCKERFILE.rstrip().split("\nFROM ")[-1].startswith("base AS runtime")
    assert _instruction(runtime, "USER") not in ("root", "0")
