"""Helpers for benchmarks/run.py: server processes, request files for wrk, wrk runs, RSS, tables.

Kept free of third-party imports beyond what paymock itself needs, so `python benchmarks/run.py`
works in any environment paymock is installed in (plus wrk and, for the peer, Node).
"""
from __future__ import annotations

import compileall
import http.client
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
REPLAY_LUA = BENCH_DIR / "replay.lua"
FILL_LUA = BENCH_DIR / "fill.lua"
MIX_LUA = BENCH_DIR / "mix.lua"
SINK_PY = BENCH_DIR / "sink.py"
PRISM_BIN = BENCH_DIR / "node_modules" / ".bin" / "prism"
STEADY_JS = BENCH_DIR / "node_modules" / ".bin" / "steady"

DODO_KEY = "sk_test_paymock_benchmark"
DODO_PRODUCT = "pdt_uGej5ygB4DvTZFDmnvmUM"  # ebook_guide, one-time, 25.99 USD
DODO_CREATE_BODY = {
    "product_cart": [{"product_id": DODO_PRODUCT, "quantity": 1}],
    "customer": {"email": "ada@example.com", "name": "Ada Lovelace"},
    "billing_address": {"country": "US", "state": "CA", "city": "San Francisco",
                        "street": "1 Market St", "zipcode": "94105"},
    "return_url": "https://shop.example.com/thanks",
    "metadata": {"order": "bench-1"},
}


# -- requests ----------------------------------------------------------------------------------
@dataclass
class Request:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes = b""

    def line(self) -> str:
        body = self.body.decode()
        for text in (self.path, body, *self.headers, *self.headers.values()):
            if "\t" in text or "\n" in text or "\r" in text:
                raise ValueError(f"a request field holds a tab or newline: {text[:60]!r}")
        headers = [f"{name}: {value}" for name, value in self.headers.items()]
        return "\t".join([self.method, self.path, body, *headers])


def write_requests(path: Path, requests: list[Request]) -> Path:
    """The file replay.lua reads: one request per line, fields separated by tabs."""
    if not requests:
        raise ValueError("no requests to write")
    path.write_text("".join(r.line() + "\n" for r in requests))
    return path


def read_requests(path: Path) -> list[Request]:
    """The inverse of write_requests (used by the smoke test to replay a file without wrk)."""
    out = []
    for line in path.read_text().splitlines():
        if not line:
            continue
        method, req_path, body, *headers = line.split("\t")
        out.append(Request(method, req_path, dict(h.split(": ", 1) for h in headers), body.encode()))
    return out


def compact(body) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def dodo_create(prefix: str, count: int = 16) -> list[Request]:
    headers = {"Authorization": f"Bearer {DODO_KEY}", "Content-Type": "application/json"}
    return [Request("POST", f"{prefix}/checkouts", headers,
                    compact({**DODO_CREATE_BODY, "metadata": {"order": f"bench-{i}"}}))
            for i in range(count)]


def dodo_get(prefix: str, session_ids: list[str]) -> list[Request]:
    headers = {"Authorization": f"Bearer {DODO_KEY}"}
    return [Request("GET", f"{prefix}/checkouts/{sid}", headers) for sid in session_ids]


# -- Waffo: requests signed as @waffo/pancake-ts signs them (fixtures/waffo/keys are TEST-ONLY) --
WAFFO_SESSION = "/v1/actions/checkout/create-session"
WAFFO_TOKEN = "/v1/actions/auth/issue-session-token"
WAFFO_ORDER = "/v1/actions/onetime-order/create-order"
WAFFO_BILLING = {"country": "US", "isBusiness": False, "state": "CA", "postcode": "94105"}


def waffo_catalog() -> dict:
    return json.loads((REPO / "fixtures" / "catalog.json").read_text())["waffo"]


