"""Resampling criteria for the number of segments K: does a K come back when the data change?

Three criteria from the literature, each asking whether K-Means with K segments
finds the same groups on different draws of the customers:

======================  ======================================================  ===========
criterion               what it measures                                        preferred
======================  ======================================================  ===========
prediction_strength     Tibshirani & Walther (2005): split the rows in two      high
                        halves, segment both; for every segment of one half,
                        the share of its pairs of customers that the other
                        half's centres also put together; the worst segment
instability             Lange, Roth, Braun & Buhmann (2004): segment both       low
                        halves, label one half with the other half's centres,
                        count the customers whose label differs under the best
                        matching of labels; divided by the same count for
                        random labels, so that K are comparable
subsample_stability     Ben-Hur, Elisseeff & Guyon (2002): segment two          high
                        overlapping subsamples of 80% of the rows; the
                        Jaccard similarity of their pair co-memberships on the
                        customers both drew
======================  ======================================================  ===========

Prediction strength and instability are two statistics of the same experiment
(one segment half labelled by the other half's centres), so they share their
fits: every repeat segments both halves once per K, in both directions.

The fits are a small vectorised K-Means (k-means++ seeding, Lloyd iterations)
run on a whole batch of resamples at once: the criteria need many fits of a few
hundred rows, where scikit-learn's per-call overhead would dominate. It is
single-threaded and depends only on its inputs and ``random_state``.

Every function is pure: the same rows in the same order, the same ``k_values``
and the same ``random_state`` give the same numbers. Callers that must not
depend on row order pass the rows in a canonical order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

__all__ = [
    "CRITERIA",
    "FIT_STARTS",
    "RESAMPLES",
    "SUBSAMPLE_FRACTION",
    "ResamplingScores",
    "batch_kmeans",
    "contingency",
    "instability_of",
    "normalised_instability",
    "pair_jaccard",
    "prediction_strength",
    "prediction_strength_of",
    "random_instability",
    "resampling_scores",
    "subsample_stability",
]

#: Repeats of each resampling experiment (pairs of halves, pairs of subsamples).
RESAMPLES = 10
#: Share of the rows in each of Ben-Hur's two subsamples.
SUBSAMPLE_FRACTION = 0.8
#: k-means++ starts per resampled fit (the lowest inertia is kept).
FIT_STARTS = 3
#: Lloyd iterations at most; the small resampled fits converge well before.
_MAX_ITER = 50
_TOL = 1e-4
#: Values in the temporary of the restarts' inertia.
_INERTIA_BLOCK = 1 << 20
#: Random labellings averaged for the instability of chance (Lange et al.'s normaliser).
_CHANCE_DRAWS = 20
CRITERIA = ("prediction_strength", "instability", "subsample_stability")


# -- the fits -----------------------------------------------------------------------------
def _nearest(X: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Nearest centre of every row, for a batch: (batch, rows, features) → (batch, rows)."""
    # x·(-2c) is -2(x·c) to the bit (a power of two scales exactly): one pass fewer.
    cross = X @ np.ascontiguousarray(-2 * centres.transpose(0, 2, 1))
    cross += np.einsum("bkf,bkf->bk", centres, centres)[:, None, :]
    return cross.argmin(axis=2)


