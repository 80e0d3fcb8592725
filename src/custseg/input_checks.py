"""What scoring does to the values it is given: the fill and the range rule.

``custseg score``, the scoring service and ``custseg drift`` all tell the user the
same two things about the customers they score, by this one module:

* **filled** values: a missing value (an empty cell, ``n/a``, JSON ``null``) of a
  model trained with ``missing="impute"`` is filled with the feature's training
  median before scoring.
* **far outside** values: a value far outside the range the model was trained on.

The range rule
--------------
For a feature trained on values in ``[min, max]``, a value is *far outside*
when it lies below ``min - tolerance × (max - min)`` or above
``max + tolerance × (max - min)``. The default ``tolerance`` is
:data:`RANGE_TOLERANCE` = 0.5: half the training range beyond either end.
A feature trained on positive values only (``min > 0``) also flags a positive
value below ``min / UNIT_FACTOR`` (:data:`UNIT_FACTOR` = 10): income trained in
dollars (15,000 to 134,000) and sent in thousands (15 to 134) lies inside the
additive band, which reaches below zero, yet every value is a thousand times
too small. Zero and negative values are left to the band: a unit mistake
does not make them. Such values are still scored — the nearest segment is well defined — but the
caller is told that the model never saw a customer like this, which is often a
unit mistake (income in dollars instead of thousands). A missing value is never
far outside.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, SupportsIndex

import numpy as np

from custseg.errors import InputError
from custseg.model import SegmentModel

__all__ = [
    "RANGE_TOLERANCE",
    "UNIT_FACTOR",
    "InputCheck",
    "check_inputs",
    "far_outside",
    "far_outside_warning",
    "filled_values",
    "filled_warning",
    "range_limits",
    "training_range",
    "value_warnings",
]

#: Default tolerance of the range rule, as a multiple of the training range.
RANGE_TOLERANCE = 0.5
#: A feature trained on positive values flags a value below its training minimum
#: divided by this: the same column written in a unit ten or more times larger.
UNIT_FACTOR = 10.0


def training_range(model: SegmentModel) -> tuple[np.ndarray, np.ndarray]:
    """Each feature's training minimum and maximum, as float64 arrays of shape (n_features,)."""
    low = np.array([float(f["min"]) for f in model.features])
    high = np.array([float(f["max"]) for f in model.features])
    return low, high