def waffo_merchant(fixture: str = "acme", environment: str = "test") -> tuple[str, str]:
    """(merchant id, private key PEM) of a fixture merchant."""
    merchant = next(m for m in waffo_catalog()["merchants"] if m["fixture"] == fixture)
    key = next(k for k in merchant["keys"] if k["environment"] == environment)
    return merchant["merchantId"], (REPO / "fixtures" / key["privateKeyFile"]).read_text()


def waffo_signed(prefix: str, path: str, body: dict, fixture: str = "acme",
                 timestamp: int | None = None) -> Request:
    from mock_server.providers.waffo import auth

    merchant_id, key = waffo_merchant(fixture)
    raw = compact(body)
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return Request("POST", prefix + path, {
        "Content-Type": "application/json", "X-Merchant-Id": merchant_id, "X-Timestamp": stamp,
        "X-Signature": auth.sign(key, "POST", path, stamp, raw)}, raw)


def waffo_product(fixture: str = "ebook") -> dict:
    return next(p for p in waffo_catalog()["products"] if p["metadata"]["fixture"] == fixture)


def waffo_store(slug: str = "acme-digital") -> dict:
    return next(s for s in waffo_catalog()["stores"] if s["slug"] == slug)


def waffo_create_session(prefix: str, count: int = 16) -> list[Request]:
    """Pre-signed create-session requests, valid for the gateway's 300-second window."""
    product = waffo_product()["id"]
    return [waffo_signed(prefix, WAFFO_SESSION, {
        "productId": product, "currency": "USD", "buyerEmail": f"buyer{i}@example.com",
        "metadata": {"bench": str(i)}}) for i in range(count)]


def waffo_create_order(prefix: str, token: str, session_ids: list[str]) -> list[Request]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}",
               "X-Environment": "test"}
    return [Request("POST", prefix + WAFFO_ORDER, headers, compact({
        "checkoutSessionId": sid, "billingDetail": WAFFO_BILLING,
        "buyerEmail": "buyer@example.com"})) for sid in session_ids]


# -- HTTP without dependencies -----------------------------------------------------------------
def send(base: str, req: Request, timeout: float = 10.0) -> tuple[int, bytes]:
    host, port = base.split("//", 1)[1].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(req.method, req.path, body=req.body or None, headers=req.headers)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def send_json(base: str, req: Request):
    status, raw = send(base, req)
    if not 200 <= status < 300:
        raise RuntimeError(f"{req.method} {req.path}: HTTP {status}: {raw[:300]!r}")
    return json.loads(raw) if raw else None


def control(base: str, path: str, body: dict | None = None, method: str | None = None):
    raw = compact(body) if body is not None else b""
    return send_json(base, Request(method or ("POST" if body is not None else "GET"),
                                   "/_mock" + path, {"Content-Type": "application/json"}, raw))


