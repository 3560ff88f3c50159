"""Print the README's table of a provider's operations: which are served by paymock's own rules
and which by the generic resource engine, from the handler registry of a freshly made app (the
same list `GET /_mock/operations` answers). tests/test_readme.py keeps the README's copy true.

    python tools/operations_table.py dodo
"""
from __future__ import annotations

import sys

from mock_server.operations_table import markdown

if __name__ == "__main__":
    print(markdown(sys.argv[1] if len(sys.argv) > 1 else "dodo"), end="")
