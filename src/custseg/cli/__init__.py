"""The ``custseg`` command line: a thin layer over the library.

Each command lives in its own module and registers itself on :data:`app`;
:func:`main` imports only the command it runs. Domain errors become one line on
stderr and exit code 2 here, and only here.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the ``custseg`` console script."""
    # First of all, before the command line's own imports (see custseg.cli._early).
    from custseg.cli._early import early_helper

    with early_helper(sys.argv[1:]):
        from custseg.cli._common import main as run

        run()


def __getattr__(name: str) -> Any:
    # `app` comes with every command registered (tests and embedding callers).
    if name == "app":
        from custseg.cli._common import app, load_commands

        load_commands()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
