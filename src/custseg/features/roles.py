"""Column roles and the conversion of text columns into numeric features.

A customer table arrives as text (see :mod:`custseg.io`). This module decides
what each column is — the customer ID, a numeric feature, a categorical column,
a date, free text, empty or constant — and turns the chosen feature columns
into numbers, naming the column, row and value of anything it cannot parse.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypedDict

import numpy as np
import pandas as pd

from custseg.errors import SchemaError
from custseg.features.derived import derived_roles
from custseg.features.parsing import NUMBER_LIKE, parse_number_text, undress

__all__ = [
    "MAX_ABS_VALUE",
    "SKIP_REASONS",
    "ColumnInfo",
    "TableSchema",
    "detect_roles",
    "match_column",
    "parse_numeric",
    "refuse_first_bad",
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
ROLES = (
    "id",
    "numeric",
    "flag",
    "code",
    "categorical",
    "date",
    "text",
    "unreadable",
    "prediction",
    "derived",
    "custseg",
    "empty",
    "constant",
)
#: Why a column of a role is not a feature; the other roles give their own reason.
SKIP_REASONS = {
    "id": "customer ID",
    "date": "dates are not used as features",
    "empty": "every value is missing",
    "constant": "a single value in every row",
    "numeric": "not selected in --features",
}
_MAX_CATEGORIES = 20
_NUMERIC_SHARE = 0.9  # a column this numeric is meant to be numeric; other values are errors
#: Whole-number columns with at most this many values and no 0 are codes even when
#: their name says nothing (Channel 1/2, Region 1/2/3); see :func:`detect_roles`.
MAX_UNNAMED_CODES = 4
# Below this many rows a few repeated numbers say nothing about labels versus amounts.
_MIN_LABEL_ROWS = 10
_ID_NAMES = re.compile(
    r"(?:^|_)(id|key|uuid|guid)$|^(customer|client|member|user|cust)_?(no|num|number|code)$"
)
#: Words of a column name that make a few whole numbers a code (labels, not amounts).
CODE_WORDS = frozenset(
    {
        "area",
        "branch",
        "brand",
        "category",
        "channel",
        "city",
        "class",
        "cluster",
        "code",
        "country",
        "department",
        "dept",
        "district",
        "division",
        "gender",
        "group",
        "location",
        "market",
        "outlet",
        "plan",
        "region",
        "sector",
        "sex",
        "shop",
        "site",
        "source",
        "state",
        "status",
        "store",
        "territory",
        "tier",
        "type",
        "zone",
    }
)
#: Words of a column name that make a few whole numbers a count (an amount).
COUNT_WORDS = frozenset(
    {
        "children",
        "cnt",
        "count",
        "days",
        "dependent",
        "dependents",
        "frequency",
        "items",
        "kids",
        "members",
        "mon",
        "months",
        "nb",
        "num",
        "number",
        "orders",
        "purchases",
        "qty",
        "quantity",
        "recency",
        "tenure",
        "times",
        "transactions",
        "trx",
        "visits",
        "weeks",
        "years",
    }
)
#: Text pairs read as a flag; the first word of each pair is "yes".
YES_NO = (("yes", "no"), ("y", "n"), ("true", "false"), ("t", "f"))
#: Columns that custseg segment and custseg score write. A table holding the first
#: three is a custseg output: these columns are not customer attributes.
SCORE_COLUMNS = (
    "segment",
    "segment_name",
    "distance_to_center",
    "margin",
    "borderline",
    "outlier",
    "confidence",
    "reason",
)
_OUTPUT_SIGNATURE = ("segment", "segment_name", "distance_to_center")
_WRITTEN = re.compile(r"^(?:" + "|".join(SCORE_COLUMNS) + r"|probability_\d+)(?:_custseg)*$")


def _snake(name: str) -> str:
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip())
    return re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()


def looks_like_id_name(name: str) -> bool:
    """Return True for names such as ``id``, ``CustomerID``, ``CUST_ID`` or ``client_no``."""
    return bool(_ID_NAMES.search(_snake(name)))


class _Counts(TypedDict):
    """The fields of a :class:`ColumnInfo` known before its role is decided."""

    name: str
    missing: int
    distinct: int


@dataclass(frozen=True)
class ColumnInfo:
    """What custseg decided about one input column.

    Attributes
    ----------
    name : str
        The column name as in the file.
    role : str
        One of :data:`ROLES`: ``id``, ``numeric``, ``flag`` (0/1 or yes/no), ``code``
        (a few whole numbers that label, not count: Channel 1/2, Region 1/2/3),
        ``categorical``, ``date``, ``text``, ``unreadable`` (looks numeric, but some
        values are not numbers), ``prediction`` (a model's output, such as a
        classifier's probability of another column), ``derived`` (a score in bands
        of another column: ``r_score`` beside ``recency_days``), ``custseg``
        (written by an earlier custseg run), ``empty``, ``constant``.
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

    @property
    def skip_reason(self) -> str:
        """Why the column is not a feature when it is not chosen, in words."""
        if self.role == "categorical":
            return f"categorical ({self.reason}); name it in --features to use it"
        if self.role == "flag":
            return f"{self.reason}; name it in --features to use it as an indicator"
        if self.role == "code":
            return f"{self.reason}; name it in --features to use it as categories"
        if self.role in ("prediction", "derived"):
            return f"{self.reason}; name it in --features to use it"
        return SKIP_REASONS.get(self.role, self.reason)


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
    """Parse text to float (:mod:`custseg.features.parsing`); unparseable values become NaN."""
    text = values.astype(str).str.strip()
    parsed = parse_number_text(text.where(~text.isin(NA_TOKENS), ""))
    return pd.Series(parsed.values, index=values.index)


