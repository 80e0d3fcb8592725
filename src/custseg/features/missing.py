"""Missing feature values: one policy and one set of messages for every backend.

A backend counts what is missing (all rows in memory, batch by batch, or with
Spark) into :class:`MissingCounts`; :func:`apply_missing_policy` then refuses
the table or says what will be done, in the same words whichever backend
counted. The policies:

``impute``
    A missing value is filled with the feature's median (:func:`impute_values`),
    so that a few extreme customers do not move the fill; the row is fitted.
``drop``
    The row is left out of fitting; it stays in the output with an empty
    segment and a reason.
``error``
    The table is refused, naming the first missing value.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from custseg.errors import DataWarning, SchemaError

__all__ = [
    "MISSING_POLICIES",
    "MissingCounts",
    "apply_missing_policy",
    "fill_values",
    "fitting_rows",
    "impute_values",
]

MISSING_POLICIES = ("impute", "drop", "error")


@dataclass(frozen=True)
class MissingCounts:
    """What is missing in the feature columns.

    Attributes
    ----------
    features : tuple of str
    per_feature : tuple of int
        Missing values per feature, in ``features`` order.
    rows_with_missing : int
        Rows with at least one missing feature value.
    first_row : int or None
        0-based position of the first such row in the table.
    first_feature : int or None
        Index (into ``features``) of that row's first missing value.
    """

    features: tuple[str, ...]
    per_feature: tuple[int, ...]
    rows_with_missing: int = 0
    first_row: int | None = None
    first_feature: int | None = None

    @classmethod
    def of(
        cls, is_missing: np.ndarray, features: Sequence[str], *, row_offset: int = 0
    ) -> MissingCounts:
        """Count a missing-value mask of shape (n_rows, n_features).

        ``row_offset`` is the position of the mask's first row in the table, for a batch.
        """
        rows = is_missing.any(axis=1)
        first_row = first_feature = None
        if rows.any():
            first = int(np.flatnonzero(rows)[0])
            first_row = row_offset + first
            first_feature = int(np.flatnonzero(is_missing[first])[0])
        return cls(
            features=tuple(features),
            per_feature=tuple(int(n) for n in is_missing.sum(axis=0)),
            rows_with_missing=int(rows.sum()),
            first_row=first_row,
            first_feature=first_feature,
        )

    def __add__(self, later: MissingCounts) -> MissingCounts:
        """The counts of this part of the table followed by ``later`` rows."""
        first = self if self.first_row is not None else later
        return MissingCounts(
            features=self.features,
            per_feature=tuple(
                a + b for a, b in zip(self.per_feature, later.per_feature, strict=True)
            ),
            rows_with_missing=self.rows_with_missing + later.rows_with_missing,
            first_row=first.first_row,
            first_feature=first.first_feature,
        )

    def as_dict(self) -> dict[str, int]:
        """Feature name → missing values."""
        return dict(zip(self.features, self.per_feature, strict=True))


def apply_missing_policy(
    policy: str,
    counts: MissingCounts,
    source: str,
    *,
    output: str = "segments.csv",
    median_rows: int | None = None,
) -> None:
    """Refuse the table (``error``) or warn what is done with missing values.

    Parameters
    ----------
    policy : {"impute", "drop", "error"}
    counts : MissingCounts
    source : str
        The input, for the message.
    output : str, default="segments.csv"
        Where the rows left out by ``drop`` appear.
    median_rows : int, optional
        When the imputation median was computed on a sample, its number of rows.

    Raises
    ------
    SchemaError
        With ``policy="error"`` and a missing value, naming its column and row.
    """
    n_rows = counts.rows_with_missing
    if not n_rows:
        return
    if policy == "error":
        column = counts.features[counts.first_feature or 0]
        row = (counts.first_row or 0) + 1
        raise SchemaError(
            f"column '{column}' in {source} has a missing value at row {row} "
            f"({n_rows} row(s) affected); fill it, or pass missing='impute' or missing='drop'"
        )
    if policy == "impute":
        listed = ", ".join(f"'{f}': {n}" for f, n in counts.as_dict().items() if n)
        sample = "" if median_rows is None else f" of a sample of {median_rows} rows"
        warnings.warn(
            f"missing values imputed with the column median{sample} ({listed})",
            DataWarning,
            stacklevel=3,
        )
    else:
        warnings.warn(
            f"{n_rows} row(s) with missing values left out of fitting; they appear in "
            f"{output} with an empty segment and a reason",
            DataWarning,
            stacklevel=3,
        )


def impute_values(X: np.ndarray) -> np.ndarray:
    """Per-feature median of the non-missing values (the fill of the ``impute`` policy).

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        NaN where missing.

    Returns
    -------
    ndarray of shape (n_features,)
        0 for a feature with no value at all.
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-missing column
        medians = np.nanmedian(X, axis=0) if X.size else np.zeros(X.shape[1])
    return fill_values(medians)


def fill_values(medians: np.ndarray | Sequence[float | None]) -> np.ndarray:
    """Medians computed elsewhere (a sample, Spark) as fill values: none missing, float64."""
    values = np.array([np.nan if m is None else m for m in medians], dtype="float64")
    return np.where(np.isnan(values), 0.0, values)


def fitting_rows(
    X: np.ndarray, policy: str, fill: np.ndarray, is_missing: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The rows a model is fitted on, and which rows of ``X`` they are.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        NaN where missing.
    policy : {"impute", "drop"}
        ``error`` has been applied already: there is nothing missing.
    fill : ndarray of shape (n_features,)
    is_missing : ndarray of bool, optional
        ``np.isnan(X)``, when already computed.

    Returns
    -------
    X_fit : ndarray
        ``X`` itself when nothing is missing; else missing values filled
        (``impute``) or rows with one left out (``drop``).
    rows : ndarray of bool, shape (n_rows,)
    """
    is_missing = np.isnan(X) if is_missing is None else is_missing
    # numpy types any(axis=...) as a scalar or an array; over rows it is an array.
    row_missing = np.asarray(is_missing.any(axis=1))
    rows = ~row_missing if policy == "drop" else np.ones(len(X), dtype=bool)
    if not row_missing.any():
        return X, rows
    return np.where(is_missing, fill, X)[rows], rows
