"""What the scoring service and the dashboard need on top of :class:`SegmentModel`.

Both delivery layers score with :meth:`SegmentModel.predict_matrix` (the same
call as ``custseg score``, so results are identical) and add two things kept
here so that the rule exists once:

* :func:`range_warnings` flags values far outside the training range.
* :func:`model_card` describes a model for people: features with their ranges,
  segments with their centres in original units, the training fingerprint.

The range rule
--------------
For a feature trained on values in ``[min, max]``, a value is *far outside*
when it lies below ``min - tolerance × (max - min)`` or above
``max + tolerance × (max - min)``. The default ``tolerance`` is
:data:`RANGE_TOLERANCE` = 0.5: half the training range beyond either end.
Such values are still scored — the nearest segment is well defined — but the
caller is told that the model never saw a customer like this. A missing value
(NaN) is never flagged; the model's missing-value policy handles it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np
import pandas as pd

from custseg.model import SCHEMA_VERSION, SegmentModel

__all__ = [
    "RANGE_TOLERANCE",
    "SCORE_COLUMNS",
    "SegmentMap",
    "model_card",
    "model_sha256",
    "probability_columns",
    "range_warnings",
    "score_records",
]

#: Default tolerance of the range rule, as a multiple of the training range.
RANGE_TOLERANCE = 0.5

#: The columns every model's scoring returns; engines may add probability columns.
SCORE_COLUMNS = ("segment", "segment_name", "distance_to_center")


def _bounds(model: SegmentModel, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    lo = np.array([float(f["min"]) for f in model.features])
    hi = np.array([float(f["max"]) for f in model.features])
    span = hi - lo
    return lo - tolerance * span, hi + tolerance * span


def range_warnings(
    model: SegmentModel, X: np.ndarray, *, tolerance: float = RANGE_TOLERANCE
) -> list[list[dict[str, Any]]]:
    """Per row, the features whose value is far outside the training range.

    Parameters
    ----------
    model : SegmentModel
    X : ndarray of shape (n_rows, n_features)
        Values in original units, in the order of ``model.feature_names``; NaN
        marks a missing value and is never flagged.
    tolerance : float, default=0.5
        How far beyond the training min/max a value may lie, as a multiple of the
        training range (max - min), before it is flagged.

    Returns
    -------
    list of length n_rows
        For each row a list (empty for most rows) of dicts with ``field``,
        ``value``, ``training_min``, ``training_max`` and ``message``.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0; got {tolerance}")
    X = np.asarray(X, dtype="float64")
    lo, hi = _bounds(model, tolerance)
    with np.errstate(invalid="ignore"):
        flagged = np.less(X, lo) | np.greater(X, hi)
    out: list[list[dict[str, Any]]] = [[] for _ in range(len(X))]
    names = model.feature_names
    for i, j in zip(*np.nonzero(flagged), strict=True):
        feature = model.features[j]
        value = float(X[i, j])
        side = "below" if value < lo[j] else "above"
        out[i].append(
            {
                "field": names[j],
                "value": value,
                "training_min": float(feature["min"]),
                "training_max": float(feature["max"]),
                "message": (
                    f"'{names[j]}' = {value:g} is far {side} the training range "
                    f"{float(feature['min']):g} to {float(feature['max']):g} (more than "
                    f"{tolerance:g} x the range beyond it); the segment is an extrapolation"
                ),
            }
        )
    return out


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
    centers = model.scaler.inverse_transform(model.centers)
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


def score_records(
    model: SegmentModel, X: np.ndarray, *, tolerance: float = RANGE_TOLERANCE
) -> list[dict[str, Any]]:
    """Score rows and return one plain record per row.

    The scoring call is :meth:`SegmentModel.predict_matrix`, the one ``custseg
    score`` makes, so the segments and distances are identical to its output.

    Parameters
    ----------
    model : SegmentModel
    X : ndarray of shape (n_rows, n_features)
        Original units, columns in ``model.feature_names`` order; NaN = unknown.
    tolerance : float, default=0.5
        The range rule of :func:`range_warnings`.

    Returns
    -------
    list of dict, length n_rows
        ``segment`` (int or None), ``segment_name`` (str or None),
        ``distance_to_center`` (float or None), ``probabilities`` (dict of
        segment id as text → probability, or None when the model has none), ``warnings``
        (see :func:`range_warnings`) and ``reason`` (None unless unscored).

    Raises
    ------
    SchemaError
        A value is missing and the model was trained with ``missing="error"``.
    """
    scored = model.predict_matrix(X)
    flags = range_warnings(model, X, tolerance=tolerance)
    prob_cols = probability_columns(scored)
    segment = scored["segment"].to_numpy(dtype="float64", na_value=np.nan)
    distance = scored["distance_to_center"].to_numpy(dtype="float64")
    names = scored["segment_name"].to_numpy(dtype=object)
    reasons = scored["reason"].to_numpy(dtype=object) if "reason" in scored else None
    probs = scored[prob_cols].to_numpy(dtype="float64") if prob_cols else None
    records = []
    for i in range(len(scored)):
        unscored = np.isnan(segment[i])
        records.append(
            {
                "segment": None if unscored else int(segment[i]),
                "segment_name": None if unscored else str(names[i]),
                "distance_to_center": _nullable(distance[i]),
                "probabilities": (
                    None
                    if probs is None
                    else {
                        _segment_key(c): _nullable(v)
                        for c, v in zip(prob_cols, probs[i], strict=True)
                    }
                ),
                "warnings": flags[i],
                "reason": (str(reasons[i]) or None) if reasons is not None else None,
            }
        )
    return records


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
        return self.transform(self.model.scaler.inverse_transform(self.model.centers))
