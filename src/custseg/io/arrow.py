"""Fast reading and writing of big customer tables with Apache Arrow.

:func:`custseg.io.readers.read_table_text` turns every cell into a Python ``str``: right for a
few thousand customers, too slow and too big for ten million. The functions here
follow the same rules but keep the data in Arrow:

- :func:`read_table_fast` reads CSV with Arrow's multithreaded reader, every
  column as Arrow text exactly as written (an ID ``0001`` stays ``0001``; an
  empty cell is missing), and Parquet with its stored types. Only the feature
  columns are later parsed to numbers (:func:`custseg.features.large.feature_matrix`).
- :func:`iter_batches` streams a CSV or a Parquet file/folder in record batches,
  for the chunked engine.
- :func:`write_csv_fast` writes a table byte for byte as :func:`custseg.io.write_csv`
  (pandas' ``to_csv``) would, but builds the lines with Arrow kernels (and floats
  with orjson) in chunks, so that writing ten million rows takes seconds, not minutes.

:func:`custseg.io.read_table` is the entry point that takes the fast path from
:data:`custseg.io.arrow_csv.FAST_READ_BYTES` upwards; Arrow's CSV reader is set up in
:mod:`custseg.io.arrow_csv`.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from custseg.errors import DataFormatError, EmptyInputError
from custseg.io.arrow_csv import arrow_reads, csv_options, read_csv_whole
from custseg.io.formulas import FormulaWatch, factorized_if_few
from custseg.io.paths import check_input_exists, table_kind
from custseg.io.readers import iter_csv_text, parquet_error, read_csv_text
from custseg.io.sniff import CsvLayout, empty_message, sniff_csv
from custseg.io.writers import (
    FileDigest,
    atomic_path,
    formula_checked,
    table_format,
    write_csv,
    write_table,
)

if TYPE_CHECKING:
    import pyarrow.parquet as pq

__all__ = [
    "FAST_WRITE_ROWS",
    "CsvAppender",
    "ParquetAppender",
    "csv_header",
    "iter_batches",
    "read_table_fast",
    "table_appender",
    "write_csv_auto",
    "write_csv_fast",
    "write_csv_pieces",
    "write_parquet",
    "write_table_auto",
]

#: Tables with at least this many rows are written by :func:`write_csv_fast`.
FAST_WRITE_ROWS = 100_000
_WRITE_CHUNK_ROWS = 100_000

ProgressFn = Callable[[str, int, int | None], None]


def csv_header(path: Path) -> tuple[list[str], str, str]:
    """Column names (stripped), delimiter and Python codec of a CSV file, by the core's rules."""
    layout = sniff_csv(path)
    return list(layout.names), layout.delimiter, layout.encoding


def _read_parquet_arrow(path: Path) -> pa.Table:
    import pyarrow.parquet as pq  # here: a CSV run is spared its import

    try:
        return pq.read_table(path, use_threads=True)
    except Exception as exc:  # pyarrow raises several unrelated types for a bad file
        raise parquet_error(path, exc) from None


def read_table_fast(path: str | Path) -> pd.DataFrame:
    """Read a big CSV or Parquet table into Arrow-backed pandas columns.

    Parameters
    ----------
    path : str or Path
        A CSV file (delimiter sniffed among ``,`` ``;`` TAB ``|``; UTF-8 with or
        without BOM, else Latin-1), optionally gzipped, or a Parquet file or folder.

    Returns
    -------
    DataFrame of shape (n_rows, n_columns)
        From CSV every column is ``ArrowDtype(string)``, exactly as written, with an
        empty cell as missing; from Parquet the stored types, Arrow-backed.
        ``attrs["source"]`` holds the path.

    Raises
    ------
    DataFormatError
        Missing, empty, unreadable or unsupported file (Excel goes through
        :func:`custseg.io.read_table`).
    EmptyInputError
        A header but no data rows.
    """
    path = check_input_exists(path)
    kind = table_kind(path)
    if kind == "excel":
        raise DataFormatError(f"'{path}' is Excel; the fast reader takes CSV or Parquet")
    if path.is_file() and path.stat().st_size == 0:
        raise DataFormatError(empty_message(path))
    if kind == "csv":
        layout, table = read_csv_whole(path)
        if table is None:
            return _core_frame(path, layout)
    else:
        table = _read_parquet_arrow(path)
    if table.num_columns == 0:
        raise DataFormatError(f"input file '{path}' has no columns; check the file")
    if table.num_rows == 0:
        raise EmptyInputError(
            f"input file '{path}' has a header but no data rows; add customer rows"
        )
    frame = table.to_pandas(types_mapper=pd.ArrowDtype, self_destruct=True)
    del table
    frame.columns = [str(c).strip() or str(c) for c in frame.columns]
    frame.attrs["source"] = str(path)
    return frame


