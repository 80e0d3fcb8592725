"""Column roles and the conversion of text columns into numeric features.

A customer table arrives as text (see :mod:`custseg.io`). This module decides
what each column is — the customer ID, a numeric feature, a categorical column,
a date, free text, empty or constant — and turns the chosen feature columns
into numbers, naming the column, row and value of anything it cannot parse.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from custseg.errors import SchemaError

__all__ = [
    "MAX_ABS_VALUE",
    "ColumnInfo",
    "TableSchema",
    "detect_roles",
    "match_column",
    "parse_numeric",
]

# The tokens pandas reads as missing by default; a user's export tool writes one of these.
NA_TOKENS = frozenset(
    {
        "",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    }
)
#: The largest magnitude a feature value may have. Far beyond any customer quantity, and
#: small enough that squares, cubes and sums over billions of rows stay finite in float64.
MAX_ABS_VALUE = 1e50
ROLES = ("id", "numeric", "categorical", "date", "text", "empty", "constant")
_MAX_CATEGORIES = 20
_NUMERIC_SHARE = 0.9  # a column this numeric is meant to be numeric; other values are errors
_DECIMAL_COMMA = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d+$")
_ID_NAMES = re.compile(
    r"(?:^|_)(id|key|uuid|guid)$|^(customer|client|member|user|cust)_?(no|num|number|code)$"
)


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def looks_like_id_name(name: str) -> bool:
    """Return True for names such as ``id``, ``CustomerID``, ``CUST_ID`` or ``client_no``."""
    return bool(_ID_NAMES.search(_snake(name)))


@dataclass(frozen=True)
class ColumnInfo:
    """What custseg decided about one input column.

    Attributes
    ----------
    name : str
        The column name as in the file.
    role : str
        One of ``id``, ``numeric``, ``categorical``, ``date``, ``text``, ``empty``, ``constant``.
    reason : str
        Why the column has this role, in words.
    missing : int
        Number of missing cells.
    distinct : int
        Number of distinct non-missing values.
    """

    name: str
    role: str
    reason: str
    missing: int = 0
    distinct: int = 0


@dataclass
class TableSchema:
    """The roles of every column of a table, in the table's order."""

    columns: list[ColumnInfo] = field(default_factory=list)

    def by_role(self, role: str) -> list[str]:
        return [c.name for c in self.columns if c.role == role]

    @property
    def id_column(self) -> str | None:
        ids = self.by_role("id")
        return ids[0] if ids else None

    def __getitem__(self, name: str) -> ColumnInfo:
        for info in self.columns:
            if info.name == name:
                return info
        raise KeyError(name)

    def to_dict(self) -> list[dict]:
        return [info.__dict__.copy() for info in self.columns]


def _missing_mask(col: pd.Series) -> np.ndarray:
    return col.astype(str).str.strip().isin(NA_TOKENS).to_numpy()


def _to_float(values: pd.Series) -> pd.Series:
    """Parse text to float; unparseable values become NaN (callers report them)."""
    text = values.astype(str).str.strip()
    parsed = pd.to_numeric(text, errors="coerce")
    failed = parsed.isna() & ~text.isin(NA_TOKENS)
    if failed.any() and text[failed].str.match(_DECIMAL_COMMA).all():
        # European exports write 1.234,50: the whole column then uses the comma for decimals.
        swapped = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
        parsed = pd.to_numeric(swapped, errors="coerce")
    return parsed.astype("float64")


def parse_numeric(frame: pd.DataFrame, column: str, *, source: str = "input") -> np.ndarray:
    """Convert one text column into floats, with NaN for missing cells.

    Parameters
    ----------
    frame : DataFrame
        The table as read (text columns).
    column : str
        The column to convert.
    source : str, default="input"
        The file name, used in error messages.

    Returns
    -------
    ndarray of shape (n_rows,)
        float64 values; NaN where the cell is empty or a missing-value token.

    Raises
    ------
    SchemaError
        A non-missing value is not a number, or is infinite; the message names the
        column, the 1-based data row and the value.
    """
    col = frame[column]
    if pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
    else:
        parsed = _to_float(col)
        text = col.astype(str).str.strip()
        bad = parsed.isna().to_numpy() & ~text.isin(NA_TOKENS).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise SchemaError(
                f"column '{column}' in {source} must be numeric; found {col.iloc[row]!r} at "
                f"row {row + 1} ({int(bad.sum())} such value(s)). Clean the value(s), or leave "
                "the column out of --features"
            )
        values = parsed.to_numpy()
    infinite = np.isinf(values)
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise SchemaError(
            f"column '{column}' in {source} has an infinite value {col.iloc[row]!r} at row "
            f"{row + 1}; replace it with a finite number or leave it empty"
        )
    huge = np.abs(values) > MAX_ABS_VALUE
    if huge.any():
        row = int(np.flatnonzero(huge)[0])
        raise SchemaError(
            f"column '{column}' in {source} has a value too large to compute with, "
            f"{col.iloc[row]!r} at row {row + 1} (the limit is ±{MAX_ABS_VALUE:g}); correct "
            "it, or leave the column out of --features"
        )
    return values


