"""How far to trust the segments: validity metrics, per-customer margins, stability.

* :func:`clustering_metrics` — inertia, silhouette, Calinski-Harabasz, Davies-Bouldin.
* :func:`margins` and :func:`borderline_flags` — per customer, how much closer its own
  centre is than the next one; *borderline* below :data:`BORDERLINE_MARGIN` (0.1).
* :func:`bootstrap_stability` — per segment, the mean best-match Jaccard over
  bootstrap refits (Hennig's clusterboot) and the mean ARI between the runs and the
  segmentation.

Big tables
----------
The metrics keep scikit-learn's definitions but not its cost. Calinski-Harabasz,
Davies-Bouldin and the inertia come from per-segment sums gathered in row chunks
(:func:`validity_scores`): no temporary as large as the table, two passes over it.
The silhouette is O(n²), so it is taken on a seeded sample of
:data:`SILHOUETTE_SAMPLE` rows, and :func:`silhouettes` scores several labellings
of the same rows from one set of pairwise distances (the K sweep scores every K at
once). Results agree with scikit-learn's functions to rounding (about 1e-12).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from custseg.engines import get_engine
from custseg.engines.base import borderline_flags, one_thread, prechecked_fits
from custseg.features.profiles import distinct_labels
from custseg.verdicts import (
    BORDERLINE_MARGIN,
    MIN_ASSESSABLE_SIZE,
    MIN_PRESENT_SHARE,
    NOT_ASSESSABLE,
    STABLE_JACCARD,
    WEAK_JACCARD,
    stability_verdict,
)

__all__ = [
    "BORDERLINE_MARGIN",
    "MIN_ASSESSABLE_SIZE",
    "NOT_ASSESSABLE",
    "adjusted_rand_index",
    "bootstrap_stability",
    "borderline_summary",
    "clustering_metrics",
    "jaccard_verdict",
    "resample_agreement",
    "segment_ids",
    "silhouette_rows",
    "silhouettes",
    "trust_summary",
    "validity_scores",
]

SILHOUETTE_SAMPLE = 5000
#: Up to this many rows the silhouette sample is drawn exactly as scikit-learn's
#: ``silhouette_score(sample_size=...)`` draws it (a permutation of every row);
#: above it, by an O(sample) seeded draw, since permuting 10 million rows alone
#: takes about half a second.
SILHOUETTE_PERMUTATION_MAX_ROWS = 1_000_000
#: Rows per chunk for the per-segment sums (about 6 MB of float64 at 3 features).
_CHUNK_ROWS = 1 << 18
#: Rows per block of pairwise distances in :func:`silhouettes` (block × n_rows floats).
_SILHOUETTE_BLOCK = 128


def segment_ids(labels: np.ndarray) -> np.ndarray:
    """Sorted distinct ids of the assigned rows (label >= 0); ``np.unique`` without a sort.

    Parameters
    ----------
    labels : ndarray of shape (n_rows,)
        Integer segment ids; -1 (noise) is left out.

    Returns
    -------
    ndarray of int
    """
    ids = distinct_labels(labels)
    return ids[ids >= 0]


def silhouettes(
    X: np.ndarray, labelings: Sequence[np.ndarray], *, block_rows: int = _SILHOUETTE_BLOCK
) -> list[float]:
    """Mean silhouette of several labellings of the same rows, as scikit-learn defines it.

    The mean over rows of :func:`silhouette_rows`; see there.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        At most a few thousand rows (the distances are O(n_rows²) work).
    labelings : sequence of ndarray of shape (n_rows,)
        Each with between 2 and n_rows - 1 distinct labels.
    block_rows : int, default=128
        Rows per block of distances (memory: ``block_rows × n_rows`` floats).

    Returns
    -------
    list of float
        One score per labelling, in order.
    """
    return [float(np.mean(s)) for s in silhouette_rows(X, labelings, block_rows=block_rows)]


def silhouette_rows(
    X: np.ndarray, labelings: Sequence[np.ndarray], *, block_rows: int = _SILHOUETTE_BLOCK
) -> np.ndarray:
    """Per-row silhouettes of several labellings of the same rows (scikit-learn's definition).

    For each row, ``a`` is its mean distance to the other members of its own
    segment (size - 1 of them), ``b`` the lowest mean distance to another
    segment's members, ``s = (b - a) / max(a, b)``, and 0 for a segment of one
    (Rousseeuw, 1987; ``sklearn.metrics.silhouette_samples``). The pairwise
    distances are computed once per block of rows, with scikit-learn's formula,
    and every labelling's per-segment distance sums come from one matrix product
    with the stacked one-hot label matrices, so scoring ten labellings costs
    little more than scoring one.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        At most a few thousand rows (the distances are O(n_rows²) work).
    labelings : sequence of ndarray of shape (n_rows,)
        Each with between 2 and n_rows - 1 distinct labels.
    block_rows : int, default=128
        Rows per block of distances (memory: ``block_rows × n_rows`` floats).

    Returns
    -------
    ndarray of shape (n_labelings, n_rows)
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = len(X)
    parts = []  # (column offset, codes, segment sizes) per labelling
    offset = 0
    for labels in labelings:
        classes, codes = np.unique(np.asarray(labels), return_inverse=True)
        if not 1 < len(classes) < n:
            raise ValueError(
                f"a silhouette needs between 2 and n_rows - 1 = {n - 1} segments; "
                f"got {len(classes)}"
            )
        codes = codes.reshape(-1)
        parts.append((offset, codes, np.bincount(codes)))
        offset += len(classes)
    onehot = np.zeros((n, offset))
    for off, codes, _ in parts:
        onehot[np.arange(n), off + codes] = 1.0
    intra = [np.empty(n) for _ in parts]
    inter = [np.empty(n) for _ in parts]
    sq_norms = np.einsum("ij,ij->i", X, X)
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        rows = np.arange(stop - start)
        # scikit-learn's euclidean_distances: |x|² - 2 x·y + |y|², clipped at 0,
        # exactly 0 from a row to itself.
        dist = -2 * (X[start:stop] @ X.T)
        dist += sq_norms[start:stop, None]
        dist += sq_norms[None, :]
        np.maximum(dist, 0, out=dist)
        dist[rows, rows + start] = 0.0
        np.sqrt(dist, out=dist)
        sums = dist @ onehot  # (block, all labellings' segments)
        for (off, codes, sizes), a, b in zip(parts, intra, inter, strict=True):
            per_segment = sums[:, off : off + len(sizes)].copy()
            own = codes[start:stop]
            a[start:stop] = per_segment[rows, own]
            per_segment[rows, own] = np.inf
            per_segment /= sizes
            b[start:stop] = per_segment.min(axis=1)
    out = np.empty((len(parts), n))
    for i, ((_, codes, sizes), a, b) in enumerate(zip(parts, intra, inter, strict=True)):
        with np.errstate(divide="ignore", invalid="ignore"):
            a /= (sizes - 1).take(codes, mode="clip")
            out[i] = np.nan_to_num((b - a) / np.maximum(a, b))  # NaN: a segment of one -> 0
    return out


def _segment_sums(
    Z: np.ndarray, labels: np.ndarray, n_ids: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-segment size, mean, sum of squared and sum of plain distances to the mean.

    Two chunked passes (sums, then distances to the means); ``labels`` in
    ``0..n_ids-1``. Means of empty segments are NaN.
    """
    n, d = Z.shape
    counts = np.bincount(labels, minlength=n_ids).astype(np.float64)
    sums = np.zeros((n_ids, d))
    for start in range(0, n, _CHUNK_ROWS):
        part = Z[start : start + _CHUNK_ROWS]
        lab = labels[start : start + _CHUNK_ROWS]
        for j in range(d):
            sums[:, j] += np.bincount(lab, weights=part[:, j], minlength=n_ids)
    with np.errstate(divide="ignore", invalid="ignore"):
        means_by_feature = (sums / counts[:, None]).T
    sq_dist = np.zeros(n_ids)
    dist = np.zeros(n_ids)
    for start in range(0, n, _CHUNK_ROWS):
        lab = labels[start : start + _CHUNK_ROWS]
        # Feature columns, contiguous: one-dimensional gathers of the means are cheap.
        columns = np.ascontiguousarray(Z[start : start + _CHUNK_ROWS].T, dtype=np.float64)
        sq = (columns[0] - means_by_feature[0][lab]) ** 2
        for f in range(1, d):
            sq += (columns[f] - means_by_feature[f][lab]) ** 2
        sq_dist += np.bincount(lab, weights=sq, minlength=n_ids)
        dist += np.bincount(lab, weights=np.sqrt(sq), minlength=n_ids)
    means = means_by_feature.T
    return counts, means, sq_dist, dist


def _scores_from_sums(
    counts: np.ndarray, means: np.ndarray, sq_dist: np.ndarray, dist: np.ndarray
) -> tuple[float, float]:
    """Calinski-Harabasz and Davies-Bouldin of the non-empty segments, as scikit-learn."""
    present = counts > 0
    counts, means = counts[present], means[present]
    sq_dist, dist = sq_dist[present], dist[present]
    n, n_labels = counts.sum(), len(counts)
    grand_mean = (counts[:, None] * means).sum(axis=0) / n
    between = float((counts * ((means - grand_mean) ** 2).sum(axis=1)).sum())
    within = float(sq_dist.sum())
    ch = 1.0 if within == 0.0 else between * (n - n_labels) / (within * (n_labels - 1.0))
    from sklearn.metrics import pairwise_distances  # scikit-learn only where it is used

    spread = dist / counts
    centroid_dist = pairwise_distances(means)
    if np.allclose(spread, 0) or np.allclose(centroid_dist, 0):
        return float(ch), 0.0
    centroid_dist[centroid_dist == 0] = np.inf
    db = float(np.mean(np.max((spread[:, None] + spread) / centroid_dist, axis=1)))
    return float(ch), db


def validity_scores(Z: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Calinski-Harabasz and Davies-Bouldin of a labelling, from per-segment sums.

    Same definitions as ``sklearn.metrics.calinski_harabasz_score`` and
    ``davies_bouldin_score`` (segment means of the labelled rows), computed in row
    chunks without temporaries the size of the table.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
    labels : ndarray of shape (n_rows,)
        Any labels (no noise handling); between 2 and n_rows - 1 distinct values.

    Returns
    -------
    calinski_harabasz, davies_bouldin : float
    """
    classes, codes = np.unique(np.asarray(labels), return_inverse=True)
    if not 1 < len(classes) < len(Z):
        raise ValueError(
            f"Calinski-Harabasz and Davies-Bouldin need between 2 and n_rows - 1 = "
            f"{len(Z) - 1} segments; got {len(classes)}"
        )
    return _scores_from_sums(*_segment_sums(Z, codes.reshape(-1), len(classes)))


def _silhouette_sample(n: int, random_state: int) -> np.ndarray | None:
    """Rows of the metrics' silhouette sample (None = every row); see the constants."""
    if n <= SILHOUETTE_SAMPLE:
        return None
    if n <= SILHOUETTE_PERMUTATION_MAX_ROWS:
        return np.random.RandomState(random_state).permutation(n)[:SILHOUETTE_SAMPLE]
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=SILHOUETTE_SAMPLE, replace=False))


