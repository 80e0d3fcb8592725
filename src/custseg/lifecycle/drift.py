"""Drift: do the segments still fit the customers?

:func:`drift` scores a new customer table with a saved model — without
refitting — and compares it with what the model saw in training. Four signals,
each graded ``stable``, ``watch`` or ``retrain``:

==========================  ============================================  =========  ==========
signal                      measure                                       watch at   retrain at
==========================  ============================================  =========  ==========
feature drift               population stability index (PSI) per feature  0.10       0.25
segment share shift         PSI of the segment shares                     0.10       0.25
fit decay                   mean distance to centre, new ÷ training       1.15       1.30
borderline customers        borderline share, new minus training          +0.10      +0.20
==========================  ============================================  =========  ==========

The verdict is the worst grade among the signals; the reasons list every signal
that is not ``stable``. The words and thresholds are those of
:mod:`custseg.verdicts`. The PSI thresholds are the usual credit-scoring
convention (below 0.1: no significant change; 0.1-0.25: some change, watch;
above 0.25: a major shift).

PSI
---
``PSI = Σ_bins (a - e) · ln(a / e)`` where ``e`` and ``a`` are the training and
new shares of customers in each bin. The bins are the training deciles: the
model stores, per feature, the distinct interior decile edges and the training
share of each bin (``baseline.bins`` in ``model.json``), so discrete features
with tied deciles are binned exactly. Empty bins count as a share of
:data:`PSI_FLOOR` so the logarithm stays finite. A model without a baseline
block (written before drift existed) falls back to its stored deciles, each
taken to hold a tenth of the customers. Missing values are left out of the PSI
and reported as a share.

PSI is noisy on small samples: with 10 bins its expected value on an unchanged
population is about ``9 · (1/n_new + 1/n_train)``; below
:data:`MIN_ROWS` new customers the report says so.

Borderline customers are those whose margin (see :func:`custseg.engines.base.margins`)
is below :data:`custseg.verdicts.BORDERLINE_MARGIN`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.engines.base import margins
from custseg.errors import InputError
from custseg.features.profiles import distinct_labels
from custseg.input_checks import check_inputs
from custseg.io import read_table
from custseg.model import SegmentModel, load_model
from custseg.verdicts import (
    BORDERLINE_MARGIN,
    BORDERLINE_RETRAIN,
    BORDERLINE_WATCH,
    FIT_RETRAIN,
    FIT_WATCH,
    PSI_RETRAIN,
    PSI_WATCH,
)

__all__ = [
    "DRIFT_FILES",
    "DRIFT_SCHEMA_VERSION",
    "FIT_RETRAIN",
    "FIT_WATCH",
    "MIN_ROWS",
    "PSI_FLOOR",
    "PSI_RETRAIN",
    "PSI_WATCH",
    "VERDICTS",
    "DriftReport",
    "drift",
    "psi",
    "training_baseline",
]

DRIFT_SCHEMA_VERSION = 1
#: The files :func:`custseg.report.drift_page.save_drift` writes.
DRIFT_FILES = ("drift.json", "drift.html")
PSI_FLOOR = 1e-4
MIN_ROWS = 500
VERDICTS = ("stable", "watch", "retrain")
_DECILES = [i / 10 for i in range(11)]


def psi(expected: np.ndarray, actual: np.ndarray, *, floor: float = PSI_FLOOR) -> float:
    """Population stability index between two distributions over the same bins.

    Parameters
    ----------
    expected, actual : array-like of shape (n_bins,)
        Shares (or counts; each is normalised to sum to 1).
    floor : float, default=1e-4
        Smallest share a bin counts with, so that an empty bin stays finite.

    Returns
    -------
    float
        0 for identical distributions; larger is more different.
    """
    e = np.asarray(expected, dtype="float64")
    a = np.asarray(actual, dtype="float64")
    e = np.maximum(e / e.sum(), floor) if e.sum() > 0 else np.full(len(e), floor)
    a = np.maximum(a / a.sum(), floor) if a.sum() > 0 else np.full(len(a), floor)
    return float(((a - e) * np.log(a / e)).sum())


def _bin_edges(values: np.ndarray, deciles: list[float] | None = None) -> list[float]:
    """Distinct interior decile edges of ``values`` (original units).

    ``deciles`` (the 0, 10, ..., 100th percentiles, when the caller has them)
    saves sorting ``values`` again.
    """
    qs = np.quantile(values, _DECILES[1:-1]) if deciles is None else deciles[1:-1]
    return [float(q) for q in np.unique(qs)]


def _bin_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    # Bin i holds edges[i-1] <= x < edges[i]; a value equal to an edge goes up, NaN
    # to the last bin. Counted as "at or above each edge": one cheap comparison per
    # edge instead of a binary search per value.
    values = np.ascontiguousarray(values, dtype="float64")
    at_or_above = np.zeros(len(edges) + 2, dtype="int64")
    at_or_above[0] = len(values)
    for i, edge in enumerate(edges, start=1):
        at_or_above[i] = np.count_nonzero(values >= edge)
    at_or_above[1:-1] += np.count_nonzero(np.isnan(values))
    counts = (at_or_above[:-1] - at_or_above[1:]).astype("float64")
    return counts / counts.sum() if counts.sum() else counts


def _grade(value: float | None, watch: float, retrain: float) -> str:
    if value is None or not np.isfinite(value):
        return "stable"
    return "retrain" if value >= retrain else "watch" if value >= watch else "stable"


def _worst(grades: list[str]) -> str:
    return max(grades, key=VERDICTS.index, default="stable")


def _borderline_share(scored: pd.DataFrame, model: SegmentModel, X: np.ndarray) -> float:
    """Share of scored customers whose margin is below BORDERLINE_MARGIN.

    Uses the scoring's own ``margin`` column (the same numbers as ``segments.csv``);
    noise and unscored rows (NaN margin) are left out.
    """
    if "margin" in scored.columns:
        m = scored["margin"].to_numpy(dtype="float64", na_value=np.nan)
    else:  # an engine that reports no margin: nearest versus second-nearest centre
        m = margins(
            model.scaler.transform(np.where(np.isnan(X), model.impute_values, X)), model.centers
        )
    m = m[~np.isnan(m)]
    return float((m < BORDERLINE_MARGIN).mean()) if len(m) else 0.0


def training_baseline(
    model: SegmentModel,
    X: np.ndarray,
    *,
    scored: pd.DataFrame | None = None,
    deciles: list[list[float]] | None = None,
) -> dict[str, Any]:
    """What drift compares new customers with, computed on the training rows.

    Parameters
    ----------
    model : SegmentModel
        The fitted model (its segments must be set).
    X : ndarray of shape (n_rows, n_features)
        The training rows in original units, without missing values.
    scored : DataFrame, optional
        ``model.predict_matrix(X)`` when the caller already has it (saves a pass
        over the rows).
    deciles : list of list of float, optional
        Per feature, the 0, 10, ..., 100th percentiles of ``X``'s column when the
        caller already has them (the model's feature summary): no second sort.

    Returns
    -------
    dict
        JSON-ready: ``bins`` (per feature: ``edges`` and training ``shares``),
        ``mean_distance`` (mean distance to the assigned centre, scaled units),
        ``segment_mean_distance`` (segment id as text → mean distance),
        ``borderline_share`` and ``borderline_margin``.
    """
    if scored is None:
        scored = model.predict_matrix(X)
    labels = scored["segment"].to_numpy(dtype="float64", na_value=np.nan)
    dist = scored["distance_to_center"].to_numpy(dtype="float64")
    bins = {}
    for j, name in enumerate(model.feature_names):
        edges = _bin_edges(X[:, j], None if deciles is None else deciles[j])
        bins[name] = {"edges": edges, "shares": [float(v) for v in _bin_shares(X[:, j], edges)]}
    assigned = ~np.isnan(dist)
    ids = distinct_labels(labels[assigned].astype("int64"))  # assigned rows: whole ids, no NaN
    per_segment = {str(int(s)): float(dist[labels == s].mean()) for s in ids}
    return {
        "rows": len(X),
        "bins": bins,
        "mean_distance": float(dist[assigned].mean()) if assigned.any() else None,
        "segment_mean_distance": per_segment,
        "borderline_share": _borderline_share(scored, model, X),
        "borderline_margin": BORDERLINE_MARGIN,
    }


@dataclass
class DriftReport:
    """How far new customers have drifted from a model's training customers.

    Attributes
    ----------
    verdict : {"stable", "watch", "retrain"}
    reasons : list of str
        One sentence per signal that is not stable.
    features : list of dict
        Per feature: ``name``, ``psi``, ``grade``, training and new ``mean``,
        ``missing_share`` and ``far_outside`` (the count of values far outside the
        training range, :func:`custseg.input_checks.far_outside`).
    segments : list of dict
        Per segment: ``id``, ``name``, ``training_share``, ``new_share``, ``shift``
        (new minus training), ``training_mean_distance``, ``new_mean_distance``.
    share_psi : float
    fit : dict
        ``training_mean_distance``, ``new_mean_distance``, ``ratio``, ``grade``.
    borderline : dict
        ``training_share``, ``new_share``, ``change``, ``grade``, ``margin``.
    rows : dict
        ``rows`` (read), ``scored``, ``unscored``.
    notes : list of str
        Caveats (small sample, model without a baseline).
    """

    verdict: str
    reasons: list[str]
    features: list[dict[str, Any]]
    segments: list[dict[str, Any]]
    share_psi: float
    share_grade: str
    fit: dict[str, Any]
    borderline: dict[str, Any]
    rows: dict[str, int]
    source: str = "input"
    model_fingerprint: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The content of ``drift.json``."""
        return {
            "schema_version": DRIFT_SCHEMA_VERSION,
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "input": {"path": self.source, **self.rows},
            "model": {"fingerprint": self.model_fingerprint},
            "thresholds": {
                "psi": {"watch": PSI_WATCH, "retrain": PSI_RETRAIN},
                "fit_ratio": {"watch": FIT_WATCH, "retrain": FIT_RETRAIN},
                "borderline_change": {"watch": BORDERLINE_WATCH, "retrain": BORDERLINE_RETRAIN},
            },
            "features": self.features,
            "segment_shares": {
                "psi": self.share_psi,
                "grade": self.share_grade,
                "segments": self.segments,
            },
            "fit": self.fit,
            "borderline": self.borderline,
            "notes": list(self.notes),
        }


def _bins_record(
    meta: dict[str, Any],
    edges: list[float],
    expected: np.ndarray,
    actual: np.ndarray,
    present: np.ndarray,
) -> dict[str, Any]:
    """The PSI bins of one feature: edges, outer limits, training and new shares."""
    low = [meta["min"]] if meta.get("min") is not None else []
    high = [meta["max"]] if meta.get("max") is not None else []
    if len(present):
        low.append(float(present.min()))
        high.append(float(present.max()))
    return {
        "edges": [float(e) for e in edges],
        "low": float(min(low)) if low else None,
        "high": float(max(high)) if high else None,
        "training": [float(v) for v in expected],
        "new": [float(v) for v in actual],
    }


def _feature_psi(model: SegmentModel, X: np.ndarray) -> tuple[list[dict[str, Any]], bool]:
    baseline = (model.extra.get("baseline") or {}).get("bins") or {}
    approximated = False
    out = []
    for j, meta in enumerate(model.features):
        name = meta["name"]
        col = X[:, j]
        present = col[~np.isnan(col)]
        stored = baseline.get(name)
        if stored is not None:
            edges, expected = list(stored["edges"]), np.asarray(stored["shares"])
        else:
            # Old model: deciles only, each decile taken to hold a tenth of the customers;
            # tied deciles are merged and their tenths summed.
            approximated = True
            qs = np.asarray(meta["quantiles"], dtype="float64")[1:-1]
            edges = [float(q) for q in np.unique(qs)]
            expected = np.bincount(
                np.searchsorted(np.asarray(edges), qs, side="right"), minlength=len(edges) + 1
            ).astype("float64")
            expected[0] += 1  # the first tenth lies below the first decile
            expected /= expected.sum()
        actual = _bin_shares(present, edges)
        value = psi(expected, actual) if len(present) else None
        quantiles = meta.get("quantiles") or []
        out.append(
            {
                "name": name,
                "psi": value,
                "grade": _grade(value, PSI_WATCH, PSI_RETRAIN) if value is not None else "stable",
                "training_mean": meta.get("mean"),
                "new_mean": float(present.mean()) if len(present) else None,
                "training_median": float(quantiles[len(quantiles) // 2]) if quantiles else None,
                "new_median": float(np.median(present)) if len(present) else None,
                "missing_share": float(1 - len(present) / len(col)) if len(col) else 0.0,
                # The PSI bins, so a page can draw both distributions on one axis.
                "bins": _bins_record(meta, edges, expected, actual, present),
            }
        )
    return out, approximated


def _caveats(approximated: bool, n_ok: int) -> list[str]:
    """Notes on how far the figures can be trusted: an old model, too few customers."""
    notes = []
    if approximated:
        notes.append(
            "the model has no drift baseline (trained before custseg drift existed): PSI "
            "uses its stored deciles, fit decay and borderline change are not graded"
        )
    if n_ok < MIN_ROWS:
        notes.append(
            f"only {n_ok} customers scored: PSI is noisy below {MIN_ROWS} (an unchanged "
            f"population gives about {9 / max(n_ok, 1):.2f} by chance)"
        )
    return notes


def _segment_shifts(
    model: SegmentModel,
    seg: np.ndarray,
    ok: np.ndarray,
    dist: np.ndarray,
    baseline: dict[str, Any],
) -> tuple[list[dict[str, Any]], float]:
    """Each segment's training share against its share among the scored rows, and their PSI."""
    n_ok = int(ok.sum())
    train_dist = baseline.get("segment_mean_distance") or {}
    ids = [int(s["id"]) for s in model.segments]
    train_share = np.array([float(s["share"]) for s in model.segments])
    new_share = np.array([(seg[ok] == sid).mean() if n_ok else 0.0 for sid in ids])
    segments: list[dict[str, Any]] = []
    for i, s in enumerate(model.segments):
        sid = ids[i]
        mask = ok & (seg == sid)
        segments.append(
            {
                "id": sid,
                "name": str(s["name"]),
                "training_share": float(train_share[i]),
                "new_share": float(new_share[i]),
                "shift": float(new_share[i] - train_share[i]),
                "training_mean_distance": train_dist.get(str(sid)),
                "new_mean_distance": float(dist[mask].mean()) if mask.any() else None,
            }
        )
    return segments, psi(train_share, new_share) if n_ok else 0.0


def _fit_record(baseline: dict[str, Any], scored_dist: np.ndarray) -> dict[str, Any]:
    """How far customers sit from their segment centre, against training."""
    train_mean = baseline.get("mean_distance")
    new_mean = float(np.nanmean(scored_dist)) if len(scored_dist) else None
    ratio = new_mean / train_mean if train_mean and new_mean is not None else None
    return {
        "training_mean_distance": train_mean,
        "new_mean_distance": new_mean,
        "ratio": ratio,
        "grade": _grade(ratio, FIT_WATCH, FIT_RETRAIN),
    }


def _borderline_record(new_border: float, baseline: dict[str, Any]) -> dict[str, Any]:
    """The share of customers near a segment boundary, against training."""
    train_border = baseline.get("borderline_share")
    change = new_border - train_border if train_border is not None else None
    return {
        "margin": BORDERLINE_MARGIN,
        "training_share": train_border,
        "new_share": new_border,
        "change": change,
        "grade": _grade(change, BORDERLINE_WATCH, BORDERLINE_RETRAIN),
    }


def _reasons(
    features: list[dict[str, Any]],
    segments: list[dict[str, Any]],
    share_psi: float,
    share_grade: str,
    fit: dict[str, Any],
    borderline: dict[str, Any],
) -> list[str]:
    """One sentence per measure that is not stable, naming the figure and its threshold."""
    reasons = [
        f"PSI of '{f['name']}' is {f['psi']:.3f} "
        f"(>= {PSI_RETRAIN if f['grade'] == 'retrain' else PSI_WATCH})"
        for f in features
        if f["grade"] != "stable"
    ]
    if share_grade != "stable":
        moved = max(segments, key=lambda s: abs(s["shift"]))
        reasons.append(
            f"segment shares moved (PSI {share_psi:.3f}); largest: segment {moved['id']} "
            f"'{moved['name']}' {moved['training_share']:.1%} -> {moved['new_share']:.1%}"
        )
    if fit["grade"] != "stable":
        reasons.append(
            f"customers sit {fit['ratio']:.2f}x as far from their segment centre as in "
            f"training (>= {FIT_RETRAIN if fit['grade'] == 'retrain' else FIT_WATCH})"
        )
    if borderline["grade"] != "stable":
        reasons.append(
            f"borderline customers rose from {borderline['training_share']:.1%} "
            f"to {borderline['new_share']:.1%}"
        )
    return reasons


def drift(
    model: SegmentModel | str | Path,
    data: pd.DataFrame | str | Path,
    *,
    source: str | None = None,
) -> DriftReport:
    """Score new customers with ``model`` (no refitting) and measure drift.

    Parameters
    ----------
    model : SegmentModel, str or Path
        A model, or the path of a ``model.json`` (or its run folder).
    data : DataFrame, str or Path
        The new customers; must hold the model's feature columns.
    source : str, optional
        Name of the data in messages; defaults to the path or "input".

    Returns
    -------
    DriftReport

    Raises
    ------
    SchemaError
        A model feature is missing from the data, or holds a non-numeric value.
    EmptyInputError, DataFormatError
        The data cannot be read or has no rows.

    Examples
    --------
    >>> import custseg
    >>> result = custseg.segment(custseg.make_customers(500, random_state=0), k=5)
    >>> custseg.drift(result.model, custseg.make_customers(500, random_state=1)).verdict
    'stable'
    """
    if not isinstance(model, SegmentModel):
        model = load_model(model)
    if isinstance(data, str | Path):
        source = source or str(data)
        frame = read_table(data)
    else:
        frame = data
        source = source or str(frame.attrs.get("source", "input"))
    if len(frame) == 0:
        raise InputError(f"{source} has no rows; drift needs customers to compare")
    X = model.feature_matrix(frame, source=source)
    scored = model.predict_matrix(X)
    seg = scored["segment"].to_numpy(dtype="float64", na_value=np.nan)
    ok = ~np.isnan(seg)
    dist = scored["distance_to_center"].to_numpy(dtype="float64")
    baseline = model.extra.get("baseline") or {}

    features, approximated = _feature_psi(model, X)
    checked = check_inputs(model, X)
    for feature, count in zip(features, checked.far_outside, strict=True):
        feature["far_outside"] = int(count)
    n_ok = int(ok.sum())
    notes = [*checked.outside_sentences(), *_caveats(approximated, n_ok)]
    segments, share_psi = _segment_shifts(model, seg, ok, dist, baseline)
    share_grade = _grade(share_psi, PSI_WATCH, PSI_RETRAIN)
    fit = _fit_record(baseline, dist[ok])
    borderline = _borderline_record(_borderline_share(scored, model, X), baseline)
    reasons = _reasons(features, segments, share_psi, share_grade, fit, borderline)
    grades = [f["grade"] for f in features] + [share_grade, fit["grade"], borderline["grade"]]
    return DriftReport(
        verdict=_worst(grades),
        reasons=reasons,
        features=features,
        segments=segments,
        share_psi=share_psi,
        share_grade=share_grade,
        fit=fit,
        borderline=borderline,
        rows={"rows": len(frame), "scored": n_ok, "unscored": len(frame) - n_ok},
        source=source,
        model_fingerprint=model.training.get("fingerprint"),
        notes=notes,
    )
