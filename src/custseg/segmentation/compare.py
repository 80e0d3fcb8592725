"""Compare algorithms and numbers of segments on one table (``custseg compare``).

For every algorithm and every K (density engines choose their own K: one row),
the engine is fitted on the same rows and scored with the silhouette,
Calinski-Harabasz, Davies-Bouldin, bootstrap stability (mean and worst
per-segment best-match Jaccard, mean ARI; see
:func:`custseg.segmentation.quality.resample_agreement`) and the segment sizes.

The recommendation rule
-----------------------
1. Only combinations whose *every* segment is at least weakly stable (worst
   segment's Jaccard >= 0.60) and that leave at most 20% of customers
   unassigned are eligible.
2. Among them, the highest silhouette wins: it is the one criterion that reads
   the same across algorithms and K (a mean over customers of how much closer
   they are to their own segment than to the next, from -1 to 1).
3. Ties (to 0.005) go to the more stable combination, then to fewer segments.

When nothing is eligible, the most stable combination is recommended and the
reason says that no combination is fully stable.

The reason also says which K ``custseg segment`` chooses with K-Means
(:func:`custseg.segmentation.k_choice.choose_k`, the one K rule): the same, or
why the two differ.

What is computed on which rows
------------------------------
Like the K sweep, the comparison runs on a seeded uniform sample
(:func:`~custseg.segmentation.sampling.uniform_sample`) of at most 4,000 rows:
every combination is fitted once on them (one sweep), and its silhouette,
Calinski-Harabasz and Davies-Bouldin are exact on those rows (the silhouettes of
all combinations come from one pass over the pairwise distances). Stability is one
pass shared by every combination: the same bootstrap resamples of one
uniform sample of at most 1,000 of those rows, refitted by every engine at
every K, so the combinations are judged on identical draws. The sweep and the
refits are one parallel pass (the silhouettes and the K of ``custseg segment``
are computed while the resamples are refitted). :class:`Comparison` says how many
rows each figure used.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from threadpoolctl import threadpool_limits

from custseg.engines import DEFAULT_ALGORITHMS, Engine, get_engine
from custseg.errors import InputError
from custseg.options import SegmentOptions
from custseg.segmentation.choose_k import SWEEP_SAMPLE
from custseg.segmentation.k_choice import choose_k
from custseg.segmentation.prepare import prepare, read_input
from custseg.segmentation.quality import (
    WEAK_JACCARD,
    resample_agreement,
    segment_ids,
    silhouettes,
)
from custseg.segmentation.sampling import uniform_sample

__all__ = ["Comparison", "compare_algorithms"]

MAX_NOISE_SHARE = 0.20
COMPARE_STABILITY_ROWS = 1000
_TIE = 0.005


@dataclass
class Comparison:
    """The outcome of :func:`compare_algorithms`.

    Attributes
    ----------
    table : DataFrame
        One row per algorithm × K: ``algorithm``, ``k``, ``silhouette``,
        ``calinski_harabasz``, ``davies_bouldin``, ``stability_mean_jaccard``,
        ``stability_min_jaccard``, ``stability_mean_ari``, ``unassigned_share``,
        ``sizes`` (segment sizes on the compared rows, largest first, "/"-joined),
        ``recommended``.
    recommended : dict
        ``algorithm`` and ``k`` of the recommended row.
    reason : str
    rows_used : int
        Rows every combination was fitted and scored on.
    stability_rows : int
        Rows of the one stability pass (0 when off), a representative sample of those.
    resamples : int
        Bootstrap resamples of that pass, shared by every combination.
    features : list of str
    segment_k : int or None
        The K ``custseg segment`` chooses with K-Means on the same table and options.
    """

    table: pd.DataFrame
    recommended: dict[str, Any]
    reason: str
    rows_used: int
    stability_rows: int
    resamples: int
    features: list[str]
    segment_k: int | None = None


_Task = tuple[Engine, np.ndarray, list[int], int]


@dataclass
class _Fit:
    engine: Engine
    k: int
    labels: np.ndarray


def _fit_labels(
    engine: Engine, Z: np.ndarray, ks: list[int], random_state: int
) -> list[np.ndarray]:
    """One engine's labels at each K in ``ks``, on one thread (a worker of :func:`_start`).

    :meth:`~custseg.engines.base.Engine.fit_each` gives what one fit per K gives, sharing
    what the engine can share across K (one Ward tree).
    """
    with threadpool_limits(limits=1):  # small fits: threads cost more than they save
        fitted = engine.fit_each(Z, ks, random_state=random_state)
    return [np.asarray(f.labels) for f in fitted]


def _start(tasks: list[_Task]) -> Generator[list[np.ndarray], None, None]:
    """:func:`_fit_labels` for every task, on every CPU; results lazily, in task order.

    The tasks run in the background while the caller works on the first results. Each
    fit is seeded on its own, so the results do not depend on the CPU count.
    """
    jobs = min(len(tasks), os.cpu_count() or 1)
    if jobs <= 1:
        return (_fit_labels(*task) for task in tasks)
    run = Parallel(n_jobs=jobs, return_as="generator")
    generator: Generator[list[np.ndarray], None, None] = run(
        delayed(_fit_labels)(*task) for task in tasks
    )
    return generator


def _k_lists(engines: list[Engine], ks: range) -> list[list[int]]:
    """The K each engine is fitted at: every K, or one fit (0) for density engines."""
    return [list(ks) if engine.needs_k else [0] for engine in engines]


def _tasks(
    engines: list[Engine], Z: np.ndarray, ks: range, resampled: list[np.ndarray], seed: int
) -> list[_Task]:
    """The one sweep (a task per engine, every K), then every resample's refits.

    Resample ``run`` is refitted by every engine at every K, seed ``seed + run + 1``.
    """
    pairs = list(zip(engines, _k_lists(engines, ks), strict=True))
    sweep = [(engine, Z, k_list, seed) for engine, k_list in pairs]
    refits = [
        (engine, Zr, k_list, seed + run + 1)
        for run, Zr in enumerate(resampled)
        for engine, k_list in pairs
    ]
    return sweep + refits


def _sweep(engines: list[Engine], ks: range, results: Iterator[list[np.ndarray]]) -> list[_Fit]:
    """The sweep's fits: the first result of each engine (see :func:`_tasks`)."""
    return [
        _Fit(engine, k, lab)
        for engine, k_list in zip(engines, _k_lists(engines, ks), strict=True)
        for k, lab in zip(k_list, next(results), strict=True)
    ]