def _looks_like_dates(text: pd.Series) -> bool:
    sample = text.head(200)
    if not sample.str.contains(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", regex=True).mean() >= 0.9:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def _classify(name: str, col: pd.Series, n_rows: int, id_column: str | None) -> ColumnInfo:
    missing_mask = _missing_mask(col)
    n_missing = int(missing_mask.sum())
    present = col[~missing_mask].astype(str).str.strip()
    distinct = int(present.nunique())
    base = dict(name=name, missing=n_missing, distinct=distinct)
    if name == id_column:
        return ColumnInfo(role="id", reason="given as the ID column", **base)
    if len(present) == 0:
        return ColumnInfo(role="empty", reason="every value is missing", **base)
    unique = distinct == len(present) and n_missing == 0
    numeric = _to_float(present)
    numeric_share = float(numeric.notna().mean())
    if id_column is None and looks_like_id_name(name) and distinct >= 0.9 * len(present):
        return ColumnInfo(role="id", reason="ID-like name with (nearly) unique values", **base)
    if numeric_share >= _NUMERIC_SHARE:
        if distinct <= 1:
            return ColumnInfo(role="constant", reason="a single value in every row", **base)
        ints = numeric.dropna()
        if (
            id_column is None
            and unique
            and n_rows >= 10
            and (ints % 1 == 0).all()
            and ints.is_monotonic_increasing
            and float(ints.iloc[-1] - ints.iloc[0]) == n_rows - 1
        ):
            return ColumnInfo(role="id", reason="a running row number (1, 2, 3, ...)", **base)
        reason = "numeric"
        if numeric_share < 1.0:
            reason = f"numeric ({(1 - numeric_share):.0%} of values are not numbers)"
        return ColumnInfo(role="numeric", reason=reason, **base)
    if _looks_like_dates(present):
        return ColumnInfo(role="date", reason="dates", **base)
    if distinct <= 1:
        return ColumnInfo(role="constant", reason="a single value in every row", **base)
    if id_column is None and unique and n_rows >= 10:
        return ColumnInfo(role="id", reason="unique text in every row", **base)
    if distinct <= _MAX_CATEGORIES and distinct <= max(2, n_rows // 2):
        return ColumnInfo(role="categorical", reason=f"{distinct} distinct values", **base)
    return ColumnInfo(role="text", reason=f"free text ({distinct} distinct values)", **base)


def detect_roles(frame: pd.DataFrame, *, id_column: str | None = None) -> TableSchema:
    """Decide the role of every column of a text table.

    Parameters
    ----------
    frame : DataFrame of shape (n_rows, n_columns)
        The table as read by :func:`custseg.io.read_table`.
    id_column : str, optional
        The ID column, when the user names it; otherwise the first column with an
        ID-like name and (nearly) unique values, a running row number, or unique text.

    Returns
    -------
    TableSchema
        One :class:`ColumnInfo` per column, in the table's order; at most one ``id``.
    """
    if id_column is not None:
        id_column = match_column(id_column, list(frame.columns), option="--id-column")
    infos: list[ColumnInfo] = []
    found_id = id_column
    for name in frame.columns:
        info = _classify(name, frame[name], len(frame), found_id)
        if info.role == "id":
            found_id = name
        infos.append(info)
    return TableSchema(infos)


def _norm(name: str) -> str:
    return re.sub(r"\s+", "", name).lower()


def match_column(requested: str, available: list[str], *, option: str = "--features") -> str:
    """Find a column by exact name, then ignoring case and spaces.

    Raises
    ------
    SchemaError
        No column matches; the message lists the available columns and suggests the closest.
    """
    if requested in available:
        return requested
    loose = [c for c in available if _norm(c) == _norm(requested)]
    if len(loose) == 1:
        return loose[0]
    close = difflib.get_close_matches(requested, available, n=1, cutoff=0.4)
    hint = f"did you mean '{close[0]}'? " if close else ""
    listing = ", ".join(f"'{c}'" for c in available)
    raise SchemaError(
        f"{option}: column '{requested}' not found; {hint}available columns: {listing}"
    )
