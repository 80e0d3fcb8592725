"""Compare algorithms and numbers of segments on one table (``custseg compare``).

For every algorithm and every K (density engines choose their own K: one row),
the engine is fitted on the same rows and scored with the silhouette,
Calinski-Harabasz, Davies-Bouldin, bootstrap stability (mean and worst
per-segment best-match Jaccard, mean ARI; see
:func:`custseg.segmentation.quality.bootstrap_stability`) and the segment sizes.

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

Like the K sweep, the comparison runs on a
:func:`~custseg.segmentation.choose_k.representative_sample` of at most 4,000 rows
(stability on at most 1,000).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from threadpoolctl import threadpool_limits

from custseg.engines import DEFAULT_ALGORITHMS, get_engine
from custseg.errors import InputError
from custseg.options import SegmentOptions
from custseg.segmentation.choose_k import SWEEP_SAMPLE, representative_sample
from custseg.segmentation.prepare import prepare, read_input
from custseg.segmentation.quality import WEAK_JACCARD, bootstrap_stability

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
    features : list of str
    """

    table: pd.DataFrame
    recommended: dict[str, Any]
    reason: str
    rows_used: int
    features: list[str]


def _row(engine, Z: np.ndarray, k: int, resamples: int, random_state: int) -> dict[str, Any]:
    fitted = engine.fit(Z, k, random_state=random_state)
    labels = np.asarray(fitted.labels)
    kept = labels >= 0
    lab = labels[kept]
    segments = np.unique(lab)
    row: dict[str, Any] = {"algorithm": engine.name, "k": len(segments)}
    if 1 < len(segments) < kept.sum():
        row["silhouette"] = float(silhouette_score(Z[kept], lab))
        row["calinski_harabasz"] = float(calinski_harabasz_score(Z[kept], lab))
        row["davies_bouldin"] = float(davies_bouldin_score(Z[kept], lab))
    else:
        row.update(silhouette=np.nan, calinski_harabasz=np.nan, davies_bouldin=np.nan)
    if resamples and len(segments) > 1:
        stab = bootstrap_stability(
            Z,
            labels,
            len(segments),
            algorithm=engine.name,
            n_resamples=resamples,
            random_state=random_state,
            max_rows=COMPARE_STABILITY_ROWS,
        )
        jac = [s["jaccard"] for s in stab["segments"] if s["jaccard"] is not None]
        row["stability_mean_jaccard"] = float(np.mean(jac)) if jac else np.nan
        row["stability_min_jaccard"] = float(np.min(jac)) if jac else np.nan
        row["stability_mean_ari"] = stab["mean_ari"]
    else:
        row.update(
            stability_mean_jaccard=np.nan, stability_min_jaccard=np.nan, stability_mean_ari=np.nan
        )
    row["unassigned_share"] = float((~kept).mean())
    sizes = sorted((int((lab == s).sum()) for s in segments), reverse=True)
    row["sizes"] = "/".join(map(str, sizes))
    return row


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
        Bootstrap resamples per combination; 0 turns stability off.
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
    # The prepare stage validates, imputes and scales exactly as `custseg segment` does.
    frame, source = read_input(data)
    prepared = prepare(frame, options, source=source)
    Z_all = prepared.Z
    Z = Z_all[representative_sample(Z_all, SWEEP_SAMPLE, random_state=random_state)]
    n_distinct = len(np.unique(Z, axis=0))
    k_hi = min(k_max, n_distinct - 1)
    if k_hi < k_min:
        raise InputError(
            f"the table has {n_distinct} distinct customer profile(s), too few to compare K from "
            f"k_min={k_min}; lower k_min",
            parameters=("k_min",),
        )
    rows = []
    with threadpool_limits(limits=1):
        for engine in engines:
            ks = range(k_min, k_hi + 1) if engine.needs_k else [0]
            for k in ks:
                rows.append(_row(engine, Z, k, stability, random_state))
    table = pd.DataFrame(rows)
    pick, why = _recommend(table, stability)
    table["recommended"] = table.index == pick
    rec = {"algorithm": str(table.loc[pick, "algorithm"]), "k": int(table.loc[pick, "k"])}
    reason = f"{rec['algorithm']} with K={rec['k']}: {why}"
    return Comparison(
        table=table,
        recommended=rec,
        reason=reason,
        rows_used=len(Z),
        features=list(prepared.features),
    )