# -- processes ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tree(pid: int) -> list[int]:
    """pid and all its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                pass
    return out


def _status_kb(pid: int, field_name: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> float:
    """Resident memory of the process tree, MB."""
    return sum(_status_kb(p, "VmRSS") for p in _tree(pid)) / 1024


def peak_rss_mb(pid: int) -> float:
    """High-water mark of resident memory (VmHWM) summed over the process tree, MB."""
    return sum(_status_kb(p, "VmHWM") for p in _tree(pid)) / 1024


class ServerProcess:
    """A server under test: started as a subprocess, timed to its first answered request."""

    def __init__(self, name: str, argv: list[str], port: int, probe: Request,
                 env: dict | None = None, cwd: Path = REPO):
        self.name, self.argv, self.port, self.probe = name, argv, port, probe
        self.env = {**os.environ, **(env or {})}
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.cold_start: float | None = None
        self.log = BENCH_DIR / "results" / f"{name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> ServerProcess:
        self.log.parent.mkdir(exist_ok=True)
        log = self.log.open("wb")
        started = time.perf_counter()
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        while time.perf_counter() - started < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: "
                                   f"{self.log.read_text()[-2000:]}")
            try:
                status, _ = send(self.url, self.probe, timeout=2)
                if 200 <= status < 300:
                    self.cold_start = time.perf_counter() - started
                    return self
            except OSError:
                pass
            time.sleep(0.002)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout} s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> float:
        return rss_mb(self.pid)

    def peak_rss(self) -> float:
        return peak_rss_mb(self.pid)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(timeout)


def compile_bytecode() -> None:
    """paymock's modules as a pip install leaves them: compiled. An editable install under
    PYTHONDONTWRITEBYTECODE (set on this machine and in CI) never writes .pyc files, so every
    start would compile every source again, a cost no installed user pays and cold start must
    not count. Python reads .pyc files whatever that variable says."""
    spec = importlib.util.find_spec("mock_server")
    for path in (spec.submodule_search_locations or []) if spec else []:
        compileall.compile_dir(path, quiet=1)


def paymock_server(port: int, extra: list[str] | None = None) -> ServerProcess:
    compile_bytecode()
    exe = shutil.which("paymock")
    argv = [exe] if exe else [sys.executable, "-m", "mock_server.cli"]
    probe = dodo_create("/dodo", 1)[0]
    return ServerProcess("paymock", [*argv, "serve", "--port", str(port), *(extra or [])], port,
                         probe)


STARTUP_LINE = re.compile(r"listening on \S+ \((?P<server>[^)]*)\)")


def server_label(log_text: str) -> str | None:
    """The parenthesised part of paymock's startup line: "paymock 0.1.0 listening on
    http://127.0.0.1:8787 (waitress, 16 threads)" -> "waitress, 16 threads"."""
    match = STARTUP_LINE.search(log_text)
    return match.group("server").strip() if match else None


def paymock_label(server: ServerProcess, timeout: float = 3.0) -> str | None:
    """What paymock says it runs on, from its startup line in its log (None if it never said)."""
    deadline = time.perf_counter() + timeout
    while True:
        try:
            label = server_label(server.log.read_text(errors="replace"))
        except OSError:
            label = None
        if label is not None or time.perf_counter() > deadline:
            return label
        time.sleep(0.05)


def prism_server(port: int, provider: str = "dodo") -> ServerProcess:
    if not PRISM_BIN.exists():
        raise RuntimeError(f"{PRISM_BIN} is missing: run `npm ci` in {BENCH_DIR}")
    probe = dodo_create("", 1)[0] if provider == "dodo" else waffo_create_session("", 1)[0]
    # warn: Prism logs every request at info level, which would slow it for nothing.
    return ServerProcess(f"prism-{provider}", [
        str(PRISM_BIN), "mock", str(REPO / "contracts" / provider / "openapi.json"),
        "--host", "127.0.0.1", "--port", str(port), "--verboseLevel", "warn"], port, probe)


def steady_bin() -> Path:
    """Steady's native binary. `node_modules/.bin/steady` is a Node script that only finds the
    binary of this platform's optional package (@stdy/cli-<os>-<arch>) and spawns it; starting
    the binary itself leaves a 40 MB Node process out of Steady's RSS and cold start."""
    import platform as _platform

    machine = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        _platform.machine().lower(), _platform.machine().lower())
    package = BENCH_DIR / "node_modules" / "@stdy" / f"cli-{sys.platform}-{machine}"
    native = package / "bin" / "steady"
    if native.exists():
        return native
    if STEADY_JS.exists():
        return STEADY_JS
    raise RuntimeError(f"Steady is missing: run `npm ci` in {BENCH_DIR}")


def steady_server(port: int, provider: str = "dodo") -> ServerProcess:
    """Steady (@stdy/cli) serving one provider's contract, as `steady SPEC` runs it, plus `-q`.

    -q: Steady prints a line per request by default (`--log-level summary`); like Prism's `warn`,
    logging is turned off so the terminal does not slow it. Request validation stays as shipped
    (`--reject-on-sdk-error`, on by default in 0.22: an invalid request gets 400), so every
    prepared request must be one the contract accepts."""
    probe = dodo_create("", 1)[0] if provider == "dodo" else waffo_create_session("", 1)[0]
    return ServerProcess(f"steady-{provider}", [
        str(steady_bin()), "-q", "--host", "127.0.0.1", "--port", str(port),
        str(REPO / "contracts" / provider / "openapi.json")], port, probe)