def range_limits(
    model: SegmentModel, tolerance: float = RANGE_TOLERANCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The range rule's limits per feature, each an ndarray of shape (n_features,).

    A value is far outside when it lies below ``low``, above ``high``, or is
    positive and below ``tiny`` (0 where the training minimum is not positive).

    Returns
    -------
    low, high, tiny : ndarray
    """
    if tolerance < 0:
        raise InputError(f"the range tolerance must be 0 or more; got {tolerance}")
    lo, hi = training_range(model)
    span = hi - lo
    # The additive band reaches below zero for a wide positive range: it never catches
    # values written in a unit a thousand times larger (see the module docstring).
    tiny = np.where(lo > 0, lo / UNIT_FACTOR, 0.0)
    return lo - tolerance * span, hi + tolerance * span, tiny


def far_outside(
    model: SegmentModel, X: np.ndarray, *, tolerance: float = RANGE_TOLERANCE
) -> np.ndarray:
    """The range rule: which values lie far outside their feature's training range.

    Parameters
    ----------
    model : SegmentModel
    X : ndarray of shape (n_rows, n_features)
        Values in original units, columns in ``model.feature_names`` order; NaN
        marks a missing value and is never flagged.
    tolerance : float, default=0.5
        How far beyond the training min/max a value may lie, as a multiple of the
        training range (max - min), before it is flagged.

    Returns
    -------
    ndarray of bool, shape (n_rows, n_features)
    """
    lo, hi, tiny = range_limits(model, tolerance)
    X = np.asarray(X, dtype="float64")
    with np.errstate(invalid="ignore"):
        unit = np.greater(X, 0) & np.less(X, tiny)
        return np.less(X, lo) | np.greater(X, hi) | unit


def filled_values(model: SegmentModel, X: np.ndarray) -> np.ndarray:
    """Which values scoring fills with the training median (bool, shape of ``X``).

    Only a model trained with ``missing="impute"`` fills; the others leave a
    customer with a missing value unscored (``drop``) or refuse it (``error``).
    """
    X = np.asarray(X, dtype="float64")
    if model.missing != "impute":
        return np.zeros(X.shape, dtype=bool)
    return np.isnan(X)


def filled_warning(field: str, fill: float, low: float, high: float) -> dict[str, Any]:
    """The warning for a missing value of ``field`` filled with ``fill``.

    ``low`` and ``high`` are the feature's training minimum and maximum; see
    :func:`value_warnings` for the keys.
    """
    return {
        "kind": "filled",
        "field": field,
        "value": None,
        "filled_with": fill,
        "training_min": low,
        "training_max": high,
        "message": f"'{field}' is missing and was filled with the training median {fill:g}",
    }


def far_outside_warning(
    field: str, value: float, low: float, high: float, tolerance: float
) -> dict[str, Any]:
    """The warning for ``value`` of ``field``, far outside its training range [low, high].

    See :func:`value_warnings` for the keys.
    """
    side = "below" if value < low else "above"
    return {
        "kind": "far_outside",
        "field": field,
        "value": value,
        "filled_with": None,
        "training_min": low,
        "training_max": high,
        "message": f"'{field}' = {value:g} is far {side} the training range "
        f"{low:g} to {high:g} (more than {tolerance:g} x the range beyond it); "
        "the segment is an extrapolation",
    }


def value_warnings(
    model: SegmentModel, X: np.ndarray, *, tolerance: float = RANGE_TOLERANCE
) -> list[list[dict[str, Any]]]:
    """Per row, the values scoring filled in and those far outside the training range.

    Parameters
    ----------
    model : SegmentModel
    X : ndarray of shape (n_rows, n_features)
        See :func:`far_outside`.
    tolerance : float, default=0.5

    Returns
    -------
    list of length n_rows
        For each row a list (empty for most rows) of dicts with ``kind``
        (``"filled"`` or ``"far_outside"``), ``field``, ``value`` (None when
        filled), ``filled_with`` (None unless filled), ``training_min``,
        ``training_max`` and ``message``; filled values first, then by feature.
    """
    X = np.asarray(X, dtype="float64")
    out: list[list[dict[str, Any]]] = [[] for _ in range(len(X))]
    names = model.feature_names
    low, high = (bound.tolist() for bound in training_range(model))
    for i, j in zip(*np.nonzero(filled_values(model, X)), strict=True):
        fill = float(model.impute_values[j])
        out[i].append(filled_warning(names[j], fill, low[j], high[j]))
    for i, j in zip(*np.nonzero(far_outside(model, X, tolerance=tolerance)), strict=True):
        out[i].append(far_outside_warning(names[j], float(X[i, j]), low[j], high[j], tolerance))
    return out


@dataclass(frozen=True)
class InputCheck:
    """Per feature, how many values scoring filled and how many lie far outside.

    Attributes
    ----------
    features : list of str
        The model's features, in order.
    filled : ndarray of int, shape (n_features,)
        Values filled with the training median (:func:`filled_values`).
    fill_values : ndarray of shape (n_features,)
        The value each feature's blanks were filled with.
    far_outside : ndarray of int, shape (n_features,)
        Values far outside the training range (:func:`far_outside`).
    first_filled, first_outside : ndarray of int, shape (n_features,)
        0-based row of the first such value; -1 where there is none.
    first_outside_value : ndarray of shape (n_features,)
        That value (NaN where there is none).
    training_min, training_max : ndarray of shape (n_features,)
    tolerance : float
    rows : int
    """

    features: list[str]
    filled: np.ndarray
    fill_values: np.ndarray
    far_outside: np.ndarray
    first_filled: np.ndarray
    first_outside: np.ndarray
    first_outside_value: np.ndarray
    training_min: np.ndarray
    training_max: np.ndarray
    tolerance: float
    rows: int

    def _filled(self, j: SupportsIndex) -> str:
        return (
            f"column '{self.features[j]}': {self.filled[j]:,} missing value(s) (first at row "
            f"{self.first_filled[j] + 1})"
        )

    def _outside(self, j: SupportsIndex) -> str:
        return (
            f"column '{self.features[j]}': {self.far_outside[j]:,} value(s) far outside the "
            f"training range {self.training_min[j]:g} to {self.training_max[j]:g} (first at "
            f"row {self.first_outside[j] + 1}: {self.first_outside_value[j]:g})"
        )

    def filled_sentences(self) -> list[str]:
        """One sentence per feature with filled values (none when nothing was filled)."""
        return [
            f"{self._filled(j)} filled with the training median {self.fill_values[j]:g}"
            for j in np.flatnonzero(self.filled)
        ]

    def outside_sentences(self) -> list[str]:
        """One sentence per feature with values far outside the training range."""
        return [
            f"{self._outside(j)}; their segments are extrapolations: check the units"
            for j in np.flatnonzero(self.far_outside)
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: per feature ``name``, ``filled`` and ``far_outside`` counts."""
        return {
            "tolerance": self.tolerance,
            "rows": self.rows,
            "features": [
                {"name": name, "filled": int(f), "far_outside": int(o)}
                for name, f, o in zip(self.features, self.filled, self.far_outside, strict=True)
            ],
        }

    def then(self, later: InputCheck) -> InputCheck:
        """This check followed by ``later``'s, of the rows that come next (a table in parts)."""

        def first(mine: np.ndarray, theirs: np.ndarray) -> np.ndarray:
            return np.where(mine >= 0, mine, np.where(theirs >= 0, theirs + self.rows, -1))

        return dataclasses.replace(
            self,
            filled=self.filled + later.filled,
            far_outside=self.far_outside + later.far_outside,
            first_filled=first(self.first_filled, later.first_filled),
            first_outside=first(self.first_outside, later.first_outside),
            first_outside_value=np.where(
                self.first_outside >= 0, self.first_outside_value, later.first_outside_value
            ),
            rows=self.rows + later.rows,
        )

    def refuse(self) -> None:
        """Raise for the first filled or far-outside value (what strict scoring does).

        Raises
        ------
        InputError
            Naming the column, the count, the first row and what to do.
        """
        for j in np.flatnonzero(self.filled):
            raise InputError(
                f"{self._filled(j)}, which --strict does not fill with the training median; "
                "fill them in, or score without --strict"
            )
        for j in np.flatnonzero(self.far_outside):
            raise InputError(
                f"{self._outside(j)}, which --strict refuses; check the units, or score "
                "without --strict"
            )


def _per_column(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column of ``mask``: how many rows are True, and the first of them (-1: none)."""
    # Each column copied into a contiguous run first: numpy counts and searches that
    # about fifteen times faster than a column of a row-major matrix.
    columns = np.ascontiguousarray(mask.T)
    counts = np.count_nonzero(columns, axis=1)
    if columns.shape[1] == 0:
        return counts, np.full(len(columns), -1)
    return counts, np.where(counts > 0, columns.argmax(axis=1), -1)


def check_inputs(
    model: SegmentModel, X: np.ndarray, *, tolerance: float = RANGE_TOLERANCE
) -> InputCheck:
    """Count, per feature, the values scoring fills and the values far outside.

    Parameters
    ----------
    model : SegmentModel
    X : ndarray of shape (n_rows, n_features)
        Values in original units, columns in ``model.feature_names`` order, NaN
        for missing (what :meth:`SegmentModel.feature_matrix` returns).
    tolerance : float, default=0.5
        The range rule's tolerance (:func:`far_outside`).

    Returns
    -------
    InputCheck
    """
    X = np.asarray(X, dtype="float64")
    filled, first_filled = _per_column(filled_values(model, X))
    outside, first_outside = _per_column(far_outside(model, X, tolerance=tolerance))
    picked = X[np.maximum(first_outside, 0), np.arange(X.shape[1])] if len(X) else first_outside
    training_min, training_max = training_range(model)
    return InputCheck(
        features=model.feature_names,
        filled=filled,
        fill_values=np.asarray(model.impute_values, dtype="float64"),
        far_outside=outside,
        first_filled=first_filled,
        first_outside=first_outside,
        first_outside_value=np.where(first_outside >= 0, picked, np.nan),
        training_min=training_min,
        training_max=training_max,
        tolerance=float(tolerance),
        rows=len(X),
    )