def _silhouettes(Z: np.ndarray, fits: list[_Fit]) -> list[float]:
    """Each fit's silhouette; the labellings without noise share one distance pass."""
    out = [np.nan] * len(fits)
    shared = []
    for i, fit in enumerate(fits):
        kept = fit.labels >= 0
        n_segments = len(np.unique(fit.labels[kept]))
        if not 1 < n_segments < kept.sum():
            continue
        if kept.all():
            shared.append(i)
        else:  # noise left out: its own rows, its own pass
            out[i] = silhouettes(Z[kept], [fit.labels[kept]])[0]
    for i, value in zip(shared, silhouettes(Z, [fits[i].labels for i in shared]), strict=True):
        out[i] = value
    return out


def _draws(Z: np.ndarray, resamples: int, random_state: int) -> tuple[np.ndarray, list]:
    """The stability pass's rows and its bootstrap draws (indices into those rows).

    The rows are a representative sample of at most :data:`COMPARE_STABILITY_ROWS`;
    every fit is judged on the same draws.
    """
    if not resamples:
        return np.empty(0, dtype=np.intp), []
    rows = uniform_sample(Z, COMPARE_STABILITY_ROWS, random_state=random_state)
    rng = np.random.default_rng(random_state)
    return rows, [rng.integers(0, len(rows), size=len(rows)) for _ in range(resamples)]