def _core_frame(path: Path, layout: CsvLayout) -> pd.DataFrame:
    """The core reader's table, with an empty cell as missing as the fast reader gives it."""
    frame = read_csv_text(path, layout)
    if len(frame) == 0:
        raise EmptyInputError(
            f"input file '{path}' has a header but no data rows; add customer rows"
        )
    frame.columns = [str(c).strip() or str(c) for c in frame.columns]
    frame = frame.astype(pd.ArrowDtype(pa.string())).replace("", None)
    frame.attrs["source"] = str(path)
    return frame


def iter_batches(
    path: str | Path, *, batch_rows: int = 250_000, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Stream a CSV file or a Parquet file/folder in record batches.

    Parameters
    ----------
    path : str or Path
    batch_rows : int, default=250_000
        Rows per batch for Parquet; CSV batches follow Arrow's block size (about
        the same number of rows for a narrow table).
    columns : list of str, optional
        Only these columns (Parquet); CSV batches carry every column as text.

    Yields
    ------
    pyarrow.RecordBatch
        CSV columns are text exactly as written; Parquet keeps its stored types.
    """
    path = check_input_exists(path)
    kind = table_kind(path)
    if kind == "parquet":
        try:
            import pyarrow.dataset as ds

            dataset = ds.dataset(path, format="parquet")
            scanner = dataset.scanner(columns=columns, batch_size=batch_rows, use_threads=True)
            batches = scanner.to_batches()
        except Exception as exc:  # pyarrow raises several unrelated types for a bad file
            raise DataFormatError(
                f"could not read '{path}' as Parquet: {str(exc).splitlines()[0]}; "
                "check the file or export it as CSV"
            ) from None
        for batch in batches:
            if batch.num_rows:
                yield batch
        return
    if kind != "csv":
        raise DataFormatError(f"'{path}' cannot be streamed; --engine chunked takes CSV or Parquet")
    layout = sniff_csv(path)
    if not arrow_reads(layout):
        yield from _pandas_batches(path, layout, batch_rows)
        return
    read, parse, convert = csv_options(layout, newlines=False)
    # About 40 bytes per row for a narrow customer table.
    read.block_size = max(1 << 20, min(64 << 20, batch_rows * 40))
    done = 0
    try:
        reader = pa_csv.open_csv(path, read, parse, convert)
        for batch in reader:
            if batch.num_rows:
                done += batch.num_rows
                yield batch
    except pa.ArrowInvalid:
        # A value longer than a block, a line break inside quotes, or a real fault:
        # pandas reads on from there, or says truly where the file is wrong.
        yield from _pandas_batches(path, layout, batch_rows, skip=done)


def _pandas_batches(
    path: Path, layout: CsvLayout, batch_rows: int, *, skip: int = 0
) -> Iterator[pa.RecordBatch]:
    """Batches read by pandas, for a file Arrow cannot read as the core reader does.

    The first ``skip`` rows, already read, are left out.
    """
    for chunk in iter_csv_text(path, layout, batch_rows):
        if skip >= len(chunk):
            skip -= len(chunk)
            continue
        chunk, skip = chunk.iloc[skip:], 0
        if len(chunk):
            columns = {
                name: pa.array(chunk[name].replace("", None), type=pa.string())
                for name in chunk.columns
            }
            yield pa.RecordBatch.from_pydict(columns)


# -- writing --------------------------------------------------------------------------


def _quote_chars() -> str:
    """The characters that make Python's csv writer (pandas' ``to_csv``) quote a field.

    Asked of the running Python rather than hard-coded: whether a lone carriage
    return triggers quoting has changed between Python versions.
    """
    specials = ""
    for ch in (",", '"', "\n", "\r"):
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow([f"a{ch}b", "x"])
        if out.getvalue().startswith('"'):
            specials += ch
    return specials


_QUOTE_CHARS = _quote_chars()
_NEEDS_QUOTES = "[" + "".join({"\n": "\\n", "\r": "\\r"}.get(c, c) for c in _QUOTE_CHARS) + "]"
_QUOTE_BYTES = [c.encode() for c in _QUOTE_CHARS]
# Python's repr prints a float positionally inside this range, with an exponent outside.
_POSITIONAL_LOW, _POSITIONAL_HIGH = 1e-4, 1e16
# Chunks formatted at once: Arrow's kernels release the GIL, so two threads use two
# cores; more would hold more chunks in memory for little gain on a small machine.
_WRITE_THREADS = max(1, min(2, os.cpu_count() or 1))
# Columns with at most this many values (booleans, segment ids and names) are written
# by code; adjacent ones as one field of at most _FUSED_MAX combinations.
_FEW_CODES = 256
_FUSED_MAX = 4096
# A field's text, and whether it starts with its own separator.
_Part = tuple[pa.Array, bool]
_COMMA = pa.scalar(",")
_LINE_END = pa.scalar("\n")


def _as_array(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _offsets(text: pa.Array) -> np.ndarray:
    """The value offsets of a (large) string array, for its own slice."""
    dtype = np.int64 if pa.types.is_large_string(text.type) else np.int32
    return np.frombuffer(text.buffers()[1], dtype=dtype)[text.offset : text.offset + len(text) + 1]


def _value_bytes(text: pa.Array) -> bytes:
    """All the characters of a string array's values, end to end, as UTF-8."""
    data = text.buffers()[2]
    if data is None or len(text) == 0:
        return b""
    offsets = _offsets(text)
    return data.slice(int(offsets[0]), int(offsets[-1] - offsets[0])).to_pybytes()


