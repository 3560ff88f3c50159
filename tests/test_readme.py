"""The README's examples run verbatim (only the port differs) against a live server, and every
id it documents exists in the fixture catalog."""
import json
import re
import subprocess
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, flags=re.S)


def on_live(code: str, server) -> str:
    return code.replace("http://127.0.0.1:8787", server.url)


@pytest.mark.parametrize("code", [c for lang, c in BLOCKS if lang == "bash" and "curl" in c])
def test_curl_examples(live_server, code):
    # README keys are arbitrary; the live test server accepts only the suite's keys.
    code = on_live(code, live_server).replace("sk_test_readme", "sk_test_paymock_suite")
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", code], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert "error" not in answer and "code" not in answer, answer


@pytest.mark.parametrize("code", [c for lang, c in BLOCKS if lang == "python"])
def test_python_examples(live_server, code):
    code = on_live(code, live_server).replace("sk_test_anything", "sk_test_paymock_suite")
    exec(compile(code, "README.md", "exec"), {})


def test_documented_ids_exist(catalog):
    known = {p["product_id"] for p in catalog.data["dodo"]["products"]}
    known |= {c["customer_id"] for c in catalog.data["dodo"]["customers"]}
    documented = set(re.findall(r"\b(?:pdt|cus)_[0-9A-Za-z]{21}\b", README))
    assert documented and documented <= known
    codes = {d["code"] for d in catalog.data["dodo"]["discounts"]}
    assert {"BLACKFRIDAY2024", "WELCOME5", "LAPTOP10", "EXPIRED2023"} <= codes
