"""A provider's operations as a Markdown table (operation, method and path, served by), from the
handler registry of a freshly made app: what `GET /_mock/operations` lists, for the README
(tools/operations_table.py prints it; tests/test_readme.py keeps the README's copy true)."""
from __future__ import annotations

ROLES = {"rules": "paymock's rules", None: "not emulated (501)"}


def markdown(provider: str) -> str:
    from .app import create_app  # an app of its own: what a fresh `paymock serve` serves
    from .config import Settings

    app = create_app(Settings(port=0))
    try:
        listed = [item for item in app.extensions["paymock.operations"]
                  if item.provider == provider]
        generic = app.extensions[f"paymock.provider.{provider}"].generic_operations()
    finally:
        app.extensions["paymock"].shutdown.set()
    lines = ["| operation | method and path | served by |", "|---|---|---|"]
    for item in sorted(listed, key=lambda i: (i.path, i.method)):
        served = ROLES.get(item.served_by) or f"generic engine ({generic[item.operation_id]})"
        lines.append(f"| `{item.operation_id}` | `{item.method} {item.path}` | {served} |")
    return "\n".join(lines) + "\n"