def _quote(text: pa.Array) -> pa.Array:
    """Quote fields as Python's csv module does with QUOTE_MINIMAL (pandas' default)."""
    text = _as_array(text)
    # A byte search over all values at once (memchr) settles the common case, no
    # special character anywhere, about ten times faster than a per-value regex.
    data = _value_bytes(text)
    if not any(ch in data for ch in _QUOTE_BYTES):
        return text
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs, quoted, text)


def _exponent_rows(text: pa.Array) -> np.ndarray:
    """Positions of the values written with an exponent (an ``e``) by Arrow."""
    data = _value_bytes(text)
    if b"e" not in data:
        return np.empty(0, dtype=np.intp)
    hits = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("e"))
    offsets = _offsets(text)
    return np.searchsorted(offsets - offsets[0], hits, side="right") - 1


def _python_exponent(values: np.ndarray) -> np.ndarray:
    """True where ``repr`` writes a finite value with an exponent (below 1e-4, from 1e16)."""
    with np.errstate(invalid="ignore"):
        absval = np.abs(values)
        return (absval != 0) & ((absval < _POSITIONAL_LOW) | (absval >= _POSITIONAL_HIGH))


def _float_text(values: np.ndarray) -> pa.Array:
    """``repr(float)`` of every value, as pandas writes it; NaN as an empty field."""
    arr = pa.array(values, type=pa.float64(), from_pandas=True)  # NaN -> null
    text = _as_array(pc.cast(arr, pa.string()))
    # Arrow and Python print the same shortest round-trip digits, but Arrow writes
    # 1.0 as "1" and picks an exponent whenever it is shorter (1e+11), while Python
    # uses one only below 1e-4 and from 1e16 up. Only those values are rewritten
    # (replace_with_mask), so a chunk with a few of them costs little more.
    finite = np.isfinite(values)
    odd = finite & _python_exponent(values)
    with np.errstate(invalid="ignore"):
        odd[_exponent_rows(text)] = True
        whole = finite & (values == np.trunc(values)) & ~odd
    if whole.any():
        suffixed = pc.binary_join_element_wise(text.filter(pa.array(whole)), ".0", "")
        text = pc.replace_with_mask(text, pa.array(whole), suffixed)
    if odd.any():
        fixed = pa.array([repr(float(v)) for v in values[odd]], type=pa.string())
        text = pc.replace_with_mask(text, pa.array(odd), fixed)
    return text