def _stability(
    fits: list[_Fit], rows: np.ndarray, draws: list, refits: list[list[np.ndarray]]
) -> list[dict[str, float]]:
    """The one stability pass: each fit against its refits on the same bootstrap draws.

    ``refits`` holds, for each draw then each engine, that engine's labels at its Ks
    (:func:`_tasks`); each is compared with the fit's labels on the drawn rows
    (clusterboot Jaccard, ARI). Fits with a single segment are not assessed.
    """
    per_draw = len(refits) // max(len(draws), 1)  # one result per engine
    # A draw's results, engine after engine, line up with the fits (both in :func:`_tasks` order).
    refit_labels = [
        [lab for labs in refits[run * per_draw : (run + 1) * per_draw] for lab in labs]
        for run in range(len(draws))
    ]
    jaccards: list[dict[int, list[float]]] = [{} for _ in fits]
    aris: list[list[float]] = [[] for _ in fits]
    for i, fit in enumerate(fits):
        if len(segment_ids(fit.labels)) < 2:
            continue
        for run, draw in enumerate(draws):
            best, ari = resample_agreement(fit.labels[rows], draw, refit_labels[run][i])
            aris[i].append(ari)
            for segment, value in best.items():
                jaccards[i].setdefault(segment, []).append(value)
    return [_summary(per_segment, runs) for per_segment, runs in zip(jaccards, aris, strict=True)]


def _summary(per_segment: dict[int, list[float]], runs: list[float]) -> dict[str, float]:
    means = [float(np.mean(v)) for v in per_segment.values()]
    return {
        "stability_mean_jaccard": float(np.mean(means)) if means else np.nan,
        "stability_min_jaccard": float(np.min(means)) if means else np.nan,
        "stability_mean_ari": float(np.mean(runs)) if runs else np.nan,
    }


def _row(fit: _Fit, Z: np.ndarray, silhouette: float) -> dict[str, Any]:
    kept = fit.labels >= 0
    lab = fit.labels[kept]
    segments = np.unique(lab)
    row: dict[str, Any] = {"algorithm": fit.engine.name, "k": len(segments)}
    row["silhouette"] = silhouette
    if 1 < len(segments) < kept.sum():
        row["calinski_harabasz"] = float(calinski_harabasz_score(Z[kept], lab))
        row["davies_bouldin"] = float(davies_bouldin_score(Z[kept], lab))
    else:
        row.update(calinski_harabasz=np.nan, davies_bouldin=np.nan)
    row["unassigned_share"] = float((~kept).mean())
    sizes = sorted((int((lab == s).sum()) for s in segments), reverse=True)
    row["sizes"] = "/".join(map(str, sizes))
    return row


def _table(fits: list[_Fit], Z: np.ndarray) -> pd.DataFrame:
    """One row per fit: validity indices (exact on the compared rows) and sizes."""
    with threadpool_limits(limits=1):
        scores = _silhouettes(Z, fits)
        return pd.DataFrame([_row(fit, Z, sil) for fit, sil in zip(fits, scores, strict=True)])


def _with_stability(table: pd.DataFrame, stable: list[dict[str, float]]) -> pd.DataFrame:
    """The stability columns inserted before ``unassigned_share`` (NaN when off)."""
    at = table.columns.get_loc("unassigned_share")
    for column in ("stability_mean_ari", "stability_min_jaccard", "stability_mean_jaccard"):
        table.insert(at, column, [st[column] for st in stable] if stable else np.nan)
    return table


def _recommend(table: pd.DataFrame, resamples: int) -> tuple[int, str]:
    t = table.copy()
    t["_stab"] = t["stability_mean_jaccard"].fillna(-1.0)
    eligible = t["silhouette"].notna() & (t["unassigned_share"] <= MAX_NOISE_SHARE)
    if resamples:
        eligible &= t["stability_min_jaccard"].fillna(0.0) >= WEAK_JACCARD
    if eligible.any():
        pool = t[eligible]
        best_sil = pool["silhouette"].max()
        near = pool[pool["silhouette"] >= best_sil - _TIE]
        pick = near.sort_values(["_stab", "k"], ascending=[False, True], kind="stable").index[0]
        r = t.loc[pick]
        why = f"the highest silhouette ({r['silhouette']:.3f})"
        if resamples:
            why += (
                f" among the combinations whose every segment is at least weakly stable "
                f"(worst segment Jaccard {r['stability_min_jaccard']:.2f} >= {WEAK_JACCARD})"
            )
        if len(near) > 1:
            why += "; near-ties went to the more stable, then the smaller K"
        return int(pick), why
    pick = t.sort_values(["_stab", "k"], ascending=[False, True], kind="stable").index[0]
    r = t.loc[pick]
    return int(pick), (
        "no combination has every segment at least weakly stable; this one is the most "
        f"stable (mean Jaccard {r['stability_mean_jaccard']:.2f}) — treat any segmentation "
        "of this table with caution"
    )


