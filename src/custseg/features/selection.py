"""Which columns become features, and what is said about the others.

Shared by every backend: the in-memory pipeline on the whole table, the chunked
and Spark backends on the rows their roles were decided on.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from custseg.errors import DataWarning, SchemaError
from custseg.features.roles import SKIP_REASONS, TableSchema, match_column

__all__ = ["choose_features", "drop_constant_features", "require_amounts", "require_features"]


def choose_features(
    frame: pd.DataFrame, schema: TableSchema, wanted: Sequence[str] | None
) -> tuple[list[str], list[dict[str, Any]]]:
    """The feature columns, and every other column with the reason it is not one.

    Parameters
    ----------
    frame : DataFrame
        The table (or the rows its roles were decided on).
    schema : TableSchema
    wanted : sequence of str, optional
        Named features (matched exactly, then ignoring case and spaces); None
        takes every numeric column.

    Returns
    -------
    features : list of str
        Column names as in ``frame``, in the order named (or of the table).
    skipped : list of dict
        ``column``, ``role`` and ``reason`` of each column not chosen.

    Raises
    ------
    SchemaError
        A named column is unknown, entirely empty, or the customer ID.
    """
    chosen = _named(frame, schema, wanted) if wanted else _numeric(frame, schema)
    skipped: list[dict[str, Any]] = []
    for info in schema.columns:
        if info.name in chosen:
            continue
        reason = info.skip_reason
        if info.role in ("unreadable", "prediction"):
            it = "it " if info.role == "unreadable" else ""
            warnings.warn(
                f"column '{info.name}' is skipped: {it}{info.reason}",
                DataWarning,
                stacklevel=3,
            )
        if info.role == "empty":
            warnings.warn(
                f"column '{info.name}' is entirely empty and is skipped",
                DataWarning,
                stacklevel=3,
            )
        skipped.append({"column": info.name, "role": info.role, "reason": reason})
    return chosen, skipped


def _named(frame: pd.DataFrame, schema: TableSchema, wanted: Sequence[str]) -> list[str]:
    chosen: list[str] = []
    columns = list(frame.columns)
    for name in wanted:
        col = match_column(name.strip(), columns)
        role = schema[col].role
        if role == "empty":
            raise SchemaError(
                f"column '{col}' is entirely empty; fill it or leave it out of features",
                parameters=("features",),
            )
        if role == "id":
            raise SchemaError(
                f"column '{col}' is the customer ID, not a feature; leave it out of features "
                "(or name another id_column)",
                parameters=("features", "id_column"),
            )
        if col not in chosen:
            chosen.append(col)
    return chosen


def _numeric(frame: pd.DataFrame, schema: TableSchema) -> list[str]:
    # A numeric constant is kept here so that the constant-feature warning names it.
    return [
        info.name
        for info in schema.columns
        if info.role == "numeric"
        or (info.role == "constant" and _is_numeric_constant(frame[info.name]))
    ]


def _is_numeric_constant(col: pd.Series) -> bool:
    try:
        pd.to_numeric(col.astype(str).str.strip())
    except (ValueError, TypeError):
        return False
    return True


def require_features(features: Sequence[str], schema: TableSchema, source: str) -> None:
    """Refuse a run without a feature, listing the columns and their roles."""
    if not features:
        raise SchemaError(
            f"no usable numeric feature in {source}; the columns are "
            + ", ".join(f"'{c.name}' ({c.role})" for c in schema.columns)
            + ". Name numeric columns in features",
            parameters=("features",),
        )


def require_amounts(features: Sequence[str], schema: TableSchema, backend: str) -> None:
    """Refuse a categorical, code or flag feature on a backend that takes amounts only.

    The chunked and Spark backends encode no indicators; used as an amount, a Region
    code 1/2/3 or a 0/1 flag would be averaged like money.
    """
    for name in features:
        role = schema[name].role
        if role in ("categorical", "code", "flag"):
            raise SchemaError(
                f"column '{name}' is a {role} ({schema[name].reason}); the {backend} backend "
                "takes numeric features only: leave it out of features, or segment in memory",
                parameters=("features",),
            )


def drop_constant_features(
    X: np.ndarray, features: list[str], skipped: list[dict[str, Any]], source: str
) -> tuple[np.ndarray, list[str]]:
    """Leave out features with a single value; warn and add them to ``skipped``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        NaN where missing.
    features : list of str
    skipped : list of dict
        Extended in place.
    source : str

    Returns
    -------
    X : ndarray of shape (n_rows, n_kept)
        Column-major: a column selection (a copy), or ``X`` itself when it is
        column-major already and nothing is dropped.
    features : list of str

    Raises
    ------
    SchemaError
        Every feature is constant.
    """
    lo, hi = _column_ranges(X)
    constant = [j for j in range(X.shape[1]) if not hi[j] > lo[j]]
    for j in constant:
        warnings.warn(
            f"feature '{features[j]}' has a single value and is dropped",
            DataWarning,
            stacklevel=3,
        )
        skipped.append(
            {"column": features[j], "role": "constant", "reason": SKIP_REASONS["constant"]}
        )
    keep = [j for j in range(len(features)) if j not in constant]
    kept = [features[j] for j in keep]
    if not kept:
        raise SchemaError(
            f"no usable numeric feature in {source}: every chosen feature is constant; "
            "choose other columns in features",
            parameters=("features",),
        )
    # The selection is column-major also when nothing is dropped: the scaler,
    # metrics and summaries are computed on that layout, and column sums round
    # differently on a row-major matrix.
    if len(keep) == X.shape[1] and X.ndim == 2 and X.flags.f_contiguous:
        return X, kept
    return _column_major(X, keep), kept


def _column_ranges(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nanmin(X, axis=0)`` and ``np.nanmax(X, axis=0)`` (NaN for an all-missing column).

    Reduced one column at a time: on a row-major matrix several times faster
    than along axis 0, with the same values.
    """
    if not len(X):
        with warnings.catch_warnings(), np.errstate(invalid="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmin(X, axis=0), np.nanmax(X, axis=0)
    columns = [X[:, j] for j in range(X.shape[1])]
    lo = np.array([np.fmin.reduce(col) for col in columns], dtype=X.dtype)
    hi = np.array([np.fmax.reduce(col) for col in columns], dtype=X.dtype)
    return lo, hi


def _column_major(X: np.ndarray, keep: list[int]) -> np.ndarray:
    """``X[:, keep]``: for a row- or column-major ``X`` the same column-major copy, a
    column at a time."""
    if not (X.flags.c_contiguous or X.flags.f_contiguous) or X.ndim != 2:
        return X[:, keep]
    out = np.empty((X.shape[0], len(keep)), dtype=X.dtype, order="F")
    for i, j in enumerate(keep):
        out[:, i] = X[:, j]
    return out