def _float_fields(values: np.ndarray) -> pa.Array | None:
    """``,`` then ``repr(float)`` of every value (``,`` alone for NaN): fields with their separator.

    orjson prints the same shortest round-trip digits as Python's repr, at a third
    of the cost of Arrow's cast; it differs only where Python uses an exponent
    (below 1e-4 and from 1e16 up) and on values that are not finite, which are
    rewritten. Its output ``[a,b,c]``, its first byte made a comma, is the fields
    themselves, each starting with its comma: no value is copied. None for more text
    than a string array holds.
    """
    raw = orjson.dumps(np.ascontiguousarray(values), option=orjson.OPT_SERIALIZE_NUMPY)
    data = np.frombuffer(raw, dtype=np.uint8)
    # The fields start at "[" and at each comma; the closing "]" is left out.
    offsets = np.flatnonzero(data == ord(","))
    offsets = np.concatenate([[0], offsets, [len(raw) - 1]]).astype(np.int64)
    odd = ~np.isfinite(values) | _python_exponent(values)
    rows = np.flatnonzero(odd)
    fixes = [b"," + (b"" if np.isnan(v) else repr(float(v)).encode()) for v in values[rows]]
    text, offsets = _spliced(raw, offsets, rows, fixes)
    if offsets[-1] >= 2**31:
        return None
    text[0] = ord(",")
    return pa.StringArray.from_buffers(
        len(values), pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(text)
    )


def _spliced(
    raw: bytes, offsets: np.ndarray, rows: np.ndarray, fixes: list[bytes]
) -> tuple[bytearray, np.ndarray]:
    """``raw``'s values (between ``offsets``) with those of ``rows`` replaced by ``fixes``.

    One copy of the text whatever the number of rows replaced.
    """
    pieces: list[bytes] = []
    done = 0
    for row, fix in zip(rows.tolist(), fixes, strict=True):
        pieces += [raw[done : offsets[row]], fix]
        done = int(offsets[row + 1])
    pieces.append(raw[done : offsets[-1]])
    grown = np.zeros(len(offsets), dtype=np.int64)
    grown[rows + 1] = [len(fix) for fix in fixes] - np.diff(offsets)[rows]
    return bytearray(b"".join(pieces)), offsets + np.cumsum(grown)


def _object_text(values: np.ndarray) -> pa.Array | None:
    """The CSV text of an object column of ``str``; None for other objects."""
    try:
        factorized = factorized_if_few(values)
        if factorized is not None:
            # A handful of distinct texts (segment names): each is converted and
            # quoted once, then repeated by position (2x faster than every cell).
            codes, uniques = factorized
            text = _quote(pa.array(uniques, type=pa.string(), from_pandas=True))
            return text.take(pa.array(codes, mask=codes < 0))
        return _quote(pa.array(values, type=pa.string(), from_pandas=True))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None  # mixed or unhashable objects: let pandas format them


def _categories_text(dtype: pd.CategoricalDtype) -> pa.Array | None:
    """The CSV text of each category of text; None for numbers as categories."""
    categories = pd.Series(dtype.categories)
    if not (
        pd.api.types.is_object_dtype(categories.dtype)
        or pd.api.types.is_string_dtype(categories.dtype)
    ):
        return None  # numbers as categories: pandas formats them
    return _column_text(categories)


def _category_text(col: pd.Series) -> pa.Array | None:
    """A categorical column of text: each category formatted once, repeated by position."""
    text = _categories_text(col.dtype)
    if text is None:
        return None
    codes = col.cat.codes.to_numpy()
    return _as_array(text).take(pa.array(codes, mask=codes < 0))  # -1 (missing): empty


