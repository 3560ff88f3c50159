"""`paymock serve` as a real process, for tests that need the CLI itself (signals, flags, restarts)."""
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve(*args, env=None, port: int | None = None, wait: bool = True):
    """`paymock serve` as a real process; returns (process, port)."""
    port = port or free_port()
    # Warnings only unless a test asks: its output is read once, at the end, and a line per
    # request would fill the pipe (64 KiB) and stall the server (tests/test_server_logs.py
    # reads the access lines as they come).
    quiet = [] if "--log-level" in map(str, args) else ["--log-level", "warning"]
    proc = subprocess.Popen([sys.executable, "-m", "mock_server.cli", "serve", "--port", str(port),
                             *quiet, *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    if not wait:
        return proc, port
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/_mock/health", timeout=0.5)
            return proc, port
        except requests.ConnectionError:
            if proc.poll() is not None:
                pytest.fail(f"server exited early ({proc.returncode}): {proc.stdout.read()}")
            time.sleep(0.05)
    proc.kill()
    pytest.fail("server did not answer within 20 s")


def stop(proc, sig=None) -> str:
    proc.send_signal(sig or signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    return out
