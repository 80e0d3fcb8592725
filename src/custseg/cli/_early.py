"""A helper the console script starts before the command line's own imports.

``custseg features`` fits lifetime value in a helper process
(:mod:`custseg.transactions.clv_process`) whose import of the model libraries takes
most of the command's time, so every moment it starts earlier comes off the run.
The console script starts it first of all when its command line runs ``features``
with lifetime value, and the command takes it (:func:`take_clv_helper`) instead of
starting its own. A helper the command did not take is stopped on the way out.

Light: it imports the standard library only, and custseg's helper module when the
helper starts.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from custseg.transactions.clv_process import ClvProcess

__all__ = ["early_helper", "take_clv_helper", "wants_clv_helper"]

#: The helper started for this command line, until the command takes it.
_waiting: list[ClvProcess] = []


def wants_clv_helper(args: Sequence[str]) -> bool:
    """Whether a command line runs ``features`` with lifetime value, as far as it says."""
    named = next((a for a in args if not a.startswith("-")), None)
    if named != "features" or {"--no-clv", "--help"} & set(args):
        return False
    from custseg.transactions.clv_extra import clv_available

    return clv_available()


@contextlib.contextmanager
def early_helper(args: Sequence[str]) -> Iterator[None]:
    """Start the lifetime-value helper when ``args`` will want it; stop it if not taken."""
    if not wants_clv_helper(args):
        yield
        return
    from custseg.transactions.clv_process import ClvProcess

    with ClvProcess() as process:
        _waiting.append(process)
        try:
            yield
        finally:
            with contextlib.suppress(ValueError):  # the command took it
                _waiting.remove(process)


def take_clv_helper() -> ClvProcess | None:
    """The helper started by :func:`early_helper` for this command, once; None otherwise."""
    return _waiting.pop() if _waiting else None