def _column_text(col: pd.Series) -> pa.Array | None:
    """The CSV text of one column as pandas would write it; None if unsupported here."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _category_text(col)
    if (isinstance(dtype, pd.ArrowDtype) and pa.types.is_string(dtype.pyarrow_dtype)) or (
        isinstance(dtype, pd.StringDtype)
    ):
        return _quote(pc.cast(pa.array(col, from_pandas=True), pa.string()))
    if isinstance(dtype, pd.ArrowDtype) and pa.types.is_large_string(dtype.pyarrow_dtype):
        return _quote(pc.cast(pa.array(col, from_pandas=True), pa.string()))
    if dtype == np.dtype(object):
        return _object_text(col.to_numpy())
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.ArrowDtype):
        arr = pa.array(col, type=pa.bool_(), from_pandas=True)
        return pc.if_else(arr, "True", "False")
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.ArrowDtype):
        return pc.cast(pa.array(col, from_pandas=True), pa.string())
    if dtype == np.float64:
        return _float_text(col.to_numpy())
    return None


def _codes(col: pd.Series) -> tuple[np.ndarray, list[str]] | None:
    """Each row's code (-1: missing) and the CSV text of each code; None unless few values.

    Booleans, small non-negative integers (segment ids) and text categories
    (segment names) qualify.
    """
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if len(dtype.categories) > _FEW_CODES:
            return None
        names = _categories_text(dtype)
        if names is None or names.null_count:
            return None
        return col.cat.codes.to_numpy().astype(np.int64), names.to_pylist()
    if isinstance(dtype, pd.ArrowDtype) or not (
        pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype)
    ):
        return None
    missing = col.isna().to_numpy()
    values = col.to_numpy(dtype=np.int64, na_value=0)
    if pd.api.types.is_bool_dtype(dtype):
        return np.where(missing, -1, values), ["False", "True"]
    present = values[~missing]
    top = int(present.max()) if len(present) else -1
    if len(present) and (present.min() < 0 or top >= _FEW_CODES):
        return None
    return np.where(missing, -1, values), [str(i) for i in range(top + 1)]


def _slots(group: list[tuple[np.ndarray, list[str]]]) -> int:
    """How many combinations a group of coded columns has, a missing value included."""
    return int(np.prod([len(names) + 1 for _, names in group]))


def _fused_text(group: list[tuple[np.ndarray, list[str]]], lead: str, end: str) -> pa.Array:
    """The text of adjacent coded columns as one field: each combination built once."""
    combined = np.zeros(len(group[0][0]), dtype=np.int64)
    texts: list[str] = []
    for codes, names in group:
        cells = [*names, ""]  # the last slot: a missing value, an empty field
        combined = combined * len(cells) + np.where(codes < 0, len(names), codes)
        texts = cells if not texts else [f"{t},{c}" for t in texts for c in cells]
    return pa.array([lead + t + end for t in texts], type=pa.string()).take(pa.array(combined))


def _line_parts(frame: pd.DataFrame) -> tuple[list[_Part], bool] | None:
    """Each field's text, adjacent few-valued columns as one; None if a column needs pandas.

    After the first field, few-valued and float fields carry their own comma. The
    flag says whether the line end is already on the last part.
    """
    parts: list[_Part] = []
    group: list[tuple[np.ndarray, list[str]]] = []
    for name in frame.columns:
        col = frame[name]
        coded = _codes(col)
        if coded is not None and _slots([*group, coded]) <= _FUSED_MAX:
            group.append(coded)
            continue
        if group:
            parts.append((_fused_text(group, "," if parts else "", ""), bool(parts)))
            group = []
        if coded is not None:
            group.append(coded)
            continue
        fields = _float_fields(col.to_numpy()) if parts and col.dtype == np.float64 else None
        if fields is not None:
            parts.append((fields, True))
            continue
        text = _column_text(col)
        if text is None:
            return None
        parts.append((text, False))
    if group:
        parts.append((_fused_text(group, "," if parts else "", "\n"), bool(parts)))
    return parts, bool(group)


def _single_field(col: pd.Series) -> tuple[list[_Part], bool] | None:
    """The lines of a one-column table: an empty field is written ``""``, as the csv module does.

    A bare empty line would read back as no row at all.
    """
    text = _column_text(col)
    if text is None:
        return None
    empty = pc.equal(pc.fill_null(text, ""), "")
    return [(pc.if_else(empty, '""\n', pc.binary_join_element_wise(text, "\n", "")), False)], True


def _join(texts: list[pa.Array | pa.Scalar], sep: str) -> pa.Array:
    """Join row by row; a missing field is empty."""
    if not any(getattr(text, "null_count", 0) for text in texts):
        return pc.binary_join_element_wise(*texts, sep)  # no nulls: the faster kernel path
    return pc.binary_join_element_wise(*texts, sep, null_handling="replace", null_replacement="")


def _chunk_lines(frame: pd.DataFrame) -> pa.Buffer | None:
    """The CSV lines of ``frame`` (no header), or None if a column needs pandas."""
    found = _line_parts(frame) if frame.shape[1] > 1 else _single_field(frame.iloc[:, 0])
    if found is None:
        return None
    parts, ended = found
    # One join without separator: a comma goes before each later field that does not
    # carry its own, and the line end after the last unless it has it.
    pieces: list[pa.Array | pa.Scalar] = []
    for text, own_comma in parts:
        if pieces and not own_comma:
            pieces.append(_COMMA)
        pieces.append(text)
    if not ended:
        pieces.append(_LINE_END)
    lines = _as_array(pieces[0] if len(pieces) == 1 else _join(pieces, ""))
    offsets = _offsets(lines)
    return lines.buffers()[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))


def write_csv_fast(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    progress: ProgressFn | None = None,
    digest: FileDigest | None = None,
) -> Path:
    """Write ``frame`` as :func:`custseg.io.write_csv` does, byte for byte, but fast.

    Parameters
    ----------
    frame : DataFrame
        Text (object or Arrow string), integer, nullable integer, boolean and
        float64 columns are formatted with Arrow; a frame with another kind of
        column is handed to pandas unchanged.
    path : str or Path
        Written atomically.
    progress : callable, optional
        ``progress("writing", rows_done, rows_total)`` after each chunk.
    digest : FileDigest, optional
        Fed the file's bytes as they are written.

    Returns
    -------
    Path

    Notes
    -----
    Chunks of :data:`_WRITE_CHUNK_ROWS` rows are formatted by up to two threads
    and written strictly in order, so the file is the same whatever the timing.
    """
    if len(frame) == 0:
        return _hashed(write_csv(frame, path), digest)
    return write_csv_pieces(
        list(frame.columns),
        len(frame),
        lambda a, b: frame.iloc[a:b],
        path,
        progress=progress,
        digest=digest,
    )


def _hashed(path: Path, digest: FileDigest | None) -> Path:
    """``path``, its whole content fed to ``digest`` when there is one."""
    if digest is not None:
        digest.of_file(path)
    return path


def _piece_lines(
    piece: Callable[[int, int], pd.DataFrame], watch: FormulaWatch, start: int, stop: int
) -> pa.Buffer | None:
    return _chunk_lines(watch.check_at(_as_categories(piece(start, stop)), start))


def _as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text columns of few distinct values (segment names) as categories.

    Factorized once, such a column is checked for formula cells once per value and
    written by code, instead of being hashed by both; the CSV text is the same.
    """
    changed: dict[int, pd.Categorical] = {}
    for i, dtype in enumerate(frame.dtypes):
        if dtype != np.dtype(object):
            continue
        factorized = factorized_if_few(frame.iloc[:, i].to_numpy())
        if factorized is not None:  # unhashable objects stay as they are
            codes, uniques = factorized
            changed[i] = pd.Categorical.from_codes(codes, categories=uniques)
    if not changed:
        return frame
    frame = frame.copy(deep=False)
    for i, categories in changed.items():
        frame.isetitem(i, categories)
    return frame


