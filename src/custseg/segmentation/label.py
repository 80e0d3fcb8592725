"""The label stage: every row scored by the model's own rule, then attached to the table.

Training rows are labelled with :meth:`custseg.model.SegmentModel.predict_matrix`
— the code ``custseg score`` runs — so scoring the training data later
reproduces these labels exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.model import SegmentModel, attach_scores, segment_name_column
from custseg.progress import ProgressFn, emit

__all__ = ["Labels", "label_rows", "labelled_table"]


@dataclass
class Labels:
    """Every row's score, and the fitting rows' labels and margins.

    Attributes
    ----------
    scored : DataFrame
        One row per input row: ``segment`` (Int64), ``distance_to_center``,
        ``margin`` (and ``reason`` where a row could not be scored).
    fit_rows : ndarray of bool
    fit_labels : ndarray of int64
        Segment of each fitting row (never empty: every fitting row is scored).
    fit_margins : ndarray of float64
    """

    scored: pd.DataFrame
    fit_rows: np.ndarray
    fit_labels: np.ndarray
    fit_margins: np.ndarray

    def fitted_scores(self) -> pd.DataFrame:
        """``scored`` restricted to the fitting rows."""
        if self.fit_rows.all():
            return self.scored
        return self.scored.loc[self.fit_rows].reset_index(drop=True)


def _fitting(values: np.ndarray, fit_rows: np.ndarray) -> np.ndarray:
    """``values[fit_rows]``, without a copy when every row was fitted (the usual case)."""
    return values if fit_rows.all() else values[fit_rows]


def label_rows(
    model: SegmentModel,
    X_all: np.ndarray,
    fit_rows: np.ndarray,
    progress: ProgressFn | None = None,
) -> Labels:
    """Score every row of ``X_all`` (original units, NaN where missing) with ``model``."""
    emit(progress, "labelling", 0, len(X_all))
    scored = model.predict_matrix(X_all)
    emit(progress, "labelling", len(X_all), len(X_all))
    segment = scored["segment"].to_numpy(dtype="int64", na_value=-1)
    return Labels(
        scored=scored,
        fit_rows=fit_rows,
        fit_labels=_fitting(segment, fit_rows),
        fit_margins=_fitting(scored["margin"].to_numpy(dtype="float64"), fit_rows),
    )


def labelled_table(
    frame: pd.DataFrame, labels: Labels, names: Mapping[int, str], *, rows_left_out: bool
) -> pd.DataFrame:
    """The input table, columns unchanged, followed by the scoring columns.

    Parameters
    ----------
    frame : DataFrame
        The input as read.
    labels : Labels
        ``labels.scored`` gains its ``segment_name`` column here.
    names : mapping of int to str
        Segment id → name.
    rows_left_out : bool
        Rows were left out of fitting (``missing="drop"``): the fitted ones get an
        empty ``reason``.
    """
    scored = labels.scored
    scored["segment_name"] = pd.Series(
        segment_name_column(scored["segment"], dict(names)), index=scored.index, dtype=object
    )
    if rows_left_out:
        scored.loc[labels.fit_rows, "reason"] = ""
    return attach_scores(frame, scored)
