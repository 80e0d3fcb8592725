"""Choosing the number of segments K, and saying whether there is structure at all.

For every K in ``k_min..k_max`` the engine is fitted on a seeded uniform sample
of at most :data:`SWEEP_SAMPLE` rows (:func:`custseg.segmentation.sampling.uniform_sample`:
the same customers in any order give the same sample in the same order) and
these criteria are recorded, each of which *votes* for one K:

===================  ====================================================  ==========
criterion            what it measures                                      vote
===================  ====================================================  ==========
elbow                knee of the inertia curve K=1..k_max, by kneedle      the knee
                     (Satopää et al., 2011; the ``kneed`` package)
silhouette           how much closer customers are to their own segment    highest
                     than to the next (Rousseeuw, 1987)
calinski_harabasz    between- over within-segment dispersion (1974)        highest
davies_bouldin       mean worst-case similarity of a segment to another    lowest
gap                  gap statistic (Tibshirani, Walther & Hastie, 2001):   see below
                     log within-dispersion of uniform reference data minus
                     the data's own; 10 references, K-Means, K = 1..k_max+1
bic                  Bayesian information criterion, mixture engines only  lowest
prediction_strength  Tibshirani & Walther (2005), K-Means on halves        largest K
                                                                           >= 0.8
instability          Lange et al. (2004), normalised                       lowest
subsample_stability  Ben-Hur, Elisseeff & Guyon (2002), pair Jaccard        largest K
                                                                           >= 0.9
===================  ====================================================  ==========

The gap's reference data are drawn uniformly over the tighter (smaller-volume)
of the data's box and its principal-component box. Its vote follows Dudoit &
Fridlyand's "global maximum within one standard error": with ``G*`` the highest
gap and ``s*`` its standard error, the vote is the smallest K >= 2 with
``Gap(K) >= G* - s*`` — unless ``G* - s*`` is no more than 0.1 above ``Gap(1)``,
in which case the vote is 1: "no more structure than uniform random data".

The rule
--------
:func:`custseg.segmentation.k_rule.pick_k`: among the K whose prediction
strength reaches 0.8, the best silhouette (the separation that comes back), a
smaller K within one standard error of it preferred, with notes when no K comes
back reliably or the choice sits at the edge of the range. It was chosen on labelled data by
cross-validation over data sets (``benchmarks/k_selection.py``,
``docs/choosing-k.md``). Every criterion's own vote is still reported, and
``agreement`` counts how many voted for the chosen K. :func:`combine_votes`,
the rank vote of Calinski-Harabasz and Davies-Bouldin that chose K before, is
kept for the benchmark's comparison.

The resampling criteria use the first :data:`RESAMPLE_ROWS` rows of the sample
and draws seeded by :data:`RESAMPLING_SEED` rather than ``random_state``, with
more draws on small tables (:func:`resampling_repeats`).

Structure
---------
``structure`` says how far to trust that segments exist at all. The words and
the silhouette thresholds are those of :mod:`custseg.verdicts` (after Kaufman &
Rousseeuw, 1990: at most 0.25 no substantial structure, up to 0.50 weak, above
0.50 clear).

* ``none`` — the gap statistic votes 1, or every silhouette is at most 0.25.
  Segments are still produced, but they cut a continuum rather than find
  groups.
* ``clear`` — not ``none``, the chosen K's silhouette is above 0.50 and at least
  half of the criteria agree on it.
* ``weak`` — everything in between.

Large inputs
------------
The silhouette is O(n²), so the sweep runs on at most :data:`SWEEP_SAMPLE` rows
(the gap statistic on at most :data:`GAP_SAMPLE`, the resampling criteria on at
most :data:`RESAMPLE_ROWS`: the sample's first rows, themselves a uniform
sample). The final model is always fitted on every row. The sweep computes the
sample's pairwise distances once and scores every K's silhouette from them
(:func:`custseg.segmentation.quality.silhouette_rows`); Calinski-Harabasz and
Davies-Bouldin come from per-segment sums
(:func:`custseg.segmentation.quality.validity_scores`). Both keep scikit-learn's
definitions and agree with its functions to rounding.
"""

from __future__ import annotations

import math
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans, MiniBatchKMeans

from custseg.engines import get_engine
from custseg.engines.base import one_thread, prechecked_fits
from custseg.segmentation.k_rule import COMES_BACK, pick_k
from custseg.segmentation.quality import (
    segment_ids,
    silhouette_rows,
    silhouettes,
    validity_scores,
)
from custseg.segmentation.resampling import RESAMPLES, ResamplingScores, resampling_scores
from custseg.segmentation.sampling import uniform_sample
from custseg.verdicts import CLEAR_SILHOUETTE, NO_STRUCTURE_SILHOUETTE