# -- wrk ---------------------------------------------------------------------------------------
@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int          # non-2xx/3xx answers + socket errors
    status_errors: int
    socket_errors: int

    @classmethod
    def parse(cls, output: str) -> WrkResult:
        match = re.search(r"^WRK_JSON (\{.*\})$", output, re.M)
        if match is None:
            raise RuntimeError(f"wrk printed no WRK_JSON line:\n{output[-2000:]}")
        raw = json.loads(match.group(1))
        seconds = raw["duration_us"] / 1e6
        sockets = sum(raw[k] for k in ("connect_errors", "read_errors", "write_errors",
                                       "timeout_errors"))
        return cls(requests=raw["requests"], seconds=seconds,
                   rps=raw["requests"] / seconds if seconds else 0.0,
                   p50_ms=raw["p50_us"] / 1000, p99_ms=raw["p99_us"] / 1000,
                   errors=raw["status_errors"] + sockets, status_errors=raw["status_errors"],
                   socket_errors=sockets)


def wrk_path() -> str:
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed (Debian: apt-get install -y wrk)")
    return exe


def run_wrk(url: str, requests_file: Path, seconds: float, connections: int = 32,
            threads: int = 2, timeout_s: int = 10, script: Path = REPLAY_LUA,
            script_args: list[str] | None = None, raw: bool = False):
    """wrk with a script (replay.lua by default); the parsed summary, or with raw=True the whole
    WRK_JSON dict as well: (WrkResult, dict)."""
    argv = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{max(1, int(round(seconds)))}s",
            f"--timeout={timeout_s}s", "-s", str(script), url, "--", str(requests_file),
            *(script_args or [])]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}")
    result = WrkResult.parse(done.stdout)
    if raw:
        return result, json.loads(re.search(r"^WRK_JSON (\{.*\})$", done.stdout, re.M).group(1))
    return result


def dodo_namespace(key: str = DODO_KEY) -> str:
    """The control API's namespace of a Dodo API key (`dodo:<hash>`)."""
    from mock_server.control.client import Client

    return Client.namespace_for("dodo", key)


def run_mix(url: str, requests_file: Path, seconds: float, connections: int = 32,
            threads: int = 2, prefix: str = "/dodo", key: str = DODO_KEY,
            chains_per_thread: int = 0) -> tuple[WrkResult, dict]:
    """mix.lua: chains of create -> GET -> pay (control API) -> GET; (summary, step counts)."""
    result, raw = run_wrk(url, requests_file, seconds, connections, threads, script=MIX_LUA,
                          script_args=[prefix, key, dodo_namespace(key),
                                       str(chains_per_thread)], raw=True)
    steps = {k: raw[k] for k in ("created", "fetched", "paid", "completed", "broken")}
    return result, steps


def sink_server(port: int, secret: str = "") -> ServerProcess:
    """The webhook receiver (sink.py, a WSGI app on waitress) in its own process."""
    return ServerProcess("sink", [sys.executable, str(SINK_PY), str(port), secret], port,
                         Request("GET", "/stats"))


