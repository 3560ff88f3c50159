"""Regenerate contracts/dodo/openapi.json (the source the package data is built from) from the
vendor's published spec, with paymock's overlay (mock_server/providers/dodo/contract_derivation.py).

    python tools/derive_dodo_contract.py ../shared/reference/dodo-current/dodo-openapi-1.113.0.json
"""
import json
import sys
from pathlib import Path

from mock_server.providers.dodo.contract_derivation import derive

OUT = Path(__file__).resolve().parent.parent / "contracts" / "dodo" / "openapi.json"

if __name__ == "__main__":
    vendor_spec = json.loads(Path(sys.argv[1]).read_text())
    OUT.write_text(json.dumps(derive(vendor_spec), indent=1, sort_keys=False) + "\n")
    print(f"wrote {OUT}")
