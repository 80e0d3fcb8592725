"""The label stage: every row scored by the model's own rule, then attached to the table.

Training rows are labelled with :meth:`custseg.model.SegmentModel.score_arrays`
— the code ``custseg score`` runs — so scoring the training data later
reproduces these labels exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from custseg.model import (
    ScoreArrays,
    SegmentModel,
    attach_scores,
    segment_name_categories,
    segment_name_column,
)
from custseg.progress import ProgressFn, emit
from custseg.segmentation.sampling import put_rows

__all__ = ["Labels", "label_rows", "labelled_table"]


@dataclass
class Labels:
    """Every row's score, and the fitting rows' labels and margins.

    Attributes
    ----------
    arrays : ScoreArrays
        One entry per row: segment, distance to its centre, ``margin`` (and the
        reason where a row could not be scored).
    fit_rows : ndarray of bool
    fit_labels : ndarray of int64
        Segment of each fitting row (never empty: every fitting row is scored).
    fit_margins : ndarray of float64
    """

    arrays: ScoreArrays
    fit_rows: np.ndarray
    fit_labels: np.ndarray
    fit_margins: np.ndarray

    def put_back(self, order: np.ndarray) -> Labels:
        """Every row's score and fitting flag, the row at position ``i`` moved to ``order[i]``.

        What gathering the rows by the inverse permutation gives, without computing
        it: with ``order`` from :func:`~custseg.segmentation.prepare.in_canonical_order`,
        the input's order. ``fit_labels`` and ``fit_margins`` stay as they are.
        """
        return dataclasses.replace(
            self,
            arrays=self.arrays.each(lambda values: put_rows(values, order)),
            fit_rows=put_rows(self.fit_rows, order),
        )

    def fitted_scores(self) -> pd.DataFrame:
        """The fitting rows' ``segment``, ``distance_to_center`` and ``margin`` columns.

        As :meth:`SegmentModel.predict_matrix` gives them, without the columns the
        drift baseline does not read (ten million names cost time and memory).
        """
        arrays = self.arrays if self.fit_rows.all() else self.arrays.take(self.fit_rows)
        columns = {
            "segment": pd.arrays.IntegerArray(arrays.segment, ~arrays.scored),
            "distance_to_center": arrays.distance,
            "margin": arrays.columns["margin"],
        }
        return pd.DataFrame(columns, copy=False)


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
    arrays = model.score_arrays(X_all)
    emit(progress, "labelling", len(X_all), len(X_all))
    segment = np.where(arrays.scored, arrays.segment, -1)
    return Labels(
        arrays=arrays,
        fit_rows=fit_rows,
        fit_labels=_fitting(segment, fit_rows),
        fit_margins=_fitting(arrays.columns["margin"], fit_rows),
    )


def labelled_table(
    frame: pd.DataFrame,
    model: SegmentModel,
    labels: Labels,
    names: Mapping[int, str],
    *,
    rows_left_out: bool,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The input table, columns unchanged, followed by the scoring columns; and the
    same table for writing.

    Parameters
    ----------
    frame : DataFrame
        The input as read.
    model : SegmentModel
        The model that scored the rows.
    labels : Labels
        In the rows' order in ``frame``.
    names : mapping of int to str
        Segment id → name.
    rows_left_out : bool
        Rows were left out of fitting (``missing="drop"``): the fitted ones get an
        empty ``reason``.

    Returns
    -------
    table : DataFrame
        Segment names as text (object).
    for_writing : DataFrame
        The same columns, sharing their data, except the segment names: a categorical
        of the same texts built from the segment ids, so that a CSV writer formats
        each name once instead of hashing every row's.
    """
    scored = model.scores_frame(labels.arrays)
    scored["segment_name"] = pd.Series(
        segment_name_column(scored["segment"], dict(names)), index=scored.index, dtype=object
    )
    if rows_left_out:
        scored.loc[labels.fit_rows, "reason"] = ""
    coded = scored.copy(deep=False)
    coded["segment_name"] = segment_name_categories(scored["segment"], dict(names))
    return attach_scores(frame, scored), attach_scores(frame, coded)
