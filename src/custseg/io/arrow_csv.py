"""Arrow's CSV reader, set up by the core reader's rules, without pandas.

This module imports Arrow but not pandas, so that a command can read its big
table while pandas is still importing (:func:`read_ahead`): Arrow parses
without holding the interpreter, so the two share the machine's cores.
:func:`custseg.io.arrow.read_table_fast` reads through :func:`read_csv_whole`,
which uses what was read ahead, or reads now.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from custseg.errors import DataFormatError
from custseg.io.memory import checked_layout
from custseg.io.paths import table_kind
from custseg.io.sniff import CsvLayout

__all__ = [
    "ARROW_ENCODINGS",
    "FAST_READ_BYTES",
    "arrow_reads",
    "csv_options",
    "is_large_file",
    "read_ahead",
    "read_csv_arrow",
    "read_csv_whole",
]

#: Files at least this big are read by :func:`custseg.io.arrow.read_table_fast` (about
#: 200,000 rows).
FAST_READ_BYTES = int(os.environ.get("CUSTSEG_FAST_READ_BYTES", 8 << 20))
#: The encodings Arrow's CSV reader decodes itself, by Python codec.
ARROW_ENCODINGS = {"utf-8": "utf8", "utf-8-sig": "utf8", "latin-1": "latin1"}
_BLOCK_BYTES = 16 << 20
_WHAT = "customer table"

# What read_ahead read: the file's identity when it was read, and the layout and
# table, or the error, that reading it now would give.
_Signature = tuple[int, int, int, int]
_Outcome = tuple[CsvLayout, pa.Table | None] | BaseException
_ahead: dict[Path, tuple[_Signature, _Outcome]] = {}


def is_large_file(path: str | Path) -> bool:
    """True when ``path`` is a CSV/Parquet file or Parquet folder worth the fast path."""
    path = Path(path)
    try:
        if path.is_dir():
            return True
        kind = table_kind(path)
        return kind in ("csv", "parquet") and path.stat().st_size >= FAST_READ_BYTES
    except (OSError, DataFormatError):
        return False  # the core reader reports the problem in its own words


def arrow_reads(layout: CsvLayout) -> bool:
    """True when Arrow's reader decodes this file as the core reader does.

    Arrow ends a line at any carriage return and reads UTF-8 or transcodes; a file
    with a carriage return inside a row, or in UTF-16/32, is read by pandas.
    """
    return not layout.lone_cr and layout.encoding in ARROW_ENCODINGS


def csv_options(
    layout: CsvLayout, *, newlines: bool
) -> tuple[pa_csv.ReadOptions, pa_csv.ParseOptions, pa_csv.ConvertOptions]:
    """Arrow's options to read a CSV of ``layout`` as text exactly as written."""
    # Names are given explicitly so that every column can be typed as text: Arrow's own
    # inference would turn an ID like 0001 into 1. The names are unique (sniff_csv).
    names = list(layout.names)
    read = pa_csv.ReadOptions(
        column_names=names,
        skip_rows=1,
        encoding=ARROW_ENCODINGS[layout.encoding],
        block_size=_BLOCK_BYTES,
        use_threads=True,
    )
    # Values with line breaks force single-threaded parsing; allow them only when needed.
    parse = pa_csv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=newlines)
    convert = pa_csv.ConvertOptions(
        column_types={n: pa.string() for n in names},
        strings_can_be_null=True,
        null_values=[""],
        quoted_strings_can_be_null=True,
    )
    return read, parse, convert


def read_csv_arrow(path: Path, layout: CsvLayout) -> pa.Table | None:
    """The table by Arrow's reader; None when only the core reader reads it right.

    The core reader then also words any error in the file truly, with its line.
    """
    if not arrow_reads(layout):
        return None
    for newlines in (False, True):
        try:
            return pa_csv.read_csv(path, *csv_options(layout, newlines=newlines))
        except pa.ArrowInvalid:
            continue
    return None


def _signature(path: Path) -> _Signature:
    stat = path.stat()
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _read_now(path: Path) -> tuple[CsvLayout, pa.Table | None]:
    layout = checked_layout(path, _WHAT)
    return layout, read_csv_arrow(path, layout)


def read_ahead(path: str | Path) -> None:
    """Read the big CSV ``path`` now, for the :func:`read_csv_whole` of it that follows.

    Nothing is raised here: an error in the file (or one that it would not fit in
    memory) is kept and raised by :func:`read_csv_whole`, in its place among the
    command's checks. Only the latest read is kept, and it is used once.
    """
    path = Path(path)
    _ahead.clear()
    try:
        if table_kind(path) != "csv" or not path.is_file() or not is_large_file(path):
            return
        signature = _signature(path)
    except (OSError, DataFormatError):
        return  # the reading that follows words it
    outcome: _Outcome
    try:
        outcome = _read_now(path)
    except Exception as exc:  # kept for read_csv_whole to raise
        outcome = exc
    _ahead[path] = (signature, outcome)


def read_csv_whole(path: Path) -> tuple[CsvLayout, pa.Table | None]:
    """The layout of the CSV ``path`` and its table by Arrow (None: the core reader's).

    What :func:`read_ahead` read is used if the file has not changed since.

    Raises
    ------
    DataFormatError
        As :func:`custseg.io.memory.checked_layout`.
    """
    signature, outcome = _ahead.pop(path, (None, None))
    try:
        unchanged = outcome is not None and signature == _signature(path)
    except OSError:
        unchanged = False
    if not unchanged or outcome is None:
        return _read_now(path)
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
