"""How far to trust the segments: validity metrics, per-customer margins, stability.

* :func:`clustering_metrics` — inertia, silhouette, Calinski-Harabasz, Davies-Bouldin.
* :func:`margins` and :func:`borderline_flags` — per customer, how much closer its own
  centre is than the next one; *borderline* below :data:`BORDERLINE_MARGIN` (0.1).
* :func:`bootstrap_stability` — per segment, the mean best-match Jaccard over
  bootstrap refits (Hennig's clusterboot) and the mean ARI between the runs and the
  segmentation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from threadpoolctl import threadpool_limits

__all__ = [
    "BORDERLINE_MARGIN",
    "bootstrap_stability",
    "borderline_flags",
    "borderline_summary",
    "clustering_metrics",
    "jaccard_verdict",
    "margins",
    "own_margin",
    "trust_summary",
]

SILHOUETTE_SAMPLE = 5000


def clustering_metrics(
    Z: np.ndarray, labels: np.ndarray, centers: np.ndarray, *, random_state: int = 0
) -> dict[str, float | None]:
    """Inertia, silhouette, Calinski-Harabasz and Davies-Bouldin of a labelling.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
        Scaled features.
    labels : ndarray of shape (n_rows,)
        Segment ids; rows labelled -1 (noise) are left out of the metrics.
    centers : ndarray of shape (n_segments, n_features)

    Returns
    -------
    dict
        ``inertia`` (sum of squared distances to the assigned centre),
        ``silhouette`` (on a seeded sample of at most 5,000 rows), ``calinski_harabasz``,
        ``davies_bouldin``; None where fewer than two segments exist.
    """
    keep = labels >= 0
    Z, labels = Z[keep], labels[keep]
    inertia = float(((Z - centers[labels]) ** 2).sum()) if len(Z) else 0.0
    n_labels = len(np.unique(labels))
    if n_labels < 2 or n_labels >= len(Z):
        return {
            "inertia": inertia,
            "silhouette": None,
            "calinski_harabasz": None,
            "davies_bouldin": None,
        }
    sample = SILHOUETTE_SAMPLE if len(Z) > SILHOUETTE_SAMPLE else None
    return {
        "inertia": inertia,
        "silhouette": float(
            silhouette_score(Z, labels, sample_size=sample, random_state=random_state)
        ),
        "calinski_harabasz": float(calinski_harabasz_score(Z, labels)),
        "davies_bouldin": float(davies_bouldin_score(Z, labels)),
    }


#: A customer is *borderline* when its margin is below this: its own centre is
#: less than 10% closer than the next one. Shared by segmentation and drift.
BORDERLINE_MARGIN = 0.1


def margins(Z: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """How much closer each customer is to its own centre than to the next one.

    ``margin = (d2 - d1) / d2`` where ``d1`` and ``d2`` are the distances to the
    nearest and second-nearest centre: 0 on the boundary between two segments, 1
    on a centre. Relative, so it reads the same whatever the scaling; 1 for every
    row when there is a single centre. Borderline: ``margin < BORDERLINE_MARGIN``.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
        Scaled features.
    centers : ndarray of shape (n_segments, n_features)

    Returns
    -------
    ndarray of shape (n_rows,)
    """
    if len(centers) == 1:
        return np.ones(len(Z))
    dist = np.sqrt(((Z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    two = np.partition(dist, 1, axis=1)[:, :2]
    d1, d2 = two[:, 0], two[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(np.isinf(d2), 1.0, (d2 - d1) / d2)
    # A row sitting on two coincident centres (d2 == 0) is as borderline as can be.
    return np.where(np.isnan(out), 0.0, out)


def borderline_flags(margin: np.ndarray) -> np.ndarray:
    """True where ``margin < BORDERLINE_MARGIN``; False for NaN (noise, unscored)."""
    margin = np.asarray(margin, dtype="float64")
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(margin), False, margin < BORDERLINE_MARGIN)


def borderline_summary(labels: np.ndarray, margin: np.ndarray) -> dict[str, Any]:
    """Share of borderline customers overall and per segment.

    Parameters
    ----------
    labels : ndarray of shape (n_rows,)
        Segment ids of the fitted rows (-1 = noise, left out).
    margin : ndarray of shape (n_rows,)

    Returns
    -------
    dict
        ``threshold``, ``share`` (over assigned rows) and ``by_segment`` (id → share).
    """
    flags = borderline_flags(margin)
    assigned = labels >= 0
    by_segment = {int(s): float(flags[labels == s].mean()) for s in np.unique(labels[assigned])}
    return {
        "threshold": BORDERLINE_MARGIN,
        "share": float(flags[assigned].mean()) if assigned.any() else 0.0,
        "by_segment": by_segment,
    }


# -- stability ---------------------------------------------------------------------------
#: Hennig's (2007, 2008) reading of the mean best-match Jaccard of a cluster.
STABLE_JACCARD = 0.75
WEAK_JACCARD = 0.60
#: Bootstrap refits run on at most this many rows (a sample stratified by segment).
STABILITY_SAMPLE = 2000
#: Resamples by default; stability is on by default up to this many fitted rows.
DEFAULT_RESAMPLES = 20
STABILITY_AUTO_MAX_ROWS = 50_000


def jaccard_verdict(value: float | None) -> str:
    """``stable`` (>= 0.75), ``weak`` (0.60-0.75) or ``unstable`` (< 0.60)."""
    if value is None or not np.isfinite(value):
        return "unknown"
    if value >= STABLE_JACCARD:
        return "stable"
    return "weak" if value >= WEAK_JACCARD else "unstable"


def _stratified_rows(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """At most about ``size`` rows, proportional per segment with a floor of 30 each."""
    if len(labels) <= size:
        return np.arange(len(labels))
    picked = []
    for s in np.unique(labels):
        members = np.flatnonzero(labels == s)
        quota = min(len(members), max(30, round(size * len(members) / len(labels))))
        picked.append(rng.choice(members, size=quota, replace=False))
    return np.sort(np.concatenate(picked))


def _bootstrap_run(
    engine, Z: np.ndarray, n_clusters: int, rng: np.random.Generator, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    draw = rng.integers(0, len(Z), size=len(Z))
    fitted = engine.fit(Z[draw], n_clusters, random_state=seed)
    return draw, np.asarray(fitted.labels)


def bootstrap_stability(
    Z: np.ndarray,
    labels: np.ndarray,
    n_clusters: int,
    *,
    algorithm: str = "kmeans",
    n_resamples: int = DEFAULT_RESAMPLES,
    random_state: int = 42,
    max_rows: int = STABILITY_SAMPLE,
) -> dict[str, Any]:
    """Per-segment stability under bootstrap resampling, as in Hennig's clusterboot.

    Each run draws the rows with replacement, refits the same algorithm with the
    same K (seed ``random_state + run``), and for every segment finds the refitted
    segment with the highest Jaccard similarity on the customers the run drew. A
    segment's stability is the mean of those best-match Jaccards over the runs:
    >= 0.75 stable, 0.60-0.75 weak, < 0.60 not to be trusted. The mean adjusted
    Rand index (ARI) between each run and the segmentation is reported too.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
        Scaled features of the fitted rows.
    labels : ndarray of shape (n_rows,)
        The segmentation to assess (-1 = noise: kept for the ARI, not a segment).
    n_clusters : int
        K for the refits (ignored by density engines).
    algorithm : str, default="kmeans"
    n_resamples : int, default=20
    random_state : int, default=42
    max_rows : int, default=2000
        Larger inputs are first reduced to a seeded sample of this size, stratified
        by segment (at least 30 rows of each), so the cost does not grow with the
        table.

    Returns
    -------
    dict
        ``resamples``, ``rows_used``, ``mean_ari``, ``segments`` (per segment: ``id``,
        ``jaccard``, ``verdict``), ``unstable`` (ids below 0.60), ``thresholds``.
    """
    from sklearn.metrics import adjusted_rand_score

    from custseg.engines import get_engine

    engine = get_engine(algorithm)
    rng = np.random.default_rng(random_state)
    base = _stratified_rows(labels, max_rows, rng)
    Zb, lb = Z[base], labels[base]
    n = len(Zb)
    segments = [int(s) for s in np.unique(lb) if s >= 0]
    jaccards: dict[int, list[float]] = {s: [] for s in segments}
    aris: list[float] = []
    with threadpool_limits(limits=1):  # small refits: threads cost more than they save
        runs = [
            _bootstrap_run(engine, Zb, n_clusters, rng, random_state + run + 1)
            for run in range(n_resamples)
        ]
    for draw, boot_labels in runs:
        # Duplicated rows get the same label; keep one copy of each drawn row.
        uniq, first = np.unique(draw, return_index=True)
        boot = boot_labels[first]
        orig = lb[uniq]
        aris.append(float(adjusted_rand_score(orig, boot)))
        boot_ids = [b for b in np.unique(boot) if b >= 0]
        for s in segments:
            in_s = orig == s
            if not in_s.any():
                continue
            best = 0.0
            for b in boot_ids:
                in_b = boot == b
                inter = np.count_nonzero(in_s & in_b)
                if inter:
                    best = max(best, inter / np.count_nonzero(in_s | in_b))
            jaccards[s].append(best)
    per_segment = []
    for s in segments:
        value = float(np.mean(jaccards[s])) if jaccards[s] else None
        per_segment.append({"id": s, "jaccard": value, "verdict": jaccard_verdict(value)})
    return {
        "method": "bootstrap refits; per segment the mean best-match Jaccard (clusterboot)",
        "resamples": int(n_resamples),
        "rows_used": int(n),
        "mean_ari": float(np.mean(aris)) if aris else None,
        "segments": per_segment,
        "unstable": [p["id"] for p in per_segment if p["verdict"] == "unstable"],
        "thresholds": {"stable": STABLE_JACCARD, "weak": WEAK_JACCARD},
    }


def own_margin(Z: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """:func:`margins` measured from each row's *assigned* centre.

    ``(d_other - d_own) / d_other``, where ``d_own`` is the distance to the centre
    of the row's own segment and ``d_other`` to the nearest other centre. For
    nearest-centre engines this equals :func:`margins`; for engines that assign
    by another rule (mixture probabilities, exemplars) it can be negative: the
    customer sits nearer another segment's centre. NaN for noise (label -1); 1
    when there is a single centre.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
    centers : ndarray of shape (n_segments, n_features)
    labels : ndarray of shape (n_rows,)

    Returns
    -------
    ndarray of shape (n_rows,)
    """
    out = np.full(len(Z), np.nan)
    assigned = labels >= 0
    if not assigned.any():
        return out
    if len(centers) == 1:
        out[assigned] = 1.0
        return out
    Za, la = Z[assigned], labels[assigned]
    d = np.sqrt(((Za[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    rows = np.arange(len(Za))
    d_own = d[rows, la]
    d[rows, la] = np.inf
    d_other = d.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = (d_other - d_own) / d_other
    out[assigned] = np.where(np.isnan(m), 0.0, m)
    return out


def trust_summary(
    Z: np.ndarray,
    labels: np.ndarray,
    margin: np.ndarray,
    *,
    algorithm: str = "kmeans",
    stability: int | None = None,
    random_state: int = 42,
) -> dict[str, Any]:
    """The ``stability`` and ``borderline`` blocks of ``summary.json``.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
        Scaled features of the fitted rows.
    labels : ndarray of shape (n_rows,)
    margin : ndarray of shape (n_rows,)
    algorithm : str, default="kmeans"
    stability : int, optional
        Resamples; None = :data:`DEFAULT_RESAMPLES` when ``n_rows`` is at most
        :data:`STABILITY_AUTO_MAX_ROWS`, else off; 0 = off.
    random_state : int, default=42

    Returns
    -------
    dict
        ``{"stability": {...} or {"resamples": 0, "reason": ...}, "borderline": {...}}``
    """
    if stability is None:
        stability = DEFAULT_RESAMPLES if len(Z) <= STABILITY_AUTO_MAX_ROWS else 0
        off_reason = (
            f"off by default above {STABILITY_AUTO_MAX_ROWS:,} rows; ask with --stability N"
        )
    else:
        off_reason = "turned off with --stability 0"
    n_segments = len(np.unique(labels[labels >= 0]))
    if stability and n_segments >= 2:
        block = bootstrap_stability(
            Z,
            labels,
            n_segments,
            algorithm=algorithm,
            n_resamples=stability,
            random_state=random_state,
        )
    elif stability:
        block = {"resamples": 0, "reason": "a single segment: nothing to compare"}
    else:
        block = {"resamples": 0, "reason": off_reason}
    return {"stability": block, "borderline": borderline_summary(labels, margin)}
