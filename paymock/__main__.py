"""`python -m paymock ...` is the `paymock` command."""
import sys

from mock_server.cli import main

sys.exit(main(prog="python -m paymock"))
