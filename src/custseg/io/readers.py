"""Read a customer table from CSV, gzipped CSV, Parquet or Excel.

Every column comes back as text, exactly as written in the file, so that the
labelled output can repeat the user's values unchanged (an ID ``0001`` stays
``0001``). Turning text into numbers is the job of :mod:`custseg.features.roles`.
Every reader checks a CSV file first with :func:`custseg.io.sniff.sniff_csv`
(encoding, line ends, header), so it is decoded the same way whichever reads it.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.errors import DataFormatError, EmptyInputError
from custseg.io.memory import check_fits_in_memory, checked_layout
from custseg.io.paths import check_input_exists, table_kind
from custseg.io.sniff import (
    CsvLayout,
    check_names,
    empty_message,
)

__all__ = [
    "iter_csv_text",
    "read_csv_text",
    "read_json",
    "read_table_text",
]


def read_csv_text(path: Path, layout: CsvLayout) -> pd.DataFrame:
    """Read a CSV file with pandas, every cell as the text written, by ``layout``."""
    with _parse_errors(path, layout):
        frame = pd.read_csv(path, **_pandas_options(layout))
    return _checked(path, layout, frame)


def iter_csv_text(path: Path, layout: CsvLayout, rows: int) -> Iterator[pd.DataFrame]:
    """:func:`read_csv_text` in pieces of ``rows`` rows."""
    with (
        _parse_errors(path, layout),
        pd.read_csv(path, chunksize=rows, **_pandas_options(layout)) as chunks,
    ):
        for chunk in chunks:
            yield _checked(path, layout, chunk)


def _checked(path: Path, layout: CsvLayout, frame: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas takes the surplus leading fields of rows longer than the header as
        # an index: values would be lost without a word.
        raise DataFormatError(
            f"could not parse '{path}' as CSV with delimiter {layout.delimiter!r}: the first "
            f"rows have more fields than the header's {len(layout.names)}; check that every "
            "line has the same number of fields"
        )
    return _drop_line_end_cr(frame) if layout.lone_cr else frame


def _pandas_options(layout: CsvLayout) -> dict[str, Any]:
    options: dict[str, Any] = dict(
        sep=layout.delimiter,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=True,
        compression="infer",
        encoding=layout.encoding,
    )
    if layout.lone_cr:
        # A carriage return that ends no line is part of a value: only "\n" ends a
        # line, and the "\r" of a "\r\n" line end is taken off (_drop_line_end_cr).
        options["lineterminator"] = "\n"
    return options


@contextlib.contextmanager
def _parse_errors(path: Path, layout: CsvLayout) -> Iterator[None]:
    """Word pandas' parse errors as one line naming the file."""
    try:
        yield
    except pd.errors.EmptyDataError:
        raise DataFormatError(empty_message(path)) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise DataFormatError(
            f"could not parse '{path}' as CSV with delimiter {layout.delimiter!r}: {detail}; "
            "check that every line has the same number of fields"
        ) from None
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"'{path}' is not valid {layout.encoding}: {exc.reason}") from None


def _drop_line_end_cr(frame: pd.DataFrame) -> pd.DataFrame:
    """Take the ``"\r"`` of ``"\r\n"`` line ends off the last column and its name."""
    last = frame.columns[-1]
    frame[last] = frame[last].str.removesuffix("\r")
    return frame.rename(columns={last: str(last).removesuffix("\r")})


def _read_csv(path: Path) -> pd.DataFrame:
    return read_csv_text(path, checked_layout(path, "customer table"))


def _to_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Render typed columns (Parquet, Excel) as the text a CSV export would hold."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        missing = col.isna()
        if pd.api.types.is_float_dtype(col) and col[~missing].mod(1).eq(0).all():
            # Whole numbers stored as floats (a common Excel/Parquet artefact) read as ints.
            text = col.astype("Int64").astype(str)
        else:
            text = col.astype(str)
        out[str(name)] = text.astype(object).where(~missing, "")
    return pd.DataFrame(out, index=frame.index)


def parquet_error(path: Path, exc: Exception) -> DataFormatError:
    """The one-line error for a Parquet file pyarrow could not read."""
    return DataFormatError(
        f"could not read '{path}' as Parquet: {str(exc).splitlines()[0]}; "
        "check the file or export it as CSV"
    )


def read_parquet_typed(path: Path) -> pd.DataFrame:
    """Read a Parquet file or folder with its stored types; a bad file is a DataFormatError."""
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise parquet_error(path, exc) from None


