"""Choosing the number of segments K.

For every K in ``k_min..k_max`` the engine is fitted and two criteria are
recorded: the within-segment sum of squares (inertia) and the silhouette.

The combining rule
------------------
1. The *elbow* is the knee of the inertia curve found by the kneedle method
   (Satopää et al., 2011; the ``kneed`` package), as in the classic notebook.
2. The *silhouette* K is the K with the highest mean silhouette.
3. When the two agree, that K is chosen. When they differ, the elbow K is kept
   if its silhouette is at least 90% of the best silhouette (the elbow is the
   simpler, familiar answer and the silhouette does not object to it);
   otherwise the silhouette K is chosen. When no knee exists, the silhouette K
   is chosen.

Silhouette is O(n²); on more than ``SILHOUETTE_SAMPLE`` rows it is computed on a
seeded sample of that size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from kneed import KneeLocator
from sklearn.metrics import silhouette_score

from custseg.engines import get_engine

__all__ = ["KChoice", "choose_k", "knee_of", "sweep_k"]

SILHOUETTE_SAMPLE = 5000
ELBOW_TOLERANCE = 0.9


@dataclass(frozen=True)
class KChoice:
    """The chosen K and why."""

    chosen: int
    reason: str
    elbow: int | None
    silhouette: int


def sweep_k(
    X: np.ndarray, k_values: list[int], *, algorithm: str = "kmeans", random_state: int = 42
) -> pd.DataFrame:
    """Fit the engine for each K and record inertia and silhouette.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Scaled feature values.
    k_values : list of int
        The candidate numbers of segments, each in 2..n_rows-1.
    algorithm : str, default="kmeans"
        A registered engine name.
    random_state : int, default=42

    Returns
    -------
    DataFrame
        Columns ``k``, ``inertia``, ``silhouette``; one row per K.
    """
    engine = get_engine(algorithm)
    rows = []
    sample = min(len(X), SILHOUETTE_SAMPLE)
    for k in k_values:
        fitted = engine.fit(X, k, random_state=random_state)
        inertia = float(((X - fitted.centers[fitted.labels]) ** 2).sum())
        if len(np.unique(fitted.labels)) > 1:
            sil = float(
                silhouette_score(
                    X, fitted.labels, sample_size=sample if sample < len(X) else None,
                    random_state=random_state,
                )
            )
        else:
            sil = float("nan")
        rows.append({"k": k, "inertia": inertia, "silhouette": sil})
    return pd.DataFrame(rows)


def knee_of(k: list[int], inertia: list[float]) -> int | None:
    """Knee of a decreasing, convex inertia curve by kneedle; None when there is none."""
    if len(k) < 3:
        return None
    locator = KneeLocator(k, inertia, curve="convex", direction="decreasing", online=True)
    return int(locator.knee) if locator.knee is not None else None


def choose_k(table: pd.DataFrame) -> KChoice:
    """Combine the elbow and the silhouette by the rule in the module docstring."""
    ks = [int(v) for v in table["k"]]
    sil = table["silhouette"].to_numpy(dtype=float)
    best_sil_k = ks[int(np.nanargmax(sil))] if not np.isnan(sil).all() else ks[0]
    best_sil = float(np.nanmax(sil)) if not np.isnan(sil).all() else float("nan")
    elbow = knee_of(ks, [float(v) for v in table["inertia"]])
    if elbow is None:
        return KChoice(
            best_sil_k,
            f"no clear elbow in the inertia curve; K={best_sil_k} has the best silhouette "
            f"({best_sil:.2f})",
            None,
            best_sil_k,
        )
    elbow_sil = float(sil[ks.index(elbow)])
    if elbow == best_sil_k:
        return KChoice(
            elbow,
            f"the elbow of the inertia curve and the best silhouette ({best_sil:.2f}) "
            f"both point to K={elbow}",
            elbow,
            best_sil_k,
        )
    if elbow_sil >= ELBOW_TOLERANCE * best_sil:
        return KChoice(
            elbow,
            f"the elbow is at K={elbow}, and its silhouette ({elbow_sil:.2f}) is within 10% "
            f"of the best (K={best_sil_k}, {best_sil:.2f})",
            elbow,
            best_sil_k,
        )
    return KChoice(
        best_sil_k,
        f"the elbow (K={elbow}) has a clearly lower silhouette ({elbow_sil:.2f}) than "
        f"K={best_sil_k} ({best_sil:.2f})",
        elbow,
        best_sil_k,
    )