def write_csv_pieces(
    columns: list[Any],
    n: int,
    piece: Callable[[int, int], pd.DataFrame],
    path: str | Path,
    *,
    progress: ProgressFn | None = None,
    digest: FileDigest | None = None,
) -> Path:
    """:func:`write_csv_fast` of an ``n``-row table built piece by piece.

    Rows ``start:stop`` are ``piece(start, stop)``, asked for in any order.

    ``piece`` runs in the formatting threads, so the work that makes a piece (scoring
    it) overlaps the formatting and writing of the others; it must be thread-safe.
    """
    path = Path(path)
    # Formula cells are looked for piece by piece, beside the formatting: one pass
    # fewer over the whole table.
    watch = FormulaWatch(path)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow(watch.header(columns))
    with (
        atomic_path(path) as tmp,
        open(tmp, "wb") as fh,
        ThreadPoolExecutor(max_workers=_WRITE_THREADS) as pool,
    ):
        _write(fh, header.getvalue().encode("utf-8"), digest)
        pending: deque[tuple[int, Future[pa.Buffer | None]]] = deque()
        chunks = iter(range(0, n, _WRITE_CHUNK_ROWS))
        fallback = False
        while True:
            # Keep one chunk per thread in flight: bounded memory, both cores busy.
            while len(pending) < _WRITE_THREADS:
                start = next(chunks, None)
                if start is None:
                    break
                stop = min(start + _WRITE_CHUNK_ROWS, n)
                pending.append((stop, pool.submit(_piece_lines, piece, watch, start, stop)))
            if not pending:
                break
            stop, future = pending.popleft()
            data = future.result()
            if data is None:
                fallback = True
                break
            _write(fh, data, digest)
            del data, future
            if progress is not None:
                progress("writing", stop, n)
        for _, future in pending:
            future.cancel()
        if fallback:
            fh.close()
            frame, watch = formula_checked(piece(0, n), path)  # counted afresh, over every row
            frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
            _hashed(tmp, digest)
    watch.finish()
    return path


