"""Work a command starts ahead of its turn: imports in a thread, a big CSV read early.

Importing the library is Python code that holds the interpreter; reading a CSV with
Arrow and fitting with NumPy and scikit-learn mostly do not. A command that starts
an import in a thread while it does one of those uses both cores instead of taking
turns. Two threads must never import the same modules at once (a module imported
half by each could be seen half made), so a command starts a thread for modules it
does not itself import meanwhile, and waits for the thread where that matters.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import threading
from collections.abc import Iterator
from pathlib import Path

import custseg
from custseg.cli import is_program

__all__ = ["import_in_background", "imports_unscanned", "read_while_importing"]


@contextlib.contextmanager
def imports_unscanned() -> Iterator[None]:
    """Import the block's modules with the cyclic garbage collector paused; freeze them after.

    Importing pandas, scikit-learn and SciPy creates hundreds of thousands of objects
    that live as long as the command, and the collector walks all of them again and
    again while they are created (three full passes on a small table's run, about a
    tenth of a second, all found nothing to free). In the program (:func:`is_program`)
    they are then frozen, left out of the collector's later passes too; a caller's
    process (tests, embedding) freezes nothing, as it may hold garbage still to be
    freed. The collector is on again after the block, as it was.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if is_program():
            gc.freeze()
        if enabled:
            gc.enable()


def _import_quietly(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the command's own import of it says what is wrong
            return


def import_in_background(names: tuple[str, ...]) -> threading.Thread:
    """Start importing the modules ``names``, in order, in a thread; the thread, running.

    A module that fails to import stops the thread quietly: the command's own import
    of it later raises the error in its place.
    """
    thread = threading.Thread(
        target=_import_quietly, args=(names,), name="custseg-import", daemon=True
    )
    thread.start()
    return thread


def read_while_importing(path: Path, names: tuple[str, ...]) -> None:
    """Read the big CSV ``path`` now, while a thread imports the modules ``names``.

    Returns when both are done. Arrow parses without holding the interpreter, so
    reading and importing share the cores. Arrow is imported first, here, so that the
    two threads never import the same module. Errors in the file are raised later, in
    their turn (:func:`custseg.io.arrow_csv.read_ahead`). A table that is not a big
    CSV is neither read nor imported for.
    """
    arrow_csv = custseg.io.arrow_csv
    if not arrow_csv.is_large_file(path):
        return
    importer = import_in_background(names)
    try:
        arrow_csv.read_ahead(path)
    finally:
        importer.join()
