"""The ``custseg`` command line: a thin layer over the library.

Each command lives in its own module and registers itself on :data:`app`.
Domain errors become one line on stderr and exit code 2 here, and only here.
"""

from __future__ import annotations

from custseg.cli._common import app, main

# Importing the command modules registers their commands on `app`.
from custseg.cli import demo, score, segment  # noqa: F401  isort: skip
from custseg.cli import features  # noqa: F401  isort: skip
from custseg.cli import compare  # noqa: F401  isort: skip
from custseg.cli import report  # noqa: F401  isort: skip
from custseg.cli import drift  # noqa: F401  isort: skip
from custseg.cli import dashboard, serve  # noqa: F401  isort: skip

__all__ = ["app", "main"]