def _write(fh: BinaryIO, data: bytes | pa.Buffer, digest: FileDigest | None) -> None:
    fh.write(data)
    if digest is not None:
        digest.update(data)


def write_parquet(table: pa.Table | pd.DataFrame, path: str | Path) -> Path:
    """Write a table as Parquet, atomically."""
    if isinstance(table, pd.DataFrame):
        table = pa.Table.from_pandas(table, preserve_index=False)
    import pyarrow.parquet as pq  # here: a CSV run is spared its import

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return Path(path)


def write_csv_auto(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    progress: ProgressFn | None = None,
    digest: FileDigest | None = None,
) -> Path:
    """:func:`write_csv_fast` for a big table, :func:`custseg.io.write_csv` else (same bytes).

    ``digest``, when given, is fed the file's bytes.
    """
    if len(frame) >= FAST_WRITE_ROWS:
        return write_csv_fast(frame, path, progress=progress, digest=digest)
    return _hashed(write_csv(frame, path), digest)


def write_table_auto(frame: pd.DataFrame, path: str | Path) -> Path:
    """:func:`custseg.io.write_table`; a big plain CSV by :func:`write_csv_fast` (same bytes)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes[-1:] in ([".parquet"], [".pq"], [".gz"]):
        return write_table(frame, path)
    return write_csv_auto(frame, path)


class CsvAppender:
    """Write a CSV in pieces, byte for byte as one ``to_csv`` of the whole table would.

    The file appears only when :meth:`close` succeeds (atomic, via
    :func:`custseg.io.atomic_path`); on an error nothing is left behind.

    Parameters
    ----------
    path : str or Path
        ``.csv`` or ``.csv.gz`` (compressed as it is written).
    columns : list of str
        The header.
    """

    def __init__(self, path: str | Path, columns: list[str]) -> None:
        self.path = Path(path)
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        # A .csv.gz: the same text, compressed as it is written.
        opener = gzip.open if table_format(self.path) == "csv.gz" else open
        self._fh = opener(self._tmp, "wb")  # closed in close() or abort()
        self._watch = FormulaWatch(self.path)
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(self._watch.header(columns))
        self._fh.write(header.getvalue().encode("utf-8"))
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (columns in header order)."""
        if not len(frame):
            return
        frame = self._watch.check(frame)
        data = _chunk_lines(frame)
        if data is None:  # a column kind the fast path does not format: pandas does
            buffer = io.StringIO()
            frame.to_csv(buffer, index=False, header=False, lineterminator="\n")
            data = buffer.getvalue().encode("utf-8")
        self._fh.write(data)
        self.rows += len(frame)

    def close(self) -> Path:
        """Finish the file and move it into place."""
        self._fh.close()
        self._atomic.__exit__(None, None, None)
        self._watch.finish()
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        self._fh.close()
        with contextlib.suppress(RuntimeError):
            self._atomic.__exit__(RuntimeError, RuntimeError("aborted"), None)


class ParquetAppender:
    """Write a Parquet file in pieces, one row group a piece; atomic as :class:`CsvAppender`.

    The schema is the first piece's; every later piece is cast to it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._atomic = atomic_path(self.path)
        self._tmp = self._atomic.__enter__()
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (the first piece's columns)."""
        if self._writer is None:
            import pyarrow.parquet as pq  # here: a CSV run is spared its import

            table = pa.Table.from_pandas(frame, preserve_index=False)
            self._writer = pq.ParquetWriter(self._tmp, table.schema)
        else:
            table = pa.Table.from_pandas(frame, schema=self._writer.schema, preserve_index=False)
        self._writer.write_table(table)
        self.rows += len(frame)

    def close(self) -> Path:
        """Finish the file and move it into place."""
        if self._writer is not None:
            self._writer.close()
        self._atomic.__exit__(None, None, None)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        with contextlib.suppress(RuntimeError):
            self._atomic.__exit__(RuntimeError, RuntimeError("aborted"), None)


def table_appender(path: str | Path, columns: list[str]) -> CsvAppender | ParquetAppender:
    """The appender for ``path``'s format (:func:`custseg.io.table_format`).

    Raises
    ------
    InputError
        An extension custseg does not write.
    """
    if table_format(Path(path)) == "parquet":
        return ParquetAppender(path)
    return CsvAppender(path, columns)
