"""The one way custseg reads a customer table: ``segment``, ``score``, ``drift``, ``compare``.

Every command reads its table here, so that the same file gives the same table,
the same column roles and the same numbers whichever command reads it:

- a table of fewer than :data:`LARGE_ROWS` rows comes back as Python text (an
  empty cell is ``""``), exactly as :func:`custseg.io.readers.read_table_text`
  gives it, whichever reader parsed the file;
- a bigger one is kept in Arrow-backed text columns (an empty cell is missing),
  read by Arrow's multithreaded reader when the file is big enough for it to pay.

The check of the file (encoding, line ends, header, memory) is the same in both
(:mod:`custseg.io.sniff`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.errors import DataFormatError, EmptyInputError
from custseg.io.arrow import iter_batches, read_table_fast
from custseg.io.arrow_csv import is_large_file
from custseg.io.paths import check_input_exists, table_kind
from custseg.io.readers import parquet_error, read_table_text

__all__ = ["LARGE_ROWS", "iter_table", "read_table"]

#: Tables with at least this many rows are held as Arrow text and take the
#: large-table path of the pipeline (:mod:`custseg.backends.large`).
LARGE_ROWS = 200_000


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq  # here: a CSV run is spared its import

    if path.is_dir():
        return LARGE_ROWS  # a dataset folder: read it with Arrow
    try:
        return int(pq.read_metadata(path).num_rows)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise parquet_error(path, exc) from None


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Arrow text columns as the core reader's text columns, an empty cell as ``""``."""
    text = pd.DataFrame(
        {name: frame[name].astype(object).where(frame[name].notna(), "") for name in frame.columns}
    ).astype(str)
    text.attrs = dict(frame.attrs)
    return text


def _as_arrow(frame: pd.DataFrame) -> pd.DataFrame:
    """The core reader's Python text as Arrow text, an empty cell as missing."""
    columns = {}
    for name in frame.columns:
        arr = pa.array(frame[name], type=pa.string(), from_pandas=True)
        columns[name] = pd.Series(
            pc.if_else(pc.equal(arr, ""), None, arr), dtype=pd.ArrowDtype(pa.string())
        )
    arrow = pd.DataFrame(columns)
    arrow.attrs = dict(frame.attrs)
    return arrow


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a customer table, every column as text exactly as stored.

    Parameters
    ----------
    path : str or Path
        A CSV file (delimiter sniffed among ``,`` ``;`` TAB ``|``; UTF-8, Latin-1,
        or UTF-16/32 with a byte-order mark, decided once for the whole file),
        optionally gzipped, a Parquet file or folder, or an Excel ``.xlsx``
        workbook (first sheet).

    Returns
    -------
    DataFrame of shape (n_rows, n_columns)
        Under :data:`LARGE_ROWS` rows, text columns as the core reader gives them (an empty
        cell is ``""``); from :data:`LARGE_ROWS` rows, Arrow-backed text with an
        empty cell missing (Parquet: its stored types). ``attrs["source"]``
        holds the path.

    Raises
    ------
    DataFormatError
        The file is missing, empty, unreadable, of an unsupported format, mixes
        text encodings, has duplicate column names, or would not fit in memory.
    EmptyInputError
        The file has a header but no data rows.
    """
    path = Path(path)
    if not is_large_file(path):
        frame = read_table_text(path)
        return frame if len(frame) < LARGE_ROWS else _as_arrow(frame)
    if table_kind(path) == "parquet" and _parquet_rows(path) < LARGE_ROWS:
        return read_table_text(path)  # its typed columns rendered as the core renders them
    frame = read_table_fast(path)
    return frame if len(frame) >= LARGE_ROWS else _as_text(frame)


def iter_table(path: str | Path, *, batch_rows: int) -> Iterator[pd.DataFrame]:
    """The table :func:`read_table` reads, in pieces, never held whole.

    For a table too big to read whole (a compressed file that inflates to
    gigabytes): memory grows with ``batch_rows``, not with the table.

    Parameters
    ----------
    path : str or Path
        A CSV file (optionally gzipped) or a Parquet file or folder.
    batch_rows : int
        Rows per piece at most (CSV is read in blocks of about that many rows).

    Yields
    ------
    DataFrame
        Arrow-backed text columns as in a large :func:`read_table` table (an empty
        cell is missing; Parquet: its stored types), column names stripped, a
        fresh index each.

    Raises
    ------
    DataFormatError
        As :func:`read_table`; an Excel workbook cannot be read in pieces.
    EmptyInputError
        The file has a header but no data rows.
    """
    path = check_input_exists(path)
    if table_kind(path) == "excel":
        raise DataFormatError(
            f"'{path}' is an Excel workbook, which cannot be read in pieces; export it as CSV"
        )
    rows = 0
    for batch in iter_batches(path, batch_rows=batch_rows):
        # A CSV block holds about as many rows as asked; never more come out.
        for start in range(0, batch.num_rows, batch_rows):
            frame = batch.slice(start, batch_rows).to_pandas(types_mapper=pd.ArrowDtype)
            frame.columns = [str(c).strip() or str(c) for c in frame.columns]
            frame.attrs["source"] = str(path)
            rows += len(frame)
            yield frame
    if not rows:
        raise EmptyInputError(
            f"input file '{path}' has a header but no data rows; add customer rows"
        )