def read_excel_typed(path: Path) -> pd.DataFrame:
    """Read the first sheet of an .xlsx workbook with its stored types.

    Raises
    ------
    DataFormatError
        Unreadable, too big for memory once unzipped, or a column name given twice.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            unzipped = sum(item.file_size for item in archive.infolist())
        check_fits_in_memory(path, unzipped, at_least=False)
        header = pd.read_excel(path, sheet_name=0, engine="openpyxl", header=None, nrows=1)
        check_names(path, tuple(str(v).strip() for v in header.iloc[0] if not pd.isna(v)))
        return pd.read_excel(path, sheet_name=0, engine="openpyxl")
    except DataFormatError:
        raise
    except Exception as exc:  # openpyxl and zipfile raise several unrelated types
        raise DataFormatError(
            f"could not read '{path}' as Excel .xlsx: {str(exc).splitlines()[0]}; "
            "save it again as .xlsx or export it as CSV"
        ) from None


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq  # here: a CSV run is spared its import

    if path.is_file():
        try:
            meta = pq.read_metadata(path)
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise parquet_error(path, exc) from None
        size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        check_fits_in_memory(path, size, at_least=False)
    return _to_text(read_parquet_typed(path))


def _read_excel(path: Path) -> pd.DataFrame:
    return _to_text(read_excel_typed(path))


def read_table_text(path: str | Path) -> pd.DataFrame:
    """Read a customer table as Python text, every column exactly as stored.

    The core reader: :func:`custseg.io.read_table` is the entry point, which uses
    this one for tables under its large-table size.

    Parameters
    ----------
    path : str or Path
        A CSV file (delimiter sniffed among ``,`` ``;`` TAB ``|``; UTF-8 with or
        without BOM, else Latin-1), optionally gzipped, a Parquet file or folder,
        or an Excel ``.xlsx`` workbook (first sheet).

    Returns
    -------
    DataFrame of shape (n_rows, n_columns)
        Object columns of ``str``; an empty cell is ``""``.

    Raises
    ------
    DataFormatError
        The file is missing, empty, unreadable or of an unsupported format.
    EmptyInputError
        The file has a header but no data rows.
    """
    readers = {"csv": _read_csv, "parquet": _read_parquet, "excel": _read_excel}
    return read_by_kind(path, readers, what="customer table", rows="customer rows")


def read_by_kind(
    path: str | Path,
    readers: Mapping[str, Callable[[Path], pd.DataFrame]],
    *,
    what: str,
    rows: str,
) -> pd.DataFrame:
    """Check ``path``, read it with the reader for its format and check the result.

    Parameters
    ----------
    path : str or Path
    readers : mapping of str to callable
        ``"csv"``, ``"parquet"`` and ``"excel"`` readers, each taking the path.
    what : str
        The expected table (``"customer table"``), for the empty-file error.
    rows : str
        What a data row is (``"customer rows"``), for the no-rows error.

    Returns
    -------
    DataFrame
        With stripped column names (a blank name is kept), a fresh index and
        ``attrs["source"]``.

    Raises
    ------
    DataFormatError, EmptyInputError
        As :func:`read_table_text`.
    """
    path = check_input_exists(path)
    kind = table_kind(path)
    if path.is_file() and path.stat().st_size == 0:
        raise DataFormatError(empty_message(path, what))
    frame = readers[kind](path)
    if frame.shape[1] == 0:
        raise DataFormatError(f"input file '{path}' has no columns; check the file")
    if len(frame) == 0:
        raise EmptyInputError(f"input file '{path}' has a header but no data rows; add {rows}")
    frame.columns = [str(c).strip() or str(c) for c in frame.columns]
    frame.attrs["source"] = str(path)
    return frame.reset_index(drop=True)


def read_text_bytes(data: bytes, name: str = "upload.csv") -> pd.DataFrame:
    """Read an uploaded file's bytes (used by the dashboard) through the same rules."""
    import tempfile

    suffix = "".join(Path(name).suffixes) or ".csv"
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / f"upload{suffix}"
        target.write_bytes(data)
        frame = read_table_text(target)
    frame.attrs["source"] = name
    return frame


def read_json(path: str | Path, *, what: str = "file") -> object:
    """Parse a JSON file; ``None`` when the file is not valid UTF-8 JSON."""
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    except OSError as exc:
        raise DataFormatError(f"could not read {what} '{path}': {exc}") from None