__all__ = [
    "CRITERIA",
    "GAP_REFERENCES",
    "GAP_SAMPLE",
    "MAX_RESAMPLES",
    "RESAMPLE_ROWS",
    "RESAMPLING_COLUMNS",
    "RESAMPLING_SEED",
    "SUBSAMPLE_AGREEMENT",
    "SWEEP_SAMPLE",
    "KSelection",
    "combine_votes",
    "criterion_votes",
    "describe_k_choice",
    "gap_statistic",
    "judge_structure",
    "knee_of",
    "representative_sample",
    "resampling_criteria",
    "resampling_repeats",
    "resampling_votes",
    "select_k",
    "structure_for_given_k",
    "sweep_k",
    "sweep_summary",
]

CRITERIA = ("elbow", "silhouette", "calinski_harabasz", "davies_bouldin", "gap", "bic")
SWEEP_SAMPLE = 4000
GAP_SAMPLE = 1000
#: Rows the resampling criteria draw from: the first rows of the sweep's uniform
#: sample, themselves a uniform sample (their cost is O(rows × K × resamples)).
RESAMPLE_ROWS = 1000
#: At most this many pairs of halves on a small table (see :func:`resampling_repeats`).
MAX_RESAMPLES = 50
#: Seed of the resampling criteria's draws, whatever ``random_state``: on a table
#: where two K are about equally supported, the draws alone would otherwise decide
#: between them, and K would change with the seed. Their noise is handled by the
#: rule's one-standard-error preference instead (:mod:`custseg.segmentation.k_rule`).
RESAMPLING_SEED = 0
#: Ben-Hur et al.'s reading: the largest K whose subsamples still agree this well.
SUBSAMPLE_AGREEMENT = 0.9
#: The resampling criteria's columns of the K table.
RESAMPLING_COLUMNS = (
    "prediction_strength",
    "prediction_strength_se",
    "instability",
    "subsample_stability",
)
GAP_REFERENCES = 10
GAP_MIN_GAIN = 0.1
_MICRO_CLUSTERS = 50
#: Above ``POOL_FACTOR × size`` rows, :func:`representative_sample` works within a
#: seeded uniform pool of that many rows instead of assigning every row.
POOL_FACTOR = 100


@dataclass
class KSelection:
    """The outcome of choosing K.

    Attributes
    ----------
    table : DataFrame
        One row per K tried: ``k``, ``inertia``, ``silhouette``, ``calinski_harabasz``,
        ``davies_bouldin``, ``gap``, ``gap_se`` and, for mixture engines, ``bic``.
    chosen : int
    votes : dict
        Criterion → the K it prefers (the gap may say 1; None when it has no opinion).
    agreement : int
        How many criteria voted for ``chosen``.
    n_criteria : int
    reason : str
        One sentence.
    structure : {"clear", "weak", "none"}
    structure_reason : str
    rows_used : int
        Rows the sweep was computed on.
    gap_rows : int
        Rows the gap statistic was computed on.
    gap_k1 : float or None
        Gap at K = 1.
    resampling_rows : int
        Rows the resampling criteria were computed on.
    rows_total : int
        Rows the sample was drawn from.
    notes : list of str
        What to know beyond the reason: no K comes back, or the choice sits at
        the edge of the range.
    equally_supported : list of int
        The K about as well supported as the chosen one (itself included).
    stands_out : bool
        False when no K comes back reliably or the choice sits at the edge.
    """

    table: pd.DataFrame
    chosen: int
    votes: dict[str, int | None]
    agreement: int
    n_criteria: int
    reason: str
    structure: str
    structure_reason: str
    rows_used: int
    gap_rows: int
    gap_k1: float | None = None
    resampling_rows: int = 0
    rows_total: int = 0
    notes: list[str] = field(default_factory=list)
    equally_supported: list[int] = field(default_factory=list)
    stands_out: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def to_summary(self) -> dict[str, Any]:
        """The ``k_selection`` fields of ``summary.json`` (besides ``method`` and range)."""
        return {
            "table": self.table.to_dict(orient="records"),
            "chosen": int(self.chosen),
            "votes": dict(self.votes),
            "agreement": int(self.agreement),
            "n_criteria": int(self.n_criteria),
            "reason": self.reason,
            "structure": self.structure,
            "structure_reason": self.structure_reason,
            "rows_used": int(self.rows_used),
            "gap_rows": int(self.gap_rows),
            "resampling_rows": int(self.resampling_rows),
            "rows_total": int(self.rows_total),
            "equally_supported": [int(k) for k in self.equally_supported],
            "stands_out": bool(self.stands_out),
            "notes": list(self.notes),
        }


