"""What the scoring service and the dashboard need on top of :class:`SegmentModel`.

Both delivery layers score with :meth:`SegmentModel.predict_matrix` (the same
call as ``custseg score``, so results are identical) and add what is kept here so
that it exists once:

* :func:`score_records` gives one plain record per customer, with warnings for
  values filled in or far outside the training range (the rules of
  :mod:`custseg.input_checks`, shared with ``custseg score`` and ``drift``).
* :func:`model_card` describes a model for people: features with their ranges,
  segments with their centres in original units, the training fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from custseg.explain import explain_customers
from custseg.input_checks import RANGE_TOLERANCE, value_warnings
from custseg.model import SCHEMA_VERSION, ScoreArrays, SegmentModel

__all__ = [
    "SCORE_COLUMNS",
    "SegmentMap",
    "model_card",
    "model_sha256",
    "probability_columns",
    "score_records",
]

#: The columns every model's scoring returns; engines may add probability columns.
SCORE_COLUMNS = ("segment", "segment_name", "distance_to_center")


def probability_columns(scored: pd.DataFrame) -> list[str]:
    """The engine's probability columns in a :meth:`SegmentModel.predict_matrix` result.

    Mixture engines add one float column per segment whose name starts with
    ``prob``; centroid engines add none.
    """
    return [c for c in scored.columns if str(c).lower().startswith("prob")]


def model_sha256(model: SegmentModel) -> str:
    """SHA-256 of the model's canonical JSON: changes whenever anything in the model does."""
    text = json.dumps(model.to_dict(), sort_keys=True, ensure_ascii=False, allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def model_card(model: SegmentModel) -> dict[str, Any]:
    """A plain description of ``model``: features, segments and provenance.

    Returns
    -------
    dict
        ``model_version`` (:func:`model_sha256`), ``schema_version``,
        ``custseg_version``, ``algorithm``, ``training`` (``rows``,
        ``fingerprint``, ``random_state``), ``has_probabilities``, ``features``
        (``name``, ``dtype``, ``kind``, ``min``, ``max``, ``mean``, ``std``,
        ``quantiles``) and ``segments`` (``id``, ``name``, ``size``, ``share``,
        ``center`` in original units and ``z``, the centre's z-score per feature
        against the training population).
    """
    names = model.feature_names
    centers = model.original_centers()
    mean = np.array([float(f.get("mean", np.nan)) for f in model.features])
    std = np.array([float(f.get("std", np.nan)) for f in model.features])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (centers - mean) / std
    probe = model.predict_matrix(centers[:1]) if len(centers) else pd.DataFrame()
    # Centre rows are segments 0..K-1 unless the model keeps ids across retraining.
    row_of = {int(sid): r for r, sid in enumerate(model.center_ids)}
    segments = []
    for seg in model.segments:
        sid = int(seg["id"])
        entry = {
            "id": sid,
            "name": str(seg["name"]),
            "size": int(seg.get("size", 0)),
            "share": float(seg.get("share", 0.0)),
            "center": None,
            "z": None,
        }
        if sid in row_of:
            row = row_of[sid]
            entry["center"] = {n: float(v) for n, v in zip(names, centers[row], strict=True)}
            entry["z"] = {
                n: (float(v) if np.isfinite(v) else None)
                for n, v in zip(names, z[row], strict=True)
            }
        segments.append(entry)
    features = [
        {
            "name": str(f["name"]),
            "dtype": str(f.get("dtype", "float64")),
            "kind": str(f.get("kind", "numeric")),
            "min": float(f["min"]),
            "max": float(f["max"]),
            "mean": _finite(f.get("mean")),
            "std": _finite(f.get("std")),
            "quantiles": [float(q) for q in f.get("quantiles", [])],
        }
        for f in model.features
    ]
    training = model.training
    return {
        "model_version": model_sha256(model),
        "schema_version": int(SCHEMA_VERSION),
        "custseg_version": model.custseg_version,
        "algorithm": model.algorithm,
        "training": {
            "rows": int(training.get("rows", 0)),
            "fingerprint": str(training.get("fingerprint", "")),
            "random_state": training.get("random_state"),
        },
        "has_probabilities": bool(probability_columns(probe)),
        "features": features,
        "segments": segments,
    }


def _segment_key(column: str) -> str:
    """``probability_3`` → ``"3"``: probabilities are keyed by segment id."""
    return column.removeprefix("probability_")


def _nullable(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    """Plain floats, None where not finite (JSON has no NaN)."""
    return [v if math.isfinite(v) else None for v in values.tolist()]


def _probabilities(arrays: ScoreArrays) -> list[dict[str, float | None]] | None:
    keys = [k for k in arrays.columns if k.lower().startswith("prob")]
    if not keys:
        return None
    columns = [_finite_or_none(arrays.columns[k]) for k in keys]
    ids = [_segment_key(k) for k in keys]
    return [dict(zip(ids, row, strict=True)) for row in zip(*columns, strict=True)]


def _outlier_flags(arrays: ScoreArrays) -> list[bool | None]:
    """Each row's outlier flag; None everywhere for a model without fences."""
    if "outlier" not in arrays.columns:
        return [None] * len(arrays.scored)
    return [v == 1.0 for v in arrays.columns["outlier"].tolist()]


def score_records(
    model: SegmentModel,
    X: np.ndarray,
    *,
    tolerance: float = RANGE_TOLERANCE,
    explain: bool = False,
    ids: Sequence[Any] | None = None,
) -> list[dict[str, Any]]:
    """Score rows and return one plain record per row.

    The scoring call is :meth:`SegmentModel.score_arrays`, the one behind ``custseg
    score``, so the segments and distances are identical to its output.

    Parameters
    ----------
    model : SegmentModel
    X : ndarray of shape (n_rows, n_features)
        Original units, columns in ``model.feature_names`` order; NaN = unknown.
    tolerance : float, default=0.5
        The range rule of :func:`custseg.input_checks.far_outside`.
    explain : bool, default=False
        Add why each customer is in their segment (:func:`custseg.explain.explain_customers`).
    ids : sequence of length n_rows, optional
        Each record then starts with the row's ``index`` (from 0) and ``id`` (this
        value), as the scoring service answers.

    Returns
    -------
    list of dict, length n_rows
        ``segment`` (int or None), ``segment_name`` (str or None),
        ``distance_to_center`` (float or None), ``outlier`` (bool, or None for a
        model without fences or an unscored row), ``probabilities`` (dict of
        segment id as text → probability, or None when the model has none), ``warnings``
        (values filled in or far outside the training range, see
        :func:`custseg.input_checks.value_warnings`), ``explanation`` (None unless
        ``explain``) and ``reason`` (None unless unscored).

    Raises
    ------
    SchemaError
        A value is missing and the model was trained with ``missing="error"``.
    """
    X = np.asarray(X, dtype="float64")
    arrays = model.score_arrays(X)
    n = len(X)
    explanations: list[Any] = [None] * n
    if explain:
        chosen = np.where(arrays.scored, arrays.segment, -1)
        explanations = explain_customers(model, X, chosen)
    names = model.segment_names
    segments = arrays.segment.tolist()
    probabilities = _probabilities(arrays) or [None] * n
    names_of = [names.get(seg, "") for seg in segments]
    outliers = _outlier_flags(arrays)
    if not arrays.scored.all():  # an unscored row has no segment, name or outlier flag
        for i in np.flatnonzero(~arrays.scored).tolist():
            segments[i] = names_of[i] = outliers[i] = None
    columns = [segments, names_of, _finite_or_none(arrays.distance), outliers]
    reasons = [r or None for r in arrays.reasons.tolist()] if arrays.reasons is not None else None
    rows = zip(
        *columns,
        probabilities,
        value_warnings(model, X, tolerance=tolerance),
        explanations,
        reasons or [None] * n,
        strict=True,
    )
    # Dict literals in one pass: the service scores up to 10,000 customers a request,
    # and building the records is most of its scoring time.
    if ids is None:
        return [
            {"segment": seg, "segment_name": name, "distance_to_center": dist, "outlier": out,
             "probabilities": prob, "warnings": warn, "explanation": why, "reason": reason}
            for seg, name, dist, out, prob, warn, why, reason in rows
        ]  # fmt: skip
    return [
        {"index": i, "id": key, "segment": seg, "segment_name": name, "distance_to_center": dist,
         "outlier": out, "probabilities": prob, "warnings": warn, "explanation": why,
         "reason": reason}
        for i, key, (seg, name, dist, out, prob, warn, why, reason)
        in zip(range(n), ids, rows, strict=True)
    ]  # fmt: skip


class SegmentMap:
    """A 2-D map of customers in which new customers can be placed.

    The axes are the first two principal components of the training customers'
    features, imputed and scaled exactly as the model scores them (the same
    projection as the report's segment map). A model with a single feature is
    drawn on that feature's scaled axis, with every ``y`` equal to 0.

    Parameters
    ----------
    model : SegmentModel

    Attributes
    ----------
    explained_ : tuple of float
        Share of the scaled variance on each axis (after :meth:`fit`).
    """

    def __init__(self, model: SegmentModel) -> None:
        self.model = model

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype="float64")
        X = np.where(np.isnan(X), self.model.impute_values, X)
        return self.model.scaler.transform(X)

    def fit(self, X: np.ndarray) -> SegmentMap:
        """Learn the axes from training rows ``X`` (n_rows, n_features), original units."""
        Z = self._scaled(X)
        if Z.shape[1] >= 2 and len(Z) >= 3:
            from sklearn.decomposition import PCA

            self._pca = PCA(n_components=2, svd_solver="full").fit(Z)
            ratio = self._pca.explained_variance_ratio_
            self.explained_ = (float(ratio[0]), float(ratio[1]))
        else:
            self._pca = None
            self.explained_ = (1.0, 0.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Map coordinates, shape (n_rows, 2), of rows ``X`` in original units."""
        Z = self._scaled(X)
        if self._pca is None:
            return np.column_stack([Z[:, 0], np.zeros(len(Z))])
        return self._pca.transform(Z)

    def centers(self) -> np.ndarray:
        """Map coordinates, shape (n_centres, 2), of the model's segment centres.

        Row ``r`` is the centre of segment ``model.center_ids[r]``.
        """
        return self.transform(self.model.original_centers())
