"""Read a customer table from CSV, gzipped CSV, Parquet or Excel.

Every column comes back as text, exactly as written in the file, so that the
labelled output can repeat the user's values unchanged (an ID ``0001`` stays
``0001``). Turning text into numbers is the job of :mod:`custseg.features.roles`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from custseg.errors import DataFormatError, EmptyInputError
from custseg.io.paths import check_input_exists

__all__ = ["SUPPORTED_FORMATS", "read_table", "sniff_delimiter"]

SUPPORTED_FORMATS = "CSV (.csv, .tsv, .txt, optionally .gz), Parquet (.parquet) or Excel (.xlsx)"

_CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ".dat"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
_DELIMITERS = (",", ";", "\t", "|")
_SNIFF_BYTES = 64 * 1024


def _kind(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if path.is_dir():
        return "parquet"
    if suffixes and suffixes[-1] == ".gz":
        inner = suffixes[-2] if len(suffixes) > 1 else ".csv"
        if inner in _CSV_SUFFIXES:
            return "csv"
        raise DataFormatError(
            f"unsupported format '{''.join(suffixes[-2:])}' for '{path}'; use {SUPPORTED_FORMATS}"
        )
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _CSV_SUFFIXES or suffix == "":
        return "csv"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix in _EXCEL_SUFFIXES:
        return "excel"
    raise DataFormatError(f"unsupported format '{suffix}' for '{path}'; use {SUPPORTED_FORMATS}")


def _head_bytes(path: Path) -> bytes:
    opener = _gzip_open if path.suffix.lower() == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise DataFormatError(f"could not read '{path}': {exc}; check the file") from None


def _gzip_open(path: Path, mode: str):
    import gzip

    return gzip.open(path, mode)


def _decode(sample: bytes) -> tuple[str, str]:
    """Return the sample as text and the encoding that decoded it."""
    try:
        # A sample may end in the middle of a multi-byte character; ignore that tail only.
        return sample.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4:
            return sample[: exc.start].decode("utf-8-sig"), "utf-8-sig"
        return sample.decode("latin-1"), "latin-1"


def sniff_delimiter(text: str) -> str:
    """Pick the delimiter among ``, ; TAB |`` that splits the first lines most consistently.

    Parameters
    ----------
    text : str
        The first kilobytes of the file.

    Returns
    -------
    str
        The delimiter; ``","`` when no candidate splits the header.
    """
    lines = text.splitlines()[:50]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    best, best_score = ",", (0, 0.0)
    for delim in _DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delim) if row]
        if not counts or counts[0] < 2:
            continue
        agree = sum(c == counts[0] for c in counts) / len(counts)
        score = (agree >= 0.9, agree * counts[0])
        if score > best_score:
            best, best_score = delim, score
    return best


def empty_message(path: Path, what: str = "customer table") -> str:
    """The error line for a file with no header row; ``what`` names the expected table."""
    return f"input file '{path}' is empty; export the {what} with a header row"


def sniff_csv(path: Path, what: str = "customer table") -> tuple[str, str, str]:
    """Check a CSV file's first kilobytes and tell how to read it.

    Parameters
    ----------
    path : Path
    what : str, default="customer table"
        Names the expected table in the error for an empty file.

    Returns
    -------
    text : str
        The first kilobytes, decoded.
    encoding : str
        ``"utf-8-sig"`` or ``"latin-1"``.
    delimiter : str
        See :func:`sniff_delimiter`.

    Raises
    ------
    DataFormatError
        The file is unreadable, blank or binary.
    """
    sample = _head_bytes(path)
    if not sample.strip():
        raise DataFormatError(empty_message(path, what))
    if b"\x00" in sample:
        raise DataFormatError(
            f"'{path}' looks like a binary file, not CSV; use {SUPPORTED_FORMATS}"
        )
    text, encoding = _decode(sample)
    return text, encoding, sniff_delimiter(text)


def header_row(text: str, delimiter: str) -> list[str]:
    """The first row of ``text`` split by ``delimiter``, names exactly as written."""
    return next(csv.reader(io.StringIO(text), delimiter=delimiter), [])


def _read_csv(path: Path) -> pd.DataFrame:
    _, encoding, delimiter = sniff_csv(path)
    options = dict(
        sep=delimiter,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=True,
        compression="infer",
    )
    try:
        try:
            return pd.read_csv(path, encoding=encoding, **options)
        except UnicodeDecodeError:
            return pd.read_csv(path, encoding="latin-1", **options)
    except pd.errors.EmptyDataError:
        raise DataFormatError(empty_message(path)) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise DataFormatError(
            f"could not parse '{path}' as CSV with delimiter {delimiter!r}: {detail}; "
            "check that every line has the same number of fields"
        ) from None


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
    """Read the first sheet of an .xlsx workbook with its stored types."""
    try:
        return pd.read_excel(path, sheet_name=0, engine="openpyxl")
    except Exception as exc:  # openpyxl and zipfile raise several unrelated types
        raise DataFormatError(
            f"could not read '{path}' as Excel .xlsx: {str(exc).splitlines()[0]}; "
            "save it again as .xlsx or export it as CSV"
        ) from None


def _read_parquet(path: Path) -> pd.DataFrame:
    return _to_text(read_parquet_typed(path))


def _read_excel(path: Path) -> pd.DataFrame:
    return _to_text(read_excel_typed(path))


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a customer table, every column as text exactly as stored.

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
    readers: dict[str, Callable[[Path], pd.DataFrame]],
    *,
    what: str,
    rows: str,
) -> pd.DataFrame:
    """Check ``path``, read it with the reader for its format and check the result.

    Parameters
    ----------
    path : str or Path
    readers : dict of str to callable
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
        As :func:`read_table`.
    """
    path = check_input_exists(path)
    kind = _kind(path)
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
        frame = read_table(target)
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