def compare_algorithms(
    data: pd.DataFrame | str | Path,
    *,
    algorithms: list[str] | None = None,
    k_min: int = 2,
    k_max: int = 10,
    features: list[str] | None = None,
    id_column: str | None = None,
    scaling: str = "standard",
    missing: str = "impute",
    stability: int = 10,
    random_state: int = 42,
) -> Comparison:
    """Fit each algorithm for each K and recommend a combination.

    Parameters
    ----------
    data : DataFrame, str or Path
        The customer table (read, validated and scaled as by :func:`custseg.segment`).
    algorithms : list of str, optional
        Registered engine names; default :data:`DEFAULT_ALGORITHMS`.
    k_min, k_max : int, default=2, 10
    features, id_column, scaling, missing
        As for :class:`custseg.Segmenter`.
    stability : int, default=10
        Bootstrap resamples of the one stability pass, shared by every combination;
        0 turns stability off.
    random_state : int, default=42

    Returns
    -------
    Comparison

    Raises
    ------
    InputError
        An unknown algorithm, a bad K range, or bad data (as for ``custseg segment``).
    """
    algorithms = list(algorithms or DEFAULT_ALGORITHMS)
    engines = [get_engine(name) for name in algorithms]  # unknown names fail here
    options = SegmentOptions(
        features=features,
        id_column=id_column,
        k_min=k_min,
        k_max=k_max,
        scaling=scaling,
        missing=missing,
        stability=stability,
        random_state=random_state,
    )
    # The prepare stage validates, imputes, transforms and scales exactly as `custseg
    # segment` does; outliers are left out as `custseg segment` leaves them out of fitting.
    frame, source = read_input(data)
    prepared = prepare(frame, options, source=source)
    Z_all = prepared.Z_core
    Z = Z_all[uniform_sample(Z_all, SWEEP_SAMPLE, random_state=random_state)]
    n_distinct = len(np.unique(Z, axis=0))
    k_hi = min(k_max, n_distinct - 1)
    if k_hi < k_min:
        raise InputError(
            f"the table has {n_distinct} distinct customer profile(s), too few to compare K from "
            f"k_min={k_min}; lower k_min",
            parameters=("k_min",),
        )
    ks = range(k_min, k_hi + 1)
    rows, draws = _draws(Z, stability, random_state)
    Zs = Z[rows]
    with closing(_start(_tasks(engines, Z, ks, [Zs[d] for d in draws], random_state))) as results:
        fits = _sweep(engines, ks, results)
        # The pool refits the resamples meanwhile.
        table = _table(fits, Z)
        choice = choose_k(Z_all, options, n_distinct=prepared.n_distinct, source=source)
        stable = _stability(fits, rows, draws, list(results))
    table = _with_stability(table, stable)
    pick, why = _recommend(table, stability)
    table["recommended"] = table.index == pick
    rec = {"algorithm": str(table.loc[pick, "algorithm"]), "k": int(table.loc[pick, "k"])}
    reason = f"{rec['algorithm']} with K={rec['k']}: {why}"
    segment_k = choice.chosen if choice is not None else None
    if segment_k is not None:
        reason += _against_segment(rec, segment_k)
    return Comparison(
        table=table,
        recommended=rec,
        reason=reason,
        rows_used=len(Z),
        stability_rows=len(rows),
        resamples=stability,
        features=list(prepared.features),
        segment_k=segment_k,
    )


def _against_segment(recommended: dict[str, Any], segment_k: int) -> str:
    """How the recommendation stands against the K that ``custseg segment`` chooses."""
    if recommended == {"algorithm": "kmeans", "k": segment_k}:
        return f"; custseg segment chooses the same (kmeans, K={segment_k})"
    return (
        f"; custseg segment chooses K={segment_k} with kmeans: it asks which K-Means "
        "segmentation is both well separated and found again on other customers, while "
        "this comparison ranks stable combinations of every algorithm by silhouette alone"
    )