def parse_numeric(frame: pd.DataFrame, column: str, *, source: str = "input") -> np.ndarray:
    """Convert one text column into floats, with NaN for missing cells.

    Numbers written with thousands separators, currency symbols or a percent sign
    are read by the rule of :mod:`custseg.features.parsing`.

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
    if isinstance(col.dtype, pd.ArrowDtype) and not pd.api.types.is_numeric_dtype(col):
        # Arrow text (the reader of a large table): a missing cell is an empty one.
        col = col.astype(object).where(col.notna(), "")
    if pd.api.types.is_numeric_dtype(col):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
    else:
        parsed = _to_float(col)
        text = col.astype(str).str.strip()
        bad = parsed.isna().to_numpy() & ~text.isin(NA_TOKENS).to_numpy()
        refuse_first_bad(
            bad,
            col,
            lambda value, row: (
                f"column '{column}' in {source} must be numeric; found {value!r} at row {row} "
                f"({int(bad.sum())} such value(s)). Clean the value(s), or leave the column "
                "out of --features"
            ),
        )
        values = parsed.to_numpy()
    refuse_first_bad(
        np.isinf(values),
        col,
        lambda value, row: (
            f"column '{column}' in {source} has an infinite value {value!r} at row {row}; "
            "replace it with a finite number or leave it empty"
        ),
    )
    refuse_first_bad(
        np.abs(values) > MAX_ABS_VALUE,
        col,
        lambda value, row: (
            f"column '{column}' in {source} has a value too large to compute with, {value!r} "
            f"at row {row} (the limit is ±{MAX_ABS_VALUE:g}); correct it, or leave the column "
            "out of --features"
        ),
    )
    return values


def refuse_first_bad(
    bad: np.ndarray, values: pd.Series, message: Callable[[object, int], str]
) -> None:
    """Raise :class:`SchemaError` naming the first row where ``bad`` is True.

    Parameters
    ----------
    bad : ndarray of bool, shape (n_rows,)
        The rows whose value breaks the rule.
    values : Series of shape (n_rows,)
        The column as read: the message quotes the value as the user wrote it.
    message : callable
        ``message(value, row)``, with ``row`` counted from 1, gives the error's text.

    Raises
    ------
    SchemaError
        When any row is bad.
    """
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise SchemaError(message(values.iloc[row], row + 1))


def _looks_like_dates(text: pd.Series) -> bool:
    sample = text.head(200)
    if not sample.str.contains(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", regex=True).mean() >= 0.9:
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def is_custseg_output(columns: list[str]) -> bool:
    """True for a table that custseg wrote (``segments.csv``, a scored file)."""
    return all(name in columns for name in _OUTPUT_SIGNATURE)


def _name_words(name: str) -> set[str]:
    return set(_snake(name).split("_"))


def _yes_no(present: pd.Series) -> tuple[str, str] | None:
    """The yes/no pair that the two distinct values of a text column form, if any."""
    values = set(present.drop_duplicates().head(50).str.lower())
    for pair in YES_NO:
        if values == set(pair):
            return pair
    return None


def _whole_number_role(name: str, values: pd.Series, n_rows: int) -> tuple[str, str] | None:
    """``("flag" | "code" | "numeric", reason)`` for a column of few whole numbers, else None.

    The rule (docs/columns.md): 0/1 is a flag. A handful of whole numbers is a
    code when the name says it labels (``Region``, ``Channel``, ``Store``), a
    count when the name says it counts (``Kidhome`` has no such word, but its 0
    does: counts and amounts include 0, codes are numbered from 1).
    """
    if n_rows < _MIN_LABEL_ROWS:
        return None
    distinct = np.unique(values.to_numpy())
    if set(distinct.tolist()) == {0.0, 1.0}:
        return "flag", "0/1 values: a flag"
    if (
        not np.isfinite(distinct).all()
        or (distinct % 1 != 0).any()
        or len(distinct) > min(_MAX_CATEGORIES, max(2, n_rows // 2))
    ):
        return None
    shown = ", ".join(f"{v:g}" for v in distinct[:5]) + (", ..." if len(distinct) > 5 else "")
    words = _name_words(name)
    if words & COUNT_WORDS:
        return "numeric", f"numeric (a count: the name says so; values {shown})"
    if words & CODE_WORDS:
        word = sorted(words & CODE_WORDS)[0]
        return "code", f"a code: {len(distinct)} whole-number labels ({shown}), named '{word}'"
    if len(distinct) <= MAX_UNNAMED_CODES and distinct[0] > 0:
        return "code", (
            f"a code: {len(distinct)} whole-number labels ({shown}) and no 0 (counts and "
            "amounts have zeros)"
        )
    return None


def _numeric_role(
    name: str, numeric: pd.Series, n_rows: int, base: _Counts, unique: bool, id_column: str | None
) -> ColumnInfo:
    """The role of a column whose values are (at least 90%) numbers."""
    ints = numeric.dropna()
    if base["distinct"] <= 1:
        return ColumnInfo(role="constant", reason="a single value in every row", **base)
    if (
        id_column is None
        and unique
        and n_rows >= 10
        and (ints % 1 == 0).all()
        and ints.is_monotonic_increasing
        and float(ints.iloc[-1] - ints.iloc[0]) == n_rows - 1
    ):
        return ColumnInfo(role="id", reason="a running row number (1, 2, 3, ...)", **base)
    few = _whole_number_role(name, ints, n_rows)
    if few is not None:
        return ColumnInfo(role=few[0], reason=few[1], **base)
    share = float(numeric.notna().mean())
    reason = "numeric"
    if share < 1.0:
        reason = f"numeric ({(1 - share):.0%} of values are not numbers)"
    return ColumnInfo(role="numeric", reason=reason, **base)


def _unreadable(present: pd.Series, numeric: pd.Series) -> str | None:
    """Why a column that looks numeric is not read as numbers; None when it does not."""
    bare = undress(present)
    looks = bare.str.match(NUMBER_LIKE).to_numpy()
    if looks.mean() < _NUMERIC_SHARE:
        return None
    failed = present[looks & numeric.isna().to_numpy()]
    return (
        f"looks numeric, but {len(failed)} of {len(present)} values are not numbers in one "
        f"format (e.g. {str(failed.min())!r}); fix them to use the column"
    )


def _classify(name: str, col: pd.Series, n_rows: int, id_column: str | None) -> ColumnInfo:
    missing_mask = _missing_mask(col)
    n_missing = int(missing_mask.sum())
    present = col[~missing_mask].astype(str).str.strip()
    distinct = int(present.nunique())
    base = _Counts(name=name, missing=n_missing, distinct=distinct)
    if name == id_column:
        return ColumnInfo(role="id", reason="given as the ID column", **base)
    if len(present) == 0:
        return ColumnInfo(role="empty", reason="every value is missing", **base)
    unique = distinct == len(present) and n_missing == 0
    numeric = _to_float(present)
    if id_column is None and looks_like_id_name(name) and distinct >= 0.9 * len(present):
        return ColumnInfo(role="id", reason="ID-like name with (nearly) unique values", **base)
    if float(numeric.notna().mean()) >= _NUMERIC_SHARE:
        return _numeric_role(name, numeric, n_rows, base, unique, id_column)
    if _looks_like_dates(present):
        return ColumnInfo(role="date", reason="dates", **base)
    if distinct <= 1:
        return ColumnInfo(role="constant", reason="a single value in every row", **base)
    unreadable = _unreadable(present, numeric)
    if unreadable is not None:
        return ColumnInfo(role="unreadable", reason=unreadable, **base)
    if id_column is None and unique and n_rows >= 10:
        return ColumnInfo(role="id", reason="unique text in every row", **base)
    if _yes_no(present) is not None:
        return ColumnInfo(role="flag", reason="yes/no values: a flag", **base)
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
        In a custseg output (:func:`is_custseg_output`) the columns custseg wrote
        have the role ``custseg``.
    """
    columns = [str(c) for c in frame.columns]
    if id_column is not None:
        id_column = match_column(id_column, columns, option="--id-column")
    output = is_custseg_output(columns)
    infos: list[ColumnInfo] = []
    found_id = id_column
    for name in frame.columns:
        if output and name != id_column and _WRITTEN.match(str(name)):
            infos.append(
                ColumnInfo(
                    name=name,
                    role="custseg",
                    reason="written by an earlier custseg run, not a customer attribute",
                )
            )
            continue
        info = _classify(name, frame[name], len(frame), found_id)
        if info.role == "id":
            found_id = name
        infos.append(info)
    return TableSchema(_with_derived(frame, infos))


def _with_derived(frame: pd.DataFrame, infos: list[ColumnInfo]) -> list[ColumnInfo]:
    """Numeric columns that are a model's output or a score of another column, marked so."""
    words = {str(c.name): tuple(_snake(str(c.name)).split("_")) for c in infos}
    numeric = [str(c.name) for c in infos if c.role == "numeric"]

    @functools.cache
    def values(name: str) -> pd.Series:
        return _to_float(frame[name])

    found = derived_roles(words, numeric, values)
    return [
        dataclasses.replace(c, role=found[c.name][0], reason=found[c.name][1])
        if c.name in found
        else c
        for c in infos
    ]


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
