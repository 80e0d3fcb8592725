"""The ``custseg`` command line: a thin layer over the library.

Each command lives in its own module and registers itself on :data:`app`;
:func:`main` imports only the command it runs. Domain errors become one line on
stderr and exit code 2 here, and only here.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

__all__ = ["app", "is_program", "main"]


def main() -> None:
    """Entry point of the ``custseg`` console script."""
    # First of all, before the command line's own imports (see custseg.cli._early).
    from custseg.cli._early import early_helper

    try:
        with early_helper(sys.argv[1:]):
            from custseg.cli._common import main as run

            run()
    except SystemExit as done:
        _end_at_once(done.code)
        raise


def is_program() -> bool:
    """Whether :func:`main` is the program's entry point (the console script, ``python -m
    custseg``), rather than a function a caller's program imported (tests, embedding)."""
    return getattr(sys.modules.get("__main__"), "main", None) is main


def _end_at_once(code: object) -> None:
    """End the process now, with ``code``, when this command line is the program.

    Once the command is done, the interpreter would free every object of pandas,
    scikit-learn and SciPy one by one (about 50 ms after a small table's run); the
    operating system frees the process at once. Only when :func:`main` is the
    program's entry point (the console script, ``python -m custseg``), not when a
    caller imported it; with a numeric code; with no thread left that the
    interpreter would wait for; and once the output is flushed. Otherwise the
    interpreter ends as usual.
    """
    if not is_program():
        return
    if not (code is None or isinstance(code, int)):
        return
    others = [t for t in threading.enumerate() if t is not threading.current_thread()]
    if any(not t.daemon for t in others):
        return
    if "logging" in sys.modules:
        sys.modules["logging"].shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe: the interpreter says so, as it always did
        return
    os._exit(code or 0)


def __getattr__(name: str) -> Any:
    # `app` comes with every command registered (tests and embedding callers).
    if name == "app":
        from custseg.cli._common import app, load_commands

        load_commands()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
