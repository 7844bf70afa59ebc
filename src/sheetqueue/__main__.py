"""``python -m sheetqueue``: the same command line as the ``sheetqueue`` script."""

from __future__ import annotations

import sys

from sheetqueue.cli import main

if __name__ == "__main__":
    sys.exit(main())
