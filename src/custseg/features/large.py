"""Roles and feature parsing for big tables, with Arrow.

At millions of rows the core rules for column roles and number parsing
dominate a run. This module gives each a fast equivalent that the prepare
stage calls only for big inputs (:func:`is_large`), so a small run goes through
exactly the core code and produces exactly the core outputs. (The third big
step, the final K-Means fit, has its big-table scheme in
:class:`custseg.engines.kmeans.KMeansEngine`.)

- :func:`detect_roles_fast` decides column roles from the first
  :data:`ROLE_SAMPLE_ROWS` rows with the core rules, then counts missing and
  distinct values over every row with Arrow kernels.
- :func:`feature_matrix` parses only the feature columns with Arrow (trim, the
  core's missing-value tokens, cast to float64). Anything Arrow cannot parse is
  handed to :func:`custseg.features.roles.parse_numeric`, so errors name the same column,
  row and value as on a small file.
- :func:`count_distinct_rows` settles "more distinct rows than K?" on a leading
  slice when it can.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from custseg.features.parallel import map_in_order
from custseg.features.roles import (
    MAX_ABS_VALUE,
    NA_TOKENS,
    ColumnInfo,
    TableSchema,
    detect_roles,
    parse_numeric,
)
from custseg.io import LARGE_ROWS

__all__ = [
    "LARGE_ROWS",
    "ROLE_SAMPLE_ROWS",
    "count_distinct_rows",
    "detect_roles_fast",
    "feature_matrix",
    "is_large",
]

#: Column roles are decided on this many leading rows of a large table.
ROLE_SAMPLE_ROWS = 20_000
_NA = pa.array(sorted(NA_TOKENS), type=pa.string())
_NA_BYTES = [t.encode() for t in sorted(NA_TOKENS) if t]


def is_large(frame: pd.DataFrame) -> bool:
    """True for a table that takes the fast path: many rows, or read by the Arrow reader."""
    return len(frame) >= LARGE_ROWS or any(
        isinstance(dtype, pd.ArrowDtype) for dtype in frame.dtypes
    )


def _is_text(col: pd.Series) -> bool:
    dtype = col.dtype
    if isinstance(dtype, pd.ArrowDtype):
        return pa.types.is_string(dtype.pyarrow_dtype) or pa.types.is_large_string(
            dtype.pyarrow_dtype
        )
    return dtype == np.dtype(object) or isinstance(dtype, pd.StringDtype)


def _as_core_text(col: pd.Series) -> pd.Series:
    """A column as the core reader would give it: object ``str`` with ``""`` for missing."""
    if _is_text(col):
        values = col.astype(object)
        return values.where(col.notna(), "")
    if isinstance(col.dtype, pd.ArrowDtype):
        return pd.Series(col.to_numpy(dtype=object, na_value=np.nan), index=col.index)
    return col


def _arrow(col: pd.Series) -> pa.Array:
    arr = pa.array(col, from_pandas=True)
    return arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr


def _byte_range(text: pa.Array | pa.ChunkedArray) -> tuple[int, int, bool]:
    """Lowest and highest byte over all values, and whether any value is empty.

    A cheap look at the raw buffers (no copy) that lets :func:`_text_present` skip
    work that cannot change anything; an empty column gives ``(256, -1, False)``.
    """
    low, high, empty = 256, -1, False
    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        if len(chunk) == 0:
            continue
        wide = pa.types.is_large_string(chunk.type)
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if wide else np.int32)[
            chunk.offset : chunk.offset + len(chunk) + 1
        ]
        # A null counts as empty here: that only sends the column down the full path.
        empty = empty or bool((offsets[1:] == offsets[:-1]).any())
        if offsets[-1] > offsets[0]:
            data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
            low, high = min(low, int(data.min())), max(high, int(data.max()))
    return low, high, empty


def _text_present(col: pd.Series) -> pa.Array | pa.ChunkedArray:
    """Trimmed text with the core's missing-value tokens turned into nulls."""
    text = pa.array(col, from_pandas=True)  # Arrow-backed columns: no copy
    if not pa.types.is_string(text.type):
        text = pc.cast(text, pa.string())
    low, high, empty = _byte_range(text)
    # Every whitespace character, ASCII or not, has a byte <= 0x20 or >= 0x80: text
    # without such bytes (IDs, plain numbers) is already trimmed.
    if low <= 0x20 or high >= 0x80:
        text = pc.utf8_trim_whitespace(text)
        low, high, empty = _byte_range(text)
    # A token none of whose bytes can occur is no value here; numbers and IDs usually
    # rule out every token but the empty one, checked on its own.
    possible = [t for t in _NA_BYTES if all(low <= b <= high for b in t)]
    if possible:
        missing = pc.is_in(text, value_set=_NA)
    elif empty:
        missing = pc.equal(text, "")
    else:
        return text
    return pc.if_else(missing, pa.scalar(None, pa.string()), text)