# -- sampling -------------------------------------------------------------------------
def representative_sample(X: np.ndarray, size: int, *, random_state: int = 42) -> np.ndarray:
    """Row indices of a seeded sample that keeps small clusters represented.

    The rows are first grouped into 50 micro-clusters (mini-batch K-Means). Each
    micro-cluster contributes its proportional share of ``size`` rows, but never
    fewer than ``size // 100`` (or all its rows when it has fewer), so a group of
    customers far rarer than 1 in ``size`` still appears in the sample. Small
    groups are thereby over-represented a little; that is the point.

    Tables of more than :data:`POOL_FACTOR` × ``size`` rows are first reduced to a
    seeded uniform pool of that many rows (400,000 for the sweep's 4,000), and the
    grouping and drawing happen within the pool: assigning all 10 million rows of
    a big table to micro-clusters cost about a second and changed nothing that
    matters, since the micro-clusters are learnt on a 20 × ``size`` subset anyway,
    so a group too rare to appear in the pool could not get one of its own. Up to
    that size the sample is exactly what it was without the pool.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    size : int
        Target sample size (the result may exceed it by up to ``size // 2``).
    random_state : int, default=42

    Returns
    -------
    ndarray of int
        Sorted row indices; ``arange(n_rows)`` when ``n_rows <= size``.
    """
    n = len(X)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(random_state)
    pool = None
    if n > POOL_FACTOR * size:
        pool = np.sort(rng.choice(n, size=POOL_FACTOR * size, replace=False))
        X, n = X[pool], len(pool)
    # The micro-clusters are learnt on a uniform sample, then every row is assigned.
    # One thread: its small mini-batch steps gain nothing from more, and OpenMP
    # threads waiting on each other cost seconds when other work holds the cores.
    fit_rows = rng.choice(n, size=min(n, 20 * size), replace=False)
    with one_thread():
        micro = MiniBatchKMeans(
            n_clusters=_MICRO_CLUSTERS, n_init=1, batch_size=4096, random_state=random_state
        ).fit(X[fit_rows])
        groups = micro.predict(X)
    floor = max(1, size // 100)
    chosen: list[np.ndarray] = []
    for g in range(_MICRO_CLUSTERS):
        members = np.flatnonzero(groups == g)
        if not len(members):
            continue
        quota = min(len(members), max(floor, round(size * len(members) / n)))
        chosen.append(rng.choice(members, size=quota, replace=False))
    rows = np.sort(np.concatenate(chosen))
    return rows if pool is None else pool[rows]


# -- criteria -------------------------------------------------------------------------
def _reference_box(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The tighter of the data's box and its principal-component box.

    Tibshirani et al. offer both: (a) the range of each feature, (b) the range of
    each principal component. The PC box hugs elongated, diagonal data; on round
    data it is a rotated, larger box, which would make any data look clustered.
    Taking the box of smaller volume suits both.

    Returns
    -------
    mean, rotation, lo, hi
        Reference rows are ``uniform(lo, hi) @ rotation + mean``.
    """
    mean = X.mean(axis=0)
    _, _, vt = np.linalg.svd(X - mean, full_matrices=False)
    candidates = [np.eye(X.shape[1]), vt]
    best: tuple[float, np.ndarray, np.ndarray, np.ndarray] | None = None
    for rot in candidates:
        proj = (X - mean) @ rot.T
        lo, hi = proj.min(axis=0), proj.max(axis=0)
        if len(lo) < X.shape[1]:  # fewer rows than features: rank-deficient PC box
            continue
        log_volume = float(np.log(np.maximum(hi - lo, 1e-12)).sum())
        if best is None or log_volume < best[0] - 1e-9:
            best = (log_volume, rot, lo, hi)
    assert best is not None  # the feature box (identity rotation) is never skipped
    _, rot, lo, hi = best
    return mean, rot, lo, hi


def _log_w(X: np.ndarray, k: int, random_state: int, n_init: int) -> float:
    if k == 1:
        w = float(((X - X.mean(axis=0)) ** 2).sum())
    else:
        model = KMeans(n_clusters=k, n_init=n_init, random_state=random_state)
        w = float(model.fit(X).inertia_)
    return math.log(max(w, 1e-300))


def gap_statistic(
    X: np.ndarray, k_values: list[int], *, n_refs: int = GAP_REFERENCES, random_state: int = 42
) -> pd.DataFrame:
    """Gap statistic of Tibshirani, Walther & Hastie (2001) with K-Means.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Scaled features (at most a few thousand rows: 10 × len(k_values) fits).
    k_values : list of int
        Ascending, may start at 1.
    n_refs : int, default=10
        Reference data sets drawn uniformly over the principal-component box.
    random_state : int, default=42

    Returns
    -------
    DataFrame
        ``k``, ``gap`` and ``gap_se`` (= sd · sqrt(1 + 1/n_refs)).
    """
    rng = np.random.default_rng(random_state)
    mean, rot, lo, hi = _reference_box(X)
    refs = [rng.uniform(lo, hi, size=(len(X), len(lo))) @ rot + mean for _ in range(n_refs)]
    rows = []
    distinct = len(np.unique(X, axis=0))
    with prechecked_fits():
        for k in k_values:
            if k > distinct:
                rows.append({"k": k, "gap": np.nan, "gap_se": np.nan})
                continue
            # One restart per reference: on uniform data the restarts barely differ.
            observed = _log_w(X, k, random_state, n_init=3)
            ref_logs = np.array([_log_w(R, k, random_state, n_init=1) for R in refs])
            rows.append(
                {
                    "k": k,
                    "gap": float(ref_logs.mean() - observed),
                    "gap_se": float(ref_logs.std() * math.sqrt(1 + 1 / n_refs)),
                }
            )
    return pd.DataFrame(rows)


def _gap_vote(gap: pd.DataFrame) -> int | None:
    """The gap statistic's K by the rule in the module docstring (1 = no structure)."""
    g = gap.dropna()
    if g.empty:
        return None
    ks, vals, ses = g["k"].tolist(), g["gap"].to_numpy(), g["gap_se"].to_numpy()
    best = int(np.argmax(vals))
    floor = vals[best] - ses[best]
    if 1 in ks and floor <= vals[ks.index(1)] + GAP_MIN_GAIN:
        return 1
    return int(next(k for k, v in zip(ks, vals, strict=True) if k >= 2 and v >= floor))


def _argrelextrema(
    data: np.ndarray, comparator: Any, axis: int = 0, order: int = 1, mode: str = "clip"
) -> tuple[np.ndarray]:
    """``scipy.signal.argrelextrema`` for the one call kneed makes: 1-D, order 1, clipped ends.

    A point is kept when ``comparator`` holds against both neighbours; at the
    ends, where the clipped neighbour is the point itself, against the one it has.
    """
    if axis != 0 or order != 1 or mode != "clip":
        raise ValueError("only argrelextrema(data, comparator) is provided")
    data = np.asarray(data)
    after = np.append(data[1:], data[-1:])
    before = np.append(data[:1], data[:-1])
    return (np.flatnonzero(comparator(data, after) & comparator(data, before)),)


def _knee_locator() -> type:
    """kneed's ``KneeLocator``, imported without matplotlib or SciPy's signal package.

    kneed imports ``matplotlib.pyplot`` for plotting helpers custseg never calls,
    and ``scipy.signal`` for one small function, :func:`_argrelextrema`: imports
    that would add about half a second and a tenth of a second to every run.
    While kneed is imported, a ``None`` entry in ``sys.modules`` makes its guarded
    matplotlib import fail fast, and a module holding :func:`_argrelextrema`
    stands for ``scipy.signal``; both are removed at once, so later imports of
    the real packages work as usual. Packages already loaded are used as they are.
    """
    if "kneed" not in sys.modules:
        stand_ins: dict[str, Any] = {}
        if "matplotlib.pyplot" not in sys.modules:
            stand_ins["matplotlib.pyplot"] = None
        if "scipy.signal" not in sys.modules:
            signal = types.ModuleType("scipy.signal")
            signal.argrelextrema = _argrelextrema  # type: ignore[attr-defined]
            stand_ins["scipy.signal"] = signal
        sys.modules.update(stand_ins)
        try:
            import kneed  # noqa: F401
        finally:
            for name in stand_ins:
                del sys.modules[name]
    from kneed import KneeLocator

    return KneeLocator


def knee_of(k: list[int], inertia: list[float]) -> int | None:
    """Knee of a decreasing, convex inertia curve by kneedle; None when there is none."""
    if len(k) < 3:
        return None
    locator = _knee_locator()(k, inertia, curve="convex", direction="decreasing", online=False)
    return int(locator.knee) if locator.knee is not None else None


def sweep_k(
    X: np.ndarray,
    k_values: list[int],
    *,
    algorithm: str = "kmeans",
    random_state: int = 42,
    gap: bool = True,
    labels_out: dict[int, np.ndarray] | None = None,
    silhouettes_out: dict[int, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Fit the engine for each K and compute every criterion.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Scaled feature values (already sampled if the table is large).
    k_values : list of int
        The candidate numbers of segments, each in 2..n_rows-1, ascending.
    algorithm : str, default="kmeans"
        A registered engine name that takes K.
    random_state : int, default=42
    gap : bool, default=True
        Also compute the gap statistic (on at most :data:`GAP_SAMPLE` rows), for
        K = 1..max(k_values)+1. Its K = 1 and K = max+1 rows are kept in
        ``DataFrame.attrs["gap_extra"]``.

    Returns
    -------
    DataFrame
        ``k``, ``inertia``, ``silhouette``, ``calinski_harabasz``, ``davies_bouldin``,
        ``gap``, ``gap_se``, and ``bic`` for mixture engines. ``attrs`` holds
        ``total_inertia`` (K = 1) and ``gap_rows``.
    labels_out : dict, optional
        Filled with K → the labels of ``X`` (for benchmarks).
    silhouettes_out : dict, optional
        Filled with K → every row's silhouette (the K with two to n_rows - 1
        segments), for comparing two K customer by customer.
    """
    engine = get_engine(algorithm)
    # Single-threaded: on a sample of a few thousand rows, thread start-up costs more
    # than it saves (and results do not depend on the machine's core count).
    with one_thread(), prechecked_fits():
        return _sweep(X, k_values, engine, random_state, gap, labels_out, silhouettes_out)


def _sweep(X, k_values, engine, random_state, gap, labels_out, silhouettes_out) -> pd.DataFrame:
    rows: list[dict[str, float]] = []
    scored: dict[int, np.ndarray] = {}  # row index -> labels with 2..n-1 segments
    for k in k_values:
        fitted = engine.fit(X, k, random_state=random_state)
        labels = fitted.labels
        if labels_out is not None:
            labels_out[k] = labels
        inertia = float(((X - fitted.centers[labels]) ** 2).sum())
        row: dict[str, float] = {"k": k, "inertia": inertia}
        n_labels = len(np.unique(labels))
        if 1 < n_labels < len(X):
            scored[len(rows)] = labels
            ch, db = validity_scores(X, labels)
            row.update(calinski_harabasz=ch, davies_bouldin=db)
        else:
            row.update(calinski_harabasz=np.nan, davies_bouldin=np.nan)
        row["silhouette"] = np.nan
        if engine.mixture:
            bic = engine.bic(X, fitted)
            row["bic"] = np.nan if bic is None else float(bic)
        rows.append(row)
    # Every K's silhouette from one pass over the pairwise distances.
    per_row: np.ndarray | list[np.ndarray] = (
        silhouette_rows(X, list(scored.values())) if scored else []
    )
    for i, values in zip(scored, per_row, strict=True):
        rows[i]["silhouette"] = float(np.mean(values))
        if silhouettes_out is not None:
            silhouettes_out[int(rows[i]["k"])] = values
    table = pd.DataFrame(rows)
    table.attrs["total_inertia"] = float(((X - X.mean(axis=0)) ** 2).sum())
    if gap:
        Xg = X[uniform_sample(X, GAP_SAMPLE, random_state=random_state)]
        g = gap_statistic(Xg, list(range(1, max(k_values) + 2)), random_state=random_state)
        table = table.merge(g, on="k", how="left")
        table.attrs["total_inertia"] = float(((X - X.mean(axis=0)) ** 2).sum())
        table.attrs["gap_full"] = g.to_dict(orient="list")
        table.attrs["gap_rows"] = len(Xg)
    cols = ["k", "inertia", "silhouette", "calinski_harabasz", "davies_bouldin"]
    cols += [c for c in ("gap", "gap_se", "bic") if c in table.columns]
    attrs = dict(table.attrs)
    table = table[cols]
    table.attrs.update(attrs)
    return table


def criterion_votes(table: pd.DataFrame) -> dict[str, int | None]:
    """Each criterion's preferred K from a :func:`sweep_k` table (see module docstring)."""
    ks = [int(v) for v in table["k"]]
    votes: dict[str, int | None] = {}
    k_curve = [1, *ks] if "total_inertia" in table.attrs else ks
    inertia = table["inertia"].tolist()
    curve = [table.attrs["total_inertia"], *inertia] if "total_inertia" in table.attrs else inertia
    knee = knee_of(k_curve, curve)
    votes["elbow"] = knee if knee is not None and knee >= ks[0] else None

    def arg(col: str, best: str) -> int | None:
        vals = table[col].to_numpy(dtype=float)
        if np.isnan(vals).all():
            return None
        i = int(np.nanargmax(vals) if best == "max" else np.nanargmin(vals))
        return ks[i]

    votes["silhouette"] = arg("silhouette", "max")
    votes["calinski_harabasz"] = arg("calinski_harabasz", "max")
    votes["davies_bouldin"] = arg("davies_bouldin", "min")
    if "gap_full" in table.attrs:
        full = pd.DataFrame(table.attrs["gap_full"])
        votes["gap"] = _gap_vote(full)
    if "bic" in table.columns:
        votes["bic"] = arg("bic", "min")
    return votes


def _ranks(values: np.ndarray, best: str) -> np.ndarray:
    """Rank 0 for the best value; NaN ranks last."""
    v = np.where(np.isnan(values), -np.inf if best == "max" else np.inf, values)
    order = np.argsort(-v if best == "max" else v, kind="stable")
    ranks = np.empty(len(v), dtype=int)
    ranks[order] = np.arange(len(v))
    return ranks


def combine_votes(votes: dict[str, int | None], table: pd.DataFrame) -> tuple[int, int, str]:
    """The rank vote of Calinski-Harabasz and Davies-Bouldin that chose K before the rule.

    Parameters
    ----------
    votes : dict
        Criterion → K, from :func:`criterion_votes`.
    table : DataFrame
        The :func:`sweep_k` table (``k``, ``calinski_harabasz``, ``davies_bouldin``,
        ``silhouette``, and ``gap`` when computed).

    Returns
    -------
    chosen : int
    agreement : int
        Number of criteria whose own vote is ``chosen``.
    reason : str
    """
    ks = [int(v) for v in table["k"]]
    rank_sum = _ranks(table["calinski_harabasz"].to_numpy(dtype=float), "max") + _ranks(
        table["davies_bouldin"].to_numpy(dtype=float), "min"
    )
    tied = [k for k, r in zip(ks, rank_sum, strict=True) if r == rank_sum.min()]
    if "gap" in table.columns and table["gap"].notna().any():
        tiebreak, tb_name = table["gap"].to_numpy(dtype=float), "gap statistic"
    else:
        tiebreak, tb_name = table["silhouette"].to_numpy(dtype=float), "silhouette"
    score = dict(zip(ks, np.nan_to_num(tiebreak, nan=-np.inf), strict=True))
    chosen = max(tied, key=lambda k: (score[k], -k))
    supporters = [c for c, v in votes.items() if v == chosen]
    agreement = len(supporters)
    if len(tied) == 1:
        why = f"Calinski-Harabasz and Davies-Bouldin together rank K={chosen} best"
    else:
        why = (
            f"Calinski-Harabasz and Davies-Bouldin together rank K="
            f"{' and K='.join(map(str, tied))} equally; the {tb_name} prefers K={chosen}"
        )
    if supporters:
        why += f"; {agreement} of {len(votes)} criteria vote for it ({', '.join(supporters)})"
    else:
        why += f"; no single criterion votes for it (0 of {len(votes)})"
    return chosen, agreement, why


def judge_structure(
    votes: dict[str, int | None], table: pd.DataFrame, chosen: int, agreement: int
) -> tuple[str, str]:
    """``clear`` / ``weak`` / ``none`` and a sentence, by the rule in the module docstring."""
    sil = table.set_index("k")["silhouette"]
    best = float(np.nanmax(sil.to_numpy(dtype=float))) if sil.notna().any() else float("nan")
    chosen_sil = float(sil.get(chosen, np.nan))
    n_criteria = len(votes)
    if votes.get("gap") == 1:
        return "none", (
            "the gap statistic finds no more structure than in uniform random data (it prefers "
            "K=1): the segments cut a continuum rather than separate distinct groups"
        )
    if not best > NO_STRUCTURE_SILHOUETTE:
        return "none", (
            f"every silhouette is at most {NO_STRUCTURE_SILHOUETTE} (best {best:.2f}): the "
            "segments overlap almost completely"
        )
    if chosen_sil > CLEAR_SILHOUETTE and 2 * agreement >= n_criteria:
        return "clear", (
            f"{agreement} of {n_criteria} criteria agree and the silhouette is "
            f"{chosen_sil:.2f} (> {CLEAR_SILHOUETTE})"
        )
    return "weak", (
        f"{agreement} of {n_criteria} criteria agree and the silhouette is {chosen_sil:.2f}; "
        "the segments are usable but their borders are soft"
    )


def select_k(
    Z: np.ndarray,
    k_values: list[int],
    *,
    algorithm: str = "kmeans",
    random_state: int = 42,
    sample_size: int = SWEEP_SAMPLE,
) -> KSelection:
    """Sweep K over ``k_values`` and pick K by :func:`custseg.segmentation.k_rule.pick_k`.

    Every figure is computed on rows drawn by
    :func:`custseg.segmentation.sampling.uniform_sample` and in its order, so the
    same customers in any order give the same choice: the sweep and the
    silhouettes on at most ``sample_size`` rows, the gap statistic on the first
    :data:`GAP_SAMPLE` of them, the resampling criteria on the first
    :data:`RESAMPLE_ROWS`.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
        Scaled features of every usable row.
    k_values : list of int
        Ascending candidates, each at least 2.
    algorithm : str, default="kmeans"
    random_state : int, default=42
    sample_size : int, default=:data:`SWEEP_SAMPLE`

    Returns
    -------
    KSelection
    """
    Zs = Z[uniform_sample(Z, sample_size, random_state=random_state)]
    per_row: dict[int, np.ndarray] = {}
    table = sweep_k(
        Zs, k_values, algorithm=algorithm, random_state=random_state, silhouettes_out=per_row
    )
    resampled = resampling_criteria(Zs, k_values)
    attrs = dict(table.attrs)  # a merge drops them
    table = table.merge(resampled.table[["k", *RESAMPLING_COLUMNS]], on="k", how="left")
    table.attrs.update(attrs)
    pick = pick_k(
        k_values,
        table["silhouette"].to_numpy(dtype=float),
        np.nan_to_num(resampled.draws["prediction_strength"]),
        calinski_harabasz=table["calinski_harabasz"].to_numpy(dtype=float),
        silhouette_per_row=_per_row_matrix(per_row, k_values, len(Zs)),
    )
    table["score"] = pick.scores
    votes = {**criterion_votes(table), **resampling_votes(table)}
    supporters = [c for c, v in votes.items() if v == pick.k]
    structure, structure_reason = judge_structure(votes, table, pick.k, len(supporters))
    table["calinski_harabasz"] = _ch_of_all_rows(table, len(Zs), len(Z))
    gap_full = pd.DataFrame(table.attrs.get("gap_full", {"k": [], "gap": []}))
    gap_k1 = gap_full.loc[gap_full["k"] == 1, "gap"]
    return KSelection(
        table=table.reset_index(drop=True),
        chosen=int(pick.k),
        votes=votes,
        agreement=len(supporters),
        n_criteria=len(votes),
        reason=pick.reason + _supporters_phrase(supporters, len(votes)),
        structure=structure,
        structure_reason=structure_reason,
        rows_used=len(Zs),
        gap_rows=int(table.attrs.get("gap_rows", 0)),
        gap_k1=float(gap_k1.iloc[0]) if len(gap_k1) else None,
        resampling_rows=resampled.rows_used,
        rows_total=len(Z),
        notes=list(pick.notes),
        equally_supported=list(pick.equally_supported),
        stands_out=pick.stands_out,
    )


def resampling_repeats(n_rows: int) -> int:
    """Pairs of halves (and of subsamples) drawn from ``n_rows`` rows.

    :data:`~custseg.segmentation.resampling.RESAMPLES` at :data:`RESAMPLE_ROWS`
    rows, more on fewer rows (at most :data:`MAX_RESAMPLES`) so that small
    tables, where each draw says less, get as many customer-draws.
    """
    wanted = math.ceil(RESAMPLES * RESAMPLE_ROWS / max(n_rows, 1))
    return int(min(MAX_RESAMPLES, max(RESAMPLES, wanted)))


def resampling_criteria(sample: np.ndarray, k_values: list[int]) -> ResamplingScores:
    """The resampling criteria of every K, on the first rows of the sweep's sample.

    Parameters
    ----------
    sample : ndarray of shape (n_rows, n_features)
        The sweep's rows, in the order of
        :func:`~custseg.segmentation.sampling.uniform_sample`; the criteria use
        the first :data:`RESAMPLE_ROWS`, put in the order of their keys under
        :data:`RESAMPLING_SEED` (of the values rounded to float32) so that the
        draws depend on the customers alone.
    k_values : list of int

    Returns
    -------
    ResamplingScores
        One table row per K; a K with fewer than two rows per segment in each
        half of the rows gets NaN (its prediction strength counts as 0).
    """
    X = sample[:RESAMPLE_ROWS]
    # Keyed on values rounded to float32: engines whose scalers differ in the last
    # bit (streamed or distributed sums) still draw the same halves.
    X = X[uniform_sample(X.astype(np.float32), len(X), random_state=RESAMPLING_SEED)]
    ks = [k for k in k_values if 2 * k <= len(X) // 2]
    scores = resampling_scores(
        X, ks, n_repeats=resampling_repeats(len(X)), random_state=RESAMPLING_SEED
    )
    where = {int(k): i for i, k in enumerate(scores.table["k"])}
    draws = {}
    for name, values in scores.draws.items():
        padded = np.full((len(k_values), values.shape[1]), np.nan)
        for row, k in enumerate(k_values):
            if k in where:
                padded[row] = values[where[k]]
        draws[name] = padded
    table = scores.table.set_index("k").reindex(k_values).rename_axis("k").reset_index()
    return ResamplingScores(table=table, rows_used=len(X), draws=draws)


def _ch_of_all_rows(table: pd.DataFrame, n_sample: int, n_rows: int) -> np.ndarray:
    """The sample's Calinski-Harabasz indices, scaled to all rows.

    The index is ``(n - K) / (K - 1)`` times the ratio of between- to
    within-segment dispersion: the ratio does not depend on the number of rows,
    the factor grows with it, so a sample's index times ``(n_rows - K) /
    (n_sample - K)`` estimates the index of the same segments on every row.
    """
    k = table["k"].to_numpy(dtype=float)
    return table["calinski_harabasz"].to_numpy(dtype=float) * (n_rows - k) / (n_sample - k)


def _per_row_matrix(per_row: dict[int, np.ndarray], k_values: list[int], n: int) -> np.ndarray:
    """Per-customer silhouettes, one row per K (0 where a K has none)."""
    return np.stack([per_row.get(k, np.zeros(n)) for k in k_values])


def resampling_votes(table: pd.DataFrame) -> dict[str, int | None]:
    """Each resampling criterion's own K, as its authors read it.

    Prediction strength: the largest K that comes back
    (:data:`custseg.segmentation.k_rule.COMES_BACK`); instability: the lowest;
    subsample stability: the largest K whose subsamples agree at least
    :data:`SUBSAMPLE_AGREEMENT` (the highest when none does).
    """
    ks = np.array([int(k) for k in table["k"]])
    votes: dict[str, int | None] = {}
    strength = table["prediction_strength"].to_numpy(dtype=float)
    if np.isnan(strength).all():
        return votes
    passing = ks[np.nan_to_num(strength) >= COMES_BACK]
    votes["prediction_strength"] = int(passing.max()) if len(passing) else None
    votes["instability"] = int(ks[np.nanargmin(table["instability"].to_numpy(dtype=float))])
    agree = table["subsample_stability"].to_numpy(dtype=float)
    stable = ks[np.nan_to_num(agree) >= SUBSAMPLE_AGREEMENT]
    votes["subsample_stability"] = int(stable.max() if len(stable) else ks[np.nanargmax(agree)])
    return votes


def _supporters_phrase(supporters: list[str], n_criteria: int) -> str:
    if not supporters:
        return f"; no single criterion votes for it (0 of {n_criteria})"
    return f"; {len(supporters)} of {n_criteria} criteria vote for it ({', '.join(supporters)})"


def structure_for_given_k(
    Z: np.ndarray, labels: np.ndarray, k: int, *, random_state: int = 42
) -> tuple[str, str, dict[str, Any]]:
    """Structure verdict when K was given (or chosen by a density engine).

    Uses the same thresholds as :func:`judge_structure`: the gap statistic over
    K = 1..k+1 (1-SE rule) and the silhouette of ``labels``.

    Returns
    -------
    structure : str
    reason : str
    details : dict
        ``silhouette``, ``gap_vote``, ``gap_rows``.
    """
    Zg = Z[uniform_sample(Z, GAP_SAMPLE, random_state=random_state)]
    n_distinct = len(np.unique(Zg, axis=0))
    ks = list(range(1, min(max(k, 1) + 1, n_distinct) + 1))
    gap_vote = _gap_vote(gap_statistic(Zg, ks, random_state=random_state)) if len(ks) > 1 else None
    sample = uniform_sample(Z, SWEEP_SAMPLE, random_state=random_state)
    keep = labels[sample] >= 0
    lab = labels[sample][keep]
    n_lab = len(np.unique(lab))
    sil = float("nan")
    if 1 < n_lab < len(lab):
        with one_thread():  # as in the sweep: same sums on any machine
            sil = silhouettes(Z[sample][keep], [lab])[0]
    details = {"silhouette": sil, "gap_vote": gap_vote, "gap_rows": len(Zg)}
    if n_lab < 2:
        return "none", "a single segment was found: there is nothing to separate", details
    if gap_vote == 1:
        return (
            "none",
            "the gap statistic finds no more structure than in uniform random data (it prefers "
            "K=1): the segments cut a continuum rather than separate distinct groups",
            details,
        )
    if not sil > NO_STRUCTURE_SILHOUETTE:
        return (
            "none",
            (
                f"the silhouette is {sil:.2f} (at most {NO_STRUCTURE_SILHOUETTE}): the segments "
                "overlap almost completely"
            ),
            details,
        )
    if sil > CLEAR_SILHOUETTE:
        return "clear", f"the silhouette is {sil:.2f} (> {CLEAR_SILHOUETTE})", details
    return "weak", f"the silhouette is {sil:.2f}; the segments' borders are soft", details


def describe_k_choice(
    choice: KSelection | None,
    Z: np.ndarray,
    labels: np.ndarray,
    *,
    k_min: int,
    k_max: int,
    given_k: int | None,
    algorithm: str = "kmeans",
    random_state: int = 42,
) -> dict[str, Any]:
    """The ``k_selection`` block of ``summary.json``.

    Keys: ``method`` (``auto``, ``given`` or ``density``), ``k_min``, ``k_max``,
    ``table``, ``chosen``, ``votes``, ``agreement``, ``n_criteria``, ``reason``,
    ``structure``, ``structure_reason``, ``rows_used``, ``gap_rows``, and for
    compatibility ``elbow`` and ``best_silhouette`` (the two classic votes).

    Parameters
    ----------
    choice : KSelection or None
        The sweep's outcome; None when K was given or the engine chose it.
    Z : ndarray of shape (n_rows, n_features)
        Scaled features of the fitted rows.
    labels : ndarray of shape (n_rows,)
        The final segmentation (used for the structure verdict without a sweep).
    k_min, k_max : int
    given_k : int or None
    algorithm : str, default="kmeans"
    random_state : int, default=42
    """
    found = len(segment_ids(labels))
    if choice is not None:
        block = sweep_summary(choice, k_min=k_min, k_max=k_max)
        if found != choice.chosen:
            block["reason"] += f" ({found} non-empty segments remained in the final fit)"
        return block
    structure, why, details = structure_for_given_k(
        Z, labels, max(found, 1), random_state=random_state
    )
    if given_k is not None and get_engine(algorithm).needs_k:
        method, reason = "given", f"K={given_k} was given"
    else:
        noise = int((labels < 0).sum())
        method = "density"
        reason = f"{algorithm} found {found} dense group(s)" + (
            f" and left {noise} customer(s) unassigned" if noise else ""
        )
        if given_k is not None:
            reason += f" (--k {given_k} does not apply: it chooses the number itself)"
    block = {
        "method": method,
        "k_min": k_min,
        "k_max": k_max,
        "table": [],
        "chosen": int(given_k) if method == "given" and given_k is not None else found,
        "votes": {"gap": details["gap_vote"]} if details["gap_vote"] is not None else {},
        "agreement": None,
        "n_criteria": 0,
        "reason": reason,
        "structure": structure,
        "structure_reason": why,
        "rows_used": len(Z),
        "gap_rows": details["gap_rows"],
    }
    return _with_classic_votes(block)


def sweep_summary(choice: KSelection, *, k_min: int, k_max: int) -> dict[str, Any]:
    """The ``k_selection`` block of ``summary.json`` for a sweep over ``k_min..k_max``.

    It is :func:`describe_k_choice`'s block as soon as K is chosen, before the final
    fit: the same unless fewer segments than ``choice.chosen`` remain in that fit.
    """
    block = {"method": "auto", "k_min": k_min, "k_max": k_max, **choice.to_summary()}
    return _with_classic_votes(block)


def _with_classic_votes(block: dict[str, Any]) -> dict[str, Any]:
    block["elbow"] = block["votes"].get("elbow")
    block["best_silhouette"] = block["votes"].get("silhouette")
    return block