def _seed_centres(X: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding for every problem of a batch.

    As scikit-learn seeds K-Means (Arthur & Vassilvitskii, 2007, with the greedy
    variant): after a uniformly drawn first centre, each next centre is the best
    of ``2 + ln k`` candidates drawn with probability proportional to the squared
    distance to the nearest centre so far, "best" meaning the lowest total
    squared distance once it is added.
    """
    batch, rows, _ = X.shape
    every = np.arange(batch)
    trials = 2 + int(np.log(k))
    sq_norms = np.einsum("brf,brf->br", X, X)

    def distance_to(points: np.ndarray) -> np.ndarray:  # (batch, c, features) → (batch, c, rows)
        d2 = sq_norms[:, None, :] - 2 * points @ X.transpose(0, 2, 1)
        return np.maximum(d2 + np.einsum("bcf,bcf->bc", points, points)[:, :, None], 0)

    centres = np.empty((batch, k, X.shape[2]))
    centres[:, 0] = X[every, rng.integers(rows, size=batch)]
    closest = distance_to(centres[:, :1])[:, 0]
    for j in range(1, k):
        cum = np.cumsum(closest, axis=1)
        # Draws proportional to the squared distance; all-equal rows fall back to row 0.
        targets = rng.random((batch, trials)) * cum[:, -1:]
        picks = np.minimum((cum[:, None, :] < targets[:, :, None]).sum(axis=2), rows - 1)
        candidates = X[every[:, None], picks]  # (batch, trials, features)
        potential = np.minimum(closest[:, None, :], distance_to(candidates))
        best = potential.sum(axis=2).argmin(axis=1)
        centres[:, j] = candidates[every, best]
        closest = potential[every, best]
    return centres


def batch_kmeans(
    X: np.ndarray, k: int, *, random_state: np.random.Generator | int, n_init: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """K-Means on a batch of equally sized problems at once.

    Each problem is seeded by k-means++ ``n_init`` times and refined by Lloyd
    iterations; the run with the lowest inertia is kept. A segment that loses all
    its rows keeps its previous centre.

    Parameters
    ----------
    X : ndarray of shape (n_problems, n_rows, n_features)
    k : int
        Number of segments, at most ``n_rows``.
    random_state : Generator or int
        Seeds the k-means++ draws.
    n_init : int, default=1

    Returns
    -------
    labels : ndarray of shape (n_problems, n_rows)
    centres : ndarray of shape (n_problems, k, n_features)
    """
    rng = np.random.default_rng(random_state)
    X = np.asarray(X, dtype=np.float64)
    problems, rows, _ = X.shape
    Xt = np.repeat(X, n_init, axis=0) if n_init > 1 else X  # starts of problem p: p*n_init...
    centres = _seed_centres(Xt, k, rng)
    labels = _nearest(Xt, centres)
    # scikit-learn's stopping rule: the centres moved less than 1e-4 of the mean variance
    # (of each problem: its starts share it).
    tol = np.repeat(_TOL * X.var(axis=1).mean(axis=1), n_init)
    active = np.arange(len(Xt))  # starts still moving
    every_row = np.arange(rows)
    for _ in range(_MAX_ITER):
        starts = np.arange(len(active))
        Xa, la = (Xt, labels.copy()) if len(active) == len(Xt) else (Xt[active], labels[active])
        # One-hot in (start, segment, row) layout: the segment sums are one matrix product.
        onehot = np.zeros((len(active), k, rows))
        onehot[starts[:, None], la, every_row] = 1.0
        counts = np.bincount((starts[:, None] * k + la).ravel(), minlength=len(active) * k)
        counts = counts.reshape(len(active), k, 1)
        old = centres[active]
        moved_to = np.where(counts > 0, (onehot @ Xa) / np.maximum(counts, 1), old)
        centres[active] = moved_to
        new = _nearest(Xa, moved_to)
        labels[active] = new
        still = ((moved_to - old) ** 2).sum(axis=(1, 2)) > tol[active]
        still &= (new != la).any(axis=1)
        active = active[still]
        if not len(active):
            break
    if n_init == 1:
        return labels, centres
    inertia = np.empty(len(Xt))
    # A block of starts at a time: a bounded (starts, rows, features) temporary. Each
    # start's sum runs over its contiguous rows × features, as a sum of that start alone.
    block = max(1, _INERTIA_BLOCK // Xt[0].size)
    for first in range(0, len(Xt), block):
        part = slice(first, first + block)
        gap = Xt[part] - centres[part][np.arange(len(Xt[part]))[:, None], labels[part]]
        inertia[part] = (gap**2).reshape(len(gap), -1).sum(axis=1)
    chosen = np.arange(problems) * n_init + inertia.reshape(problems, n_init).argmin(axis=1)
    return labels[chosen], centres[chosen]


# -- statistics of two labellings ---------------------------------------------------------
def contingency(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """Counts of every label pair, for a batch of labelling pairs.

    Parameters
    ----------
    a, b : ndarray of shape (n_problems, n_rows)
        Labels in ``0..k-1``.
    k : int

    Returns
    -------
    ndarray of shape (n_problems, k, k)
        ``[p, i, j]`` = rows of problem ``p`` with ``a == i`` and ``b == j``.
    """
    problems = len(a)
    codes = (np.arange(problems)[:, None] * k + a) * k + b
    return np.bincount(codes.ravel(), minlength=problems * k * k).reshape(problems, k, k)


def prediction_strength_of(table: np.ndarray) -> float:
    """Tibshirani & Walther's prediction strength from one contingency table.

    Parameters
    ----------
    table : ndarray of shape (k, k)
        Rows: the test half's own segments; columns: the segments of the
        training half's centres that the same test customers fall into.

    Returns
    -------
    float
        Over the test segments with at least two customers, the lowest share of
        their pairs that the training centres keep together; NaN when no
        segment has two customers.
    """
    return float(_prediction_strengths(np.asarray(table)[None])[0])


def _prediction_strengths(tables: np.ndarray) -> np.ndarray:
    """:func:`prediction_strength_of` of every table of a batch (n_tables, k, k) at once."""
    tables = np.asarray(tables, dtype=np.float64)
    sizes = tables.sum(axis=2)
    kept = sizes >= 2
    together = (tables * (tables - 1)).sum(axis=2)
    shares = np.full(sizes.shape, np.inf)
    np.divide(together, sizes * (sizes - 1), out=shares, where=kept)
    worst = shares.min(axis=1)
    worst[~kept.any(axis=1)] = np.nan
    return worst


def instability_of(table: np.ndarray) -> float:
    """Share of customers labelled differently under the best matching of labels.

    Parameters
    ----------
    table : ndarray of shape (k, k)
        Contingency of two labellings of the same customers.

    Returns
    -------
    float
        ``1 - (most customers on the diagonal after permuting columns) / n``.
    """
    table = np.asarray(table)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(1.0 - table[rows, cols].sum() / table.sum())


def pair_jaccard(table: np.ndarray) -> float:
    """Jaccard similarity of the pairs two labellings put together (Ben-Hur et al.).

    ``N11 / (N11 + N10 + N01)``, where ``N11`` counts the pairs of customers
    together in both labellings and ``N10``, ``N01`` those together in one only.

    Parameters
    ----------
    table : ndarray of shape (k_a, k_b)
        Contingency of the two labellings.

    Returns
    -------
    float
        1 when no pair is together in either labelling.
    """
    return float(_pair_jaccards(np.asarray(table)[None])[0])


def _pair_jaccards(tables: np.ndarray) -> np.ndarray:
    """:func:`pair_jaccard` of every table of a batch (n_tables, k_a, k_b) at once."""
    tables = np.asarray(tables, dtype=np.float64)
    both = (tables * (tables - 1)).sum(axis=(1, 2)) / 2
    sizes_a, sizes_b = tables.sum(axis=2), tables.sum(axis=1)
    in_a = (sizes_a * (sizes_a - 1)).sum(axis=1) / 2
    in_b = (sizes_b * (sizes_b - 1)).sum(axis=1) / 2
    union = in_a + in_b - both
    jaccard = np.ones(len(tables))
    np.divide(both, union, out=jaccard, where=union != 0)
    return jaccard


@lru_cache(maxsize=256)
def random_instability(n_rows: int, k: int) -> float:
    """The instability of chance: two independent uniform labellings with ``k`` labels.

    Lange et al. divide a K's instability by this, since even random labels
    agree on ``1/k`` of the customers or more after the best matching. Estimated
    from a fixed number of seeded draws, so it depends on ``n_rows`` and ``k`` only.

    Parameters
    ----------
    n_rows : int
    k : int

    Returns
    -------
    float
    """
    rng = np.random.default_rng(n_rows * 1000 + k)
    a = rng.integers(k, size=(_CHANCE_DRAWS, n_rows))
    b = rng.integers(k, size=(_CHANCE_DRAWS, n_rows))
    return float(np.mean([instability_of(t) for t in contingency(a, b, k)]))


# -- the experiments ----------------------------------------------------------------------
@dataclass(frozen=True)
class ResamplingScores:
    """Per K, the mean of each criterion over the repeats and its standard error.

    Attributes
    ----------
    table : DataFrame
        ``k``, ``prediction_strength``, ``prediction_strength_se``,
        ``instability``, ``instability_se``, ``subsample_stability``,
        ``subsample_stability_se``.
    rows_used : int
        Rows the experiments drew from.
    draws : dict of str to ndarray
        Per criterion, its value on every draw, shape (n_k, n_draws): for
        ``prediction_strength`` and ``instability`` one column per direction of
        every pair of halves, for ``subsample_stability`` one per pair of
        subsamples. The draws are the same for every K, so two K can be
        compared draw by draw.
    """

    table: pd.DataFrame
    rows_used: int
    draws: dict[str, np.ndarray]


def _half_split_scores(
    X: np.ndarray, k: int, halves: np.ndarray, rng: np.random.Generator, n_init: int
) -> tuple[np.ndarray, np.ndarray]:
    """Prediction strength and normalised instability of every direction of every split.

    ``halves`` (repeats, 2, half) holds row indices; each repeat gives two
    directions (A's centres label B, B's centres label A).
    """
    repeats, _, half = halves.shape
    Xh = X[halves.reshape(2 * repeats, half)]
    labels, centres = batch_kmeans(Xh, k, random_state=rng, n_init=n_init)
    swap = np.arange(2 * repeats).reshape(repeats, 2)[:, ::-1].ravel()  # A <-> B
    transferred = _nearest(Xh, centres[swap])
    tables = contingency(labels, transferred, k)
    strength = _prediction_strengths(tables)
    chance = random_instability(half, k)
    instability = np.array([instability_of(t) for t in tables]) / chance
    return strength, instability


def _subsample_scores(
    X: np.ndarray, k: int, draws: np.ndarray, rng: np.random.Generator, n_init: int
) -> np.ndarray:
    """Ben-Hur et al.'s pair Jaccard on the overlap of two subsamples, per repeat.

    ``draws`` (2 × repeats, size) holds sorted row indices; repeat ``r`` compares
    subsamples ``2r`` and ``2r + 1``.
    """
    labels, _ = batch_kmeans(X[draws], k, random_state=rng, n_init=n_init)
    repeats = len(draws) // 2
    # Every subsample's label of every row, -1 where it did not draw the row.
    by_row = np.full((2 * repeats, len(X)), -1)
    np.put_along_axis(by_row, draws[: 2 * repeats], labels[: 2 * repeats], axis=1)
    first, second = by_row[0::2], by_row[1::2]
    drawn_twice = (first >= 0) & (second >= 0)
    repeat = np.broadcast_to(np.arange(repeats)[:, None], first.shape)[drawn_twice]
    codes = (repeat * k + first[drawn_twice]) * k + second[drawn_twice]
    tables = np.bincount(codes, minlength=repeats * k * k).reshape(repeats, k, k)
    return _pair_jaccards(tables)


def _mean_se(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    se = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return float(values.mean()), float(se)


def resampling_scores(
    X: np.ndarray,
    k_values: list[int],
    *,
    n_repeats: int = RESAMPLES,
    fraction: float = SUBSAMPLE_FRACTION,
    n_init: int = FIT_STARTS,
    random_state: int,
) -> ResamplingScores:
    """Prediction strength, normalised instability and subsample stability for each K.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Scaled features, already reduced to a sample if the table is large (the
        cost is ``O(n_rows × K × n_repeats)``).
    k_values : list of int
        Candidates, each at least 2 and at most ``n_rows // 2``.
    n_repeats : int, default=:data:`RESAMPLES`
        Pairs of halves and pairs of subsamples drawn (the same draws for every K).
    fraction : float, default=:data:`SUBSAMPLE_FRACTION`
        Share of the rows in each subsample.
    n_init : int, default=:data:`FIT_STARTS`
        k-means++ starts per resampled fit.
    random_state : int

    Returns
    -------
    ResamplingScores
    """
    X = np.asarray(X, dtype=np.float64)
    n = len(X)
    # The same halves and subsamples for every K, so that differences between K are
    # not differences between draws; each K's fits are seeded by K alone.
    draw = np.random.default_rng(random_state)
    half = n // 2
    halves = np.stack([draw.permutation(n)[: 2 * half].reshape(2, half) for _ in range(n_repeats)])
    size = max(2, round(fraction * n))
    subsamples = np.sort(np.stack([draw.permutation(n)[:size] for _ in range(2 * n_repeats)]))
    rows = []
    draws: dict[str, list[np.ndarray]] = {name: [] for name in CRITERIA}
    for k in k_values:
        fit_rng = np.random.default_rng([random_state, k])
        strength, instability = _half_split_scores(X, k, halves, fit_rng, n_init)
        jaccard = _subsample_scores(X, k, subsamples, fit_rng, n_init)
        row: dict[str, float] = {"k": k}
        for name, values in zip(CRITERIA, (strength, instability, jaccard), strict=True):
            row[name], row[f"{name}_se"] = _mean_se(values)
            draws[name].append(values)
        rows.append(row)
    columns = ["k", *(c for name in CRITERIA for c in (name, f"{name}_se"))]
    widths = {"prediction_strength": 2 * n_repeats, "instability": 2 * n_repeats}
    return ResamplingScores(
        table=pd.DataFrame(rows, columns=columns),
        rows_used=n,
        draws={
            name: np.stack(values) if values else np.empty((0, widths.get(name, n_repeats)))
            for name, values in draws.items()
        },
    )


def prediction_strength(
    X: np.ndarray, k_values: list[int], *, n_repeats: int = RESAMPLES, random_state: int
) -> np.ndarray:
    """Mean prediction strength per K (Tibshirani & Walther, 2005); see the module docstring."""
    table = resampling_scores(X, k_values, n_repeats=n_repeats, random_state=random_state).table
    return table["prediction_strength"].to_numpy()


def normalised_instability(
    X: np.ndarray, k_values: list[int], *, n_repeats: int = RESAMPLES, random_state: int
) -> np.ndarray:
    """Mean normalised instability per K (Lange et al., 2004); see the module docstring."""
    table = resampling_scores(X, k_values, n_repeats=n_repeats, random_state=random_state).table
    return table["instability"].to_numpy()


def subsample_stability(
    X: np.ndarray,
    k_values: list[int],
    *,
    n_repeats: int = RESAMPLES,
    fraction: float = SUBSAMPLE_FRACTION,
    random_state: int,
) -> np.ndarray:
    """Mean pair Jaccard per K (Ben-Hur, Elisseeff & Guyon, 2002); see the module docstring."""
    table = resampling_scores(
        X, k_values, n_repeats=n_repeats, fraction=fraction, random_state=random_state
    ).table
    return table["subsample_stability"].to_numpy()
