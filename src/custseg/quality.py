"""How good are the segments: internal validity metrics."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

__all__ = ["BORDERLINE_MARGIN", "clustering_metrics", "margins"]

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
