"""How good are the segments: internal validity metrics."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

__all__ = ["clustering_metrics"]

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
        return {"inertia": inertia, "silhouette": None, "calinski_harabasz": None,
                "davies_bouldin": None}
    sample = SILHOUETTE_SAMPLE if len(Z) > SILHOUETTE_SAMPLE else None
    return {
        "inertia": inertia,
        "silhouette": float(silhouette_score(Z, labels, sample_size=sample,
                                             random_state=random_state)),
        "calinski_harabasz": float(calinski_harabasz_score(Z, labels)),
        "davies_bouldin": float(davies_bouldin_score(Z, labels)),
    }
