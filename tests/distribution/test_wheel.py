"""paymock outside a clone: a wheel built from this repository, installed (not editable) in a fresh
virtualenv and used from another folder, serves both providers, the hosted pages and the PSP, runs
the pytest plugin and the README's examples, `paymock contract` and `contract diff`, and never
writes into its own package. Nothing of the checkout is on that interpreter's path."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import requests

from processes import free_port
from waffo.helpers import WaffoClient

REPO = Path(__file__).resolve().parents[2]
EBOOK = "pdt_uGej5ygB4DvTZFDmnvmUM"  # a product of the packaged catalog
CARD = {"method": "card", "number": "4242424242424242", "expiry": "06/32", "cvc": "123"}
ADDRESS = {"country": "US", "street": "1 Main St", "city": "SF", "state": "CA", "zipcode": "94105"}


class Installed:
    """A virtualenv holding only the wheel (with its contract extra) and what it depends on."""

    def __init__(self, root: Path, work: Path):
        self.root = root
        self.bin = root / "bin"
        self.python = self.bin / "python"
        self.work = work  # the user's own folder: no contracts/, fixtures/ or mock_server/ here
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PAYMOCK_"))}
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(root)
        self.env = env

    def run(self, *args, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([str(a) for a in args], cwd=self.work, env=self.env, text=True,
                                capture_output=True, timeout=timeout)
        if check and result.returncode != 0:
            pytest.fail(f"{' '.join(map(str, args))} exited {result.returncode}:\n"
                        f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        return result

    def package_files(self) -> dict[str, int]:
        """Every file of the installed package, with its size."""
        root = Path(self.run(self.python, "-c", "import mock_server, os; "
                             "print(os.path.dirname(mock_server.__file__))").stdout.strip())
        return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # hatchling comes with the test extra, so the build needs no download of its own.
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                    str(REPO)], check=True, capture_output=True, text=True, timeout=300)
    (built,) = out.glob("paymock-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(tmp_path_factory, wheel) -> Installed:
    root = tmp_path_factory.mktemp("venv")
    venv.create(root, with_pip=True, clear=True)
    work = tmp_path_factory.mktemp("merchant-project")
    env = Installed(root, work)
    # dodopayments is the merchant's own dependency, for the README's plugin example.
    env.run(env.python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            f"{wheel}[contract]", "dodopayments", timeout=600)
    return env


def test_the_wheel_is_the_package_and_carries_its_data(installed):
    script = ("import json, mock_server, paymock; from mock_server import resources; "
              "print(json.dumps({'file': mock_server.__file__, 'root': str(resources.contracts()),"
              " 'api': sorted(paymock.__all__), 'version': paymock.__version__,"
              " 'contract': paymock.contract('dodo')['info']['title']}))")
    found = json.loads(installed.run(installed.python, "-c", script).stdout)
    assert "site-packages" in found["file"] and str(REPO) not in found["file"]
    assert found["root"].endswith(os.path.join("mock_server", "_data", "contracts"))
    assert {"Client", "Paymock", "start_server", "contract"} <= set(found["api"])
    assert found["contract"]
    out = installed.run(installed.python, "-m", "paymock", "--version").stdout
    assert out.strip() == f"paymock {found['version']}"
    files = installed.package_files()
    for name in ("_data/contracts/dodo/openapi.json", "_data/contracts/waffo/openapi.json",
                 "_data/contracts/control/openapi.json", "_data/contracts/waffo/schema.graphql",
                 "_data/fixtures/catalog.json", "_data/fixtures/catalog.schema.json",
                 "_data/fixtures/scenarios/psp-outage.json",
                 "_data/fixtures/waffo/keys/acme-test.TEST-ONLY.private.pem",
                 "_data/fixtures/webhooks/waffo-webhook.TEST-ONLY.public.pem",
                 "hosted/templates/psp.html", "providers/dodo/contract_derivation.py",
                 "control/ui/templates/ui/base.html", "control/ui/static/ui.js",
                 "control/ui/static/ui.css"):
        assert name in files, name


@pytest.fixture(scope="module")
def served(installed):
    port = free_port()
    # Warnings only: the output is read at the end, and a line per request could fill the pipe.
    proc = subprocess.Popen([installed.bin / "paymock", "serve", "--port", str(port),
                             "--log-level", "warning"],
                            cwd=installed.work, env=installed.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    first = proc.stdout.readline()  # printed once the port accepts
    if "listening" not in first:
        proc.kill()
        pytest.fail(f"paymock serve did not start: {first}{proc.stdout.read()}")
    yield f"http://127.0.0.1:{port}"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert "Traceback" not in out, out


def local(url: str, base: str) -> str:
    assert url.startswith(base), (url, base)
    return url


def test_serves_dodo_with_hosted_page_and_psp(served):
    auth = {"Authorization": "Bearer sk_test_wheel"}
    created = requests.post(f"{served}/dodo/checkouts", headers=auth, timeout=10, json={
        "product_cart": [{"product_id": EBOOK, "quantity": 1}],
        "return_url": "https://shop.example/thanks"})
    assert created.status_code == 200, created.text
    page = requests.get(local(created.json()["checkout_url"], served), timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "E-book" in page.text  # the packaged catalog's product, through the packaged template
    to_psp = requests.post(page.url, data={"email": "ada@example.com", "name": "Ada", **ADDRESS},
                           allow_redirects=False, timeout=10)
    assert to_psp.status_code == 303, to_psp.text
    psp = local(to_psp.headers["Location"], served)
    assert "/psp/dodo/" in psp and requests.get(psp, timeout=10).status_code == 200
    paid = requests.post(psp, data=CARD, allow_redirects=False, timeout=10)
    assert paid.status_code == 303 and paid.headers["Location"].startswith("https://shop.example/thanks")
    status = requests.get(f"{served}/dodo/checkouts/{created.json()['session_id']}", headers=auth,
                          timeout=10).json()
    assert status["payment_status"] == "succeeded"


def test_serves_the_dashboard_with_its_own_script(served):
    session = requests.Session()
    page = session.get(f"{served}/_mock/ui", timeout=10)
    assert page.status_code == 200 and "Namespaces" in page.text
    script = session.get(f"{served}/_mock/ui/static/ui.js", timeout=10)
    assert script.status_code == 200 and "X-Paymock-CSRF" in script.text


def test_serves_waffo_with_hosted_page_psp_and_webhook_key(served):
    client = WaffoClient(base_url=served)
    session_id = client.session("ebook", successUrl="https://shop.example/done")
    url = f"{served}/checkout/waffo/store/acme-digital/checkout/{session_id}"
    page = requests.get(url, timeout=10)
    assert page.status_code == 200 and "TypeScript Handbook" in page.text
    to_psp = requests.post(url, data={"buyerEmail": "buyer@example.com", "country": "GB"},
                           allow_redirects=False, timeout=10)
    assert to_psp.status_code == 303 and "/psp/waffo/psp_cs_" in to_psp.headers["Location"]
    paid = requests.post(local(to_psp.headers["Location"], served), data=CARD,
                         allow_redirects=False, timeout=10)
    assert paid.headers["Location"] == "https://shop.example/done"
    key = requests.get(f"{served}/_mock/waffo/webhook-public-key", timeout=10).text
    assert key == (REPO / "fixtures" / "webhooks" / "waffo-webhook.TEST-ONLY.public.pem").read_text()


def test_scenario_presets_load_by_name(installed):
    proc = subprocess.Popen([installed.bin / "paymock", "serve", "--port", str(free_port()),
                             "--scenario", "psp-outage"], cwd=installed.work, env=installed.env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout.readline().strip() == "scenario psp-outage: 1 fault rule(s)"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)


def test_fixtures_generate_writes_where_asked_and_never_into_the_package(installed):
    before = installed.package_files()
    out = installed.run(installed.bin / "paymock", "fixtures", "generate").stdout
    assert out.startswith("wrote fixtures/catalog.json")
    written = json.loads((installed.work / "fixtures" / "catalog.json").read_text())
    packaged = json.loads((REPO / "fixtures" / "catalog.json").read_text())
    assert written["dodo"]["products"][0]["product_id"] == packaged["dodo"]["products"][0]["product_id"]
    inside = installed.run(installed.python, "-c", "from mock_server import resources; "
                           "print(resources.catalog())").stdout.strip()
    refused = installed.run(installed.bin / "paymock", "fixtures", "generate", "--out", inside,
                            check=False)
    assert refused.returncode == 2 and "inside the installed paymock package" in refused.stderr
    assert installed.package_files() == before


def test_the_readme_plugin_examples_run_against_the_installed_package(installed):
    for name in ("test_merchant_suite.py", "test_contract_pytest.py"):
        shutil.copy(REPO / "tests" / "example" / name, installed.work / name)
    result = installed.run(installed.python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_merchant_suite.py", "test_contract_pytest.py", check=False,
                           timeout=600)
    summary = result.stdout.strip().splitlines()[-1]
    assert result.returncode == 0 and re.match(r"\d+ passed", summary), result.stdout[-3000:]


def test_contract_run_and_diff_from_another_folder(installed, vendor_spec, tmp_path):
    run = installed.run(installed.bin / "paymock", "contract", "dodo", "--phases", "examples",
                        "--no-stateful", "--report", installed.work / "dodo.xml", check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (installed.work / "dodo.xml").read_text().startswith("<?xml")
    spec = tmp_path / "vendor.json"
    spec.write_text(json.dumps(vendor_spec))
    diff = installed.run(installed.bin / "paymock", "contract", "diff", "dodo", "--vendor-spec", spec,
                         check=False)
    assert diff.returncode == 0, diff.stdout[-3000:] + diff.stderr[-3000:]
    assert "no drift: every difference is intended" in diff.stdout
    assert "overlay: mock_server.providers.dodo.contract_derivation" in diff.stdout