def _count_distinct(values: pa.Array | pa.ChunkedArray, *, head_unique: bool) -> int:
    """Number of distinct non-null values."""
    if values.null_count:
        values = pc.drop_null(values)
    n = len(values)
    if head_unique and n > 1:
        # Values that only go up (or only down) have no repeats. IDs are usually
        # exported in order, and one comparison pass (under 0.1 s for ten million)
        # then replaces hashing them all (several seconds).
        for order in (pc.less, pc.greater):
            try:
                if pc.all(order(values[:-1], values[1:])).as_py():
                    return n
            except pa.ArrowNotImplementedError:  # a type without an order (dictionary)
                break
    # unique() then len(): 4x faster than count_distinct() on ten million IDs here.
    return len(pc.unique(values))


def detect_roles_fast(frame: pd.DataFrame, *, id_column: str | None = None) -> TableSchema:
    """Column roles of a large table: the core rules on a head sample, counts on all rows.

    Parameters
    ----------
    frame : DataFrame of shape (n_rows, n_columns)
        As read by :func:`custseg.io.arrow.read_table_fast` (Arrow text) or any table.
    id_column : str, optional
        As in :func:`custseg.features.roles.detect_roles`.

    Returns
    -------
    TableSchema
        Roles decided on the first :data:`ROLE_SAMPLE_ROWS` rows (a running row
        number is recognised there too); ``missing`` and ``distinct`` counted over
        every row.
    """
    head = frame.head(ROLE_SAMPLE_ROWS)
    sample = pd.DataFrame({name: _as_core_text(head[name]) for name in head.columns})
    schema = detect_roles(sample, id_column=id_column)

    def count(info: ColumnInfo) -> ColumnInfo:
        col = frame[info.name]
        present = _text_present(col) if _is_text(col) else _arrow(col)
        missing = int(present.null_count)
        head_unique = info.distinct == len(sample) - info.missing
        distinct = _count_distinct(present, head_unique=head_unique)
        return dataclasses.replace(info, missing=missing, distinct=distinct)

    return TableSchema(map_in_order(count, schema.columns))


def _core_parse(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    single = pd.DataFrame({column: _as_core_text(frame[column])})
    return parse_numeric(single, column, source=source)


def _parse_column(frame: pd.DataFrame, column: str, source: str) -> np.ndarray:
    col = frame[column]
    if not _is_text(col):
        if isinstance(col.dtype, pd.ArrowDtype) and not pd.api.types.is_numeric_dtype(col.dtype):
            return _core_parse(frame, column, source)
        values = col.to_numpy(dtype="float64", na_value=np.nan)
    else:
        present = _text_present(col)
        try:
            values = pc.cast(present, pa.float64()).to_numpy(zero_copy_only=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # Decimal commas, or a value that is not a number: the core parser handles
            # the first and words the error for the second.
            return _core_parse(frame, column, source)
        if int(np.isnan(values).sum()) != present.null_count:
            # Text such as "NAN" that Arrow reads as not-a-number but is no missing-value
            # token: the core refuses it, with its message.
            return _core_parse(frame, column, source)
    if (np.abs(values) > MAX_ABS_VALUE).any():  # infinite or too large
        return _core_parse(frame, column, source)  # raises the core's message
    return np.asarray(values, dtype="float64")


def feature_matrix(
    frame: pd.DataFrame,
    features: list[str],
    *,
    source: str = "input",
    order: Literal["C", "F"] = "C",
) -> np.ndarray:
    """Parse the feature columns of a table into a float matrix.

    Parameters
    ----------
    frame : DataFrame of shape (n_rows, n_columns)
    features : list of str
        Column names, already matched.
    source : str, default="input"
        The file name, for error messages.
    order : {"C", "F"}, default="C"
        The layout of a large table's matrix: "F" fills each column in one
        contiguous write, for callers that work column by column.

    Returns
    -------
    ndarray of shape (n_rows, n_features)
        float64, NaN for a missing cell; the same values as
        :func:`custseg.features.roles.parse_numeric` gives column by column.

    Raises
    ------
    SchemaError
        As :func:`custseg.features.roles.parse_numeric`.
    """
    if not is_large(frame):
        return np.column_stack([parse_numeric(frame, c, source=source) for c in features])
    out = np.empty((len(frame), len(features)), dtype="float64", order=order)

    def fill(j: int) -> None:
        out[:, j] = _parse_column(frame, features[j], source)

    map_in_order(fill, range(len(features)))
    return out


def count_distinct_rows(X: np.ndarray, at_least: int) -> int:
    """Number of distinct rows of ``X``; exact up to ``at_least``, a lower bound above.

    The pipeline only compares this count with K, so on a big table a leading
    slice that already has more than ``at_least`` distinct rows settles it
    without sorting every row.
    """
    if len(X) > LARGE_ROWS:
        # The shorter slice settles almost every table at a twentieth of the cost.
        for head in (LARGE_ROWS // 20, LARGE_ROWS):
            count = len(np.unique(X[:head], axis=0))
            if count > at_least:
                return count
    return len(np.unique(X, axis=0))