def clustering_metrics(
    Z: np.ndarray, labels: np.ndarray, centers: np.ndarray, *, random_state: int = 0
) -> dict[str, float | None]:
    """Inertia, silhouette, Calinski-Harabasz and Davies-Bouldin of a labelling.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
        Scaled features.
    labels : ndarray of shape (n_rows,)
        Segment ids (rows of ``centers``); rows labelled -1 (noise) are left out
        of the metrics.
    centers : ndarray of shape (n_segments, n_features)
    random_state : int, default=0
        Seed of the silhouette sample.

    Returns
    -------
    dict
        ``inertia`` (sum of squared distances to the assigned centre),
        ``silhouette`` (on a seeded sample of at most 5,000 rows: the same rows
        as ``sklearn.metrics.silhouette_score(sample_size=5000)`` up to
        :data:`SILHOUETTE_PERMUTATION_MAX_ROWS` rows), ``calinski_harabasz``,
        ``davies_bouldin`` (scikit-learn's definitions, from per-segment sums);
        None where fewer than two segments exist (the silhouette also when its
        sample holds fewer than two).
    """
    labels = np.asarray(labels)
    keep = labels >= 0
    if not keep.all():  # the common case keeps every row: no copy of the table
        Z, labels = Z[keep], labels[keep]
    empty = {"silhouette": None, "calinski_harabasz": None, "davies_bouldin": None}
    if not len(Z):
        return {"inertia": 0.0, **empty}
    centers = np.asarray(centers, dtype=np.float64)
    if int(labels.max()) >= len(centers):
        raise ValueError(f"label {int(labels.max())} has no centre (only {len(centers)} given)")
    counts, means, sq_dist, dist = _segment_sums(Z, labels, len(centers))
    present = counts > 0
    # Sum of squares to the given centre = to the segment mean + size × (mean - centre)².
    offset = (means[present] - centers[present]) ** 2
    inertia = float(sq_dist[present].sum() + (counts[present] * offset.sum(axis=1)).sum())
    n_labels = int(present.sum())
    if n_labels < 2 or n_labels >= len(Z):
        return {"inertia": inertia, **empty}
    ch, db = _scores_from_sums(counts, means, sq_dist, dist)
    rows = _silhouette_sample(len(Z), random_state)
    Zs, ls = (Z, labels) if rows is None else (Z[rows], labels[rows])
    n_sample_labels = len(np.unique(ls))
    silhouette = None
    if 1 < n_sample_labels < len(ls):
        with threadpool_limits(limits=1, user_api="blas"):  # same sums on any machine
            silhouette = silhouettes(Zs, [ls])[0]
    return {
        "inertia": inertia,
        "silhouette": silhouette,
        "calinski_harabasz": ch,
        "davies_bouldin": db,
    }


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
    labels = np.asarray(labels)
    assigned = labels >= 0
    every = bool(assigned.all())
    lab, flags = (labels, flags) if every else (labels[assigned], flags[assigned])
    if labels.dtype.kind in "iu" and len(lab):
        # Integer counts: the shares equal the per-segment means of the flags, bit for bit.
        size = np.bincount(lab)
        flagged = np.bincount(lab[flags], minlength=len(size))
        by_segment = {int(s): float(flagged[s] / size[s]) for s in np.flatnonzero(size)}
    else:
        by_segment = {int(s): float(flags[lab == s].mean()) for s in np.unique(lab)}
    return {
        "threshold": BORDERLINE_MARGIN,
        "share": float(flags.mean()) if len(lab) else 0.0,
        "by_segment": by_segment,
    }


