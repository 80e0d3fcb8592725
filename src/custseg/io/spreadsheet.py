"""The switch that makes CSV writers neutralise spreadsheet formulas.

Kept apart from :mod:`custseg.io.formulas` so that a command can turn it on
before any table library is imported.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

__all__ = ["neutralising", "spreadsheet_safe"]

_SAFE: ContextVar[bool] = ContextVar("custseg_spreadsheet_safe", default=False)


@contextlib.contextmanager
def spreadsheet_safe(enabled: bool = True) -> Iterator[None]:
    """Within the block, CSV writers neutralise formula cells instead of warning."""
    token = _SAFE.set(enabled)
    try:
        yield
    finally:
        _SAFE.reset(token)


def neutralising() -> bool:
    """True within :func:`spreadsheet_safe`."""
    return _SAFE.get()