# -- fairness: stalled clients and a probe -------------------------------------------------------
class StalledClients:
    """`count` connections that stall mid-request and never close until close() is called: half
    send part of a request head and stop, half send a whole head with `Content-Length: 1000` and
    100 bytes of body, then stop. Opened from a thread (start() returns at once; wait() until they
    are all open). close() reports how many the server had ended by then (closed, or answered)."""

    def __init__(self, host: str, port: int, count: int = 200, path: str = "/dodo/checkouts"):
        self.host, self.port, self.count, self.path = host, port, count, path
        self.sockets: list[socket.socket] = []
        self.failed = 0
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._closing = threading.Event()

    def heads(self) -> tuple[bytes, bytes]:
        head = (f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {DODO_KEY}\r\nContent-Type: application/json\r\n")
        partial = head[: len(head) - 20].encode()  # cut inside a header line
        body = compact(DODO_CREATE_BODY).ljust(1000)
        whole = (head + "Content-Length: 1000\r\n\r\n").encode() + body[:100]
        return partial, whole

    def _open(self) -> None:
        partial, whole = self.heads()
        for i in range(self.count):
            if self._closing.is_set():
                break
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2)
                sock.sendall(partial if i % 2 == 0 else whole)
                self.sockets.append(sock)
            except OSError:
                self.failed += 1
        self._done.set()

    def start(self) -> StalledClients:
        self._thread = threading.Thread(target=self._open, name="stalled-clients", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float = 30.0) -> int:
        """Block until every connection was tried; how many are open."""
        self._done.wait(timeout)
        return len(self.sockets)

    def closed_by_server(self) -> int:
        closed = 0
        for sock in self.sockets:
            try:
                sock.setblocking(False)
                sock.recv(65536, socket.MSG_PEEK)  # b"": closed; bytes: it answered (408...)
                closed += 1
            except BlockingIOError:  # nothing to read: still waiting for the rest
                pass
            except OSError:
                closed += 1
        return closed

    def close(self) -> dict:
        self._closing.set()
        if self._thread is not None:
            self._thread.join(30)
        closed = self.closed_by_server()
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass
        out = {"stalled": len(self.sockets), "stalled_failed": self.failed,
               "stalled_ended_by_server": closed}
        self.sockets = []
        return out


class Probe:
    """Times one request every `interval` seconds from a thread, on a fresh connection each time
    (a client that was not already connected); max and count of the timings, and failures (an
    exception or a non-2xx answer; its time counts too)."""

    def __init__(self, url: str, req: Request, interval: float = 0.1, timeout: float = 10.0):
        self.url, self.req, self.interval, self.timeout = url, req, interval, timeout
        self.times: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                status, _ = send(self.url, self.req, timeout=self.timeout)
                ok = 200 <= status < 300
            except OSError:
                ok = False
            elapsed = time.perf_counter() - started
            self.times.append(elapsed)
            self.failures += not ok
            self._stop.wait(max(0.0, self.interval - elapsed))

    def start(self) -> Probe:
        self._thread = threading.Thread(target=self._run, name="probe", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.timeout + 5)
        times = sorted(self.times)
        return {"probe_samples": len(times), "probe_failures": self.failures,
                "probe_max_ms": times[-1] * 1000 if times else None,
                "probe_p50_ms": times[(len(times) - 1) // 2] * 1000 if times else None}


def fill(url: str, requests_file: Path, target: int, count, connections: int = 32,
         threads: int = 2, timeout_s: float = 900) -> float:
    """Send requests until `count()` (polled) reaches `target`; returns the seconds it took.

    fill.lua stops each wrk thread after its share of responses, but wrk itself only ends after
    its -d duration, so it is interrupted (SIGINT makes it print its summary and exit) once the
    server holds enough objects."""
    per_thread = -(-target // threads)
    argv = [wrk_path(), f"-t{threads}", f"-c{connections}", f"-d{int(timeout_s)}s", "-s",
            str(FILL_LUA), url, "--", str(requests_file), str(per_thread)]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while proc.poll() is None and time.perf_counter() - started < timeout_s:
            if count() >= target:
                break
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    if proc.returncode not in (0, -signal.SIGINT):
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err[-2000:]}")
    return elapsed


# -- reporting ---------------------------------------------------------------------------------
def markdown_table(headers: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        if value is None:
            return "n/a"
        if isinstance(value, float):
            return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