# -- stability ---------------------------------------------------------------------------
#: Bootstrap refits run on at most this many rows (a sample stratified by segment).
STABILITY_SAMPLE = 2000
#: Resamples by default; stability is on by default up to this many fitted rows.
DEFAULT_RESAMPLES = 20
STABILITY_AUTO_MAX_ROWS = 50_000
#: Bootstrap refits run side by side (scikit-learn releases the GIL in its loops).
REFIT_THREADS = 2


#: ``stable``, ``weak``, ``unstable`` or ``unknown``: the words of :mod:`custseg.verdicts`.
jaccard_verdict = stability_verdict


def _stratified_rows(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """At most about ``size`` rows, proportional per segment with a floor of 30 each."""
    if len(labels) <= size:
        return np.arange(len(labels))
    picked = []
    for s in distinct_labels(labels):
        members = np.flatnonzero(labels == s)
        quota = min(len(members), max(30, round(size * len(members) / len(labels))))
        picked.append(rng.choice(members, size=quota, replace=False))
    return np.sort(np.concatenate(picked))


def _bootstrap_refits(
    engine, Z: np.ndarray, n_clusters: int, draws: list[np.ndarray], random_state: int
) -> list[np.ndarray]:
    """The labels of every refit: on ``Z[draws[run]]``, seeded ``random_state + run + 1``.

    The refits are independent, so they run :data:`REFIT_THREADS` at a time; each
    gives what it gives alone. Each runs in one OpenMP and one BLAS thread, as they
    did one after another (OpenMP's limit is the calling thread's: each sets it).
    """

    def refit(run: int) -> np.ndarray:
        with one_thread(), prechecked_fits():
            fitted = engine.fit(Z[draws[run]], n_clusters, random_state=random_state + run + 1)
        return np.asarray(fitted.labels)

    with one_thread(), ThreadPoolExecutor(max_workers=REFIT_THREADS) as pool:
        return list(pool.map(refit, range(len(draws))))


def resample_agreement(
    labels: np.ndarray, draw: np.ndarray, boot_labels: np.ndarray
) -> tuple[dict[int, float], float]:
    """How one bootstrap refit agrees with a segmentation, on the rows it drew.

    Parameters
    ----------
    labels : ndarray of shape (n_rows,)
        The segmentation assessed (-1 = noise: kept for the ARI, not a segment).
    draw : ndarray of shape (n_draws,)
        Row indices drawn with replacement.
    boot_labels : ndarray of shape (n_draws,)
        The refit's label of each drawn row.

    Returns
    -------
    best : dict of int to float
        Per segment present among the drawn rows, its best-match Jaccard.
    ari : float
        Adjusted Rand index between the segmentation and the refit on those rows.
    """
    # Duplicated rows get the same label; keep one copy of each drawn row.
    uniq, first = np.unique(draw, return_index=True)
    orig_ids, orig_codes = np.unique(labels[uniq], return_inverse=True)
    boot_ids, boot_codes = np.unique(boot_labels[first], return_inverse=True)
    table = np.bincount(
        orig_codes * len(boot_ids) + boot_codes, minlength=len(orig_ids) * len(boot_ids)
    ).reshape(len(orig_ids), len(boot_ids))
    orig_sizes, boot_sizes = table.sum(axis=1), table.sum(axis=0)
    jaccard = table / (orig_sizes[:, None] + boot_sizes[None, :] - table)
    jaccard[:, boot_ids < 0] = 0.0  # noise is no segment to match
    best = {int(s): float(row.max()) for s, row in zip(orig_ids, jaccard, strict=True) if s >= 0}
    return best, adjusted_rand_index(table)


def adjusted_rand_index(table: np.ndarray) -> float:
    """Adjusted Rand index of two labellings from their contingency table (Hubert & Arabie).

    The same pair counts and the same formula as scikit-learn's
    ``adjusted_rand_score``, in exact integers, without checking the labels again.

    Parameters
    ----------
    table : ndarray of int of shape (n_labels_a, n_labels_b)
        Customers with each pair of labels.

    Returns
    -------
    float
        1.0 when the two labellings put the same pairs together.
    """
    n = int(table.sum())
    squares = int((table * table).sum())
    together_b = int((table @ table.sum(axis=0)).sum()) - squares  # together in b only
    together_a = int((table.T @ table.sum(axis=1)).sum()) - squares  # together in a only
    both, neither = squares - n, n * n - together_a - together_b - squares
    if together_a == 0 and together_b == 0:
        return 1.0
    expected = (both + together_a) * (together_a + neither)
    expected += (both + together_b) * (together_b + neither)
    return 2.0 * (both * neither - together_a * together_b) / expected


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
    segment's stability is the mean of those best-match Jaccards over the runs,
    read by :func:`custseg.verdicts.stability_verdict`. The mean adjusted
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
        ``jaccard``, ``verdict``; a segment of fewer than :data:`MIN_ASSESSABLE_SIZE`
        customers, or drawn in fewer than half the resamples, has ``jaccard`` None,
        verdict "not assessable" and a ``reason``), ``unstable`` (ids below 0.60),
        ``thresholds``.
    """
    engine = get_engine(algorithm)
    rng = np.random.default_rng(random_state)
    base = _stratified_rows(labels, max_rows, rng)
    Zb, lb = Z[base], labels[base]
    n = len(Zb)
    segments = [int(s) for s in np.unique(lb) if s >= 0]
    jaccards: dict[int, list[float]] = {s: [] for s in segments}
    aris: list[float] = []
    draws = [rng.integers(0, n, size=n) for _ in range(n_resamples)]
    refits = _bootstrap_refits(engine, Zb, n_clusters, draws, random_state)
    for draw, boot_labels in zip(draws, refits, strict=True):
        best, ari = resample_agreement(lb, draw, boot_labels)
        aris.append(ari)
        for s, value in best.items():
            jaccards[s].append(value)
    sizes = {s: int(np.count_nonzero(labels == s)) for s in segments}
    per_segment = [_segment_stability(s, sizes[s], jaccards[s], n_resamples) for s in segments]
    return {
        "method": "bootstrap refits; per segment the mean best-match Jaccard (clusterboot)",
        "resamples": int(n_resamples),
        "rows_used": int(n),
        "mean_ari": float(np.mean(aris)) if aris else None,
        "segments": per_segment,
        "unstable": [p["id"] for p in per_segment if p["verdict"] == "unstable"],
        "thresholds": {"stable": STABLE_JACCARD, "weak": WEAK_JACCARD},
    }


def _segment_stability(
    segment: int, size: int, jaccards: list[float], n_resamples: int
) -> dict[str, Any]:
    """One segment's entry: its mean Jaccard and verdict, or why it cannot be assessed."""
    if size < MIN_ASSESSABLE_SIZE:
        reason = f"{size} customer(s): too few to resample (fewer than {MIN_ASSESSABLE_SIZE})"
    elif len(jaccards) < MIN_PRESENT_SHARE * n_resamples:
        reason = f"drawn in only {len(jaccards)} of {n_resamples} resamples"
    else:
        value = float(np.mean(jaccards))
        return {"id": segment, "jaccard": value, "verdict": jaccard_verdict(value)}
    return {"id": segment, "jaccard": None, "verdict": NOT_ASSESSABLE, "reason": reason}


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
    n_segments = len(segment_ids(labels))
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
