"""Exceptions and warnings raised by custseg.

Every error custseg raises on purpose derives from :class:`CustsegError`, and
every error caused by the user's data or options also derives from the builtin
:class:`ValueError`, so ``except ValueError`` keeps working for callers who do
not know custseg's tree::

    CustsegError
    ├── InputError (ValueError)         bad data or options; the CLI exits with 2
    │   ├── DataFormatError             missing, empty or unreadable input file
    │   │   └── TableTooLargeError      too big to read whole in the memory available
    │   ├── SchemaError                 a column is missing, empty or of the wrong kind
    │   └── EmptyInputError             too few usable rows or distinct rows for K
    ├── ModelError (ValueError)         not a custseg model, or an unknown schema version
    └── EngineError (RuntimeError)      a back-end (Spark, Java, ...) is missing or failed

    CustsegWarning (UserWarning)
    └── DataWarning                     a soft data problem: constant feature, duplicate
                                        IDs, imputed values; the run goes on

Messages are written for the person at the keyboard: they name the file,
column, row or value at fault and say what to do about it, in one line. They
speak in parameter names (``k must be at least 1``, ``pass missing='drop'``);
an :class:`InputError` lists the parameters it names as bare words in
``parameters``, so that a delivery layer can spell them its own way (the CLI
as flags).
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterable, Iterator

__all__ = [
    "CustsegError",
    "CustsegWarning",
    "DataFormatError",
    "DataWarning",
    "EmptyInputError",
    "EngineError",
    "InputError",
    "ModelError",
    "SchemaError",
    "TableTooLargeError",
    "collect_data_warnings",
    "shift_rows",
]


class CustsegError(Exception):
    """Base class of every error custseg raises on purpose."""


class InputError(CustsegError, ValueError):
    """The input data or the options are not usable as given.

    Parameters
    ----------
    *args
        The message, as for any exception.
    parameters : iterable of str, optional
        Option names (``k``, ``k_min``) that the message uses as bare words.
        Written ``name=value``, an option needs no listing.
    """

    def __init__(self, *args: object, parameters: Iterable[str] = ()) -> None:
        super().__init__(*args)
        self.parameters = tuple(parameters)


class DataFormatError(InputError):
    """The input file is missing, empty, or not in a format custseg can read."""


class TableTooLargeError(DataFormatError):
    """The table would not fit in memory read whole; a command that streams it can read it."""


class SchemaError(InputError):
    """A column is missing, entirely empty, or holds values of the wrong kind."""


class EmptyInputError(InputError):
    """Too few usable rows remain to build the requested segments."""


class ModelError(CustsegError, ValueError):
    """A model file is not a custseg model, or was written by an unknown schema version."""


class EngineError(CustsegError, RuntimeError):
    """A computing back-end is missing or failed (for example Spark without Java)."""


def shift_rows(error: InputError, offset: int) -> InputError:
    """``error`` of a part of a table that starts after ``offset`` rows, its row
    numbers made the table's (``at row 3`` -> ``at row 100003``).

    A count of "such value(s)" is the part's: it becomes "at least" that many.
    """
    if not offset:
        return error
    message = re.sub(r"\bat row (\d+)", lambda m: f"at row {int(m[1]) + offset}", str(error))
    message = re.sub(r"\((\d+) such value", r"(at least \1 such value", message)
    shifted = type(error)(message, parameters=error.parameters)
    return shifted


class CustsegWarning(UserWarning):
    """Base class of custseg's warnings."""


class DataWarning(CustsegWarning):
    """A soft data problem that custseg worked around; the message says how."""


@contextlib.contextmanager
def collect_data_warnings() -> Iterator[list[str]]:
    """Collect the messages of the :class:`DataWarning` s raised inside the block.

    Yields a list that holds the messages, in order, once the block has ended;
    every warning caught is then issued again, so callers still see it.
    """
    messages: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        yield messages
    for w in caught:
        if issubclass(w.category, DataWarning):
            messages.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
