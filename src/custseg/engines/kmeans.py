"""K-Means (scikit-learn's Lloyd algorithm, k-means++ seeding, 10 restarts)."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans

from custseg.engines.base import Engine, Fitted, register

__all__ = ["KMeansEngine"]


@register
class KMeansEngine(Engine):
    """scikit-learn K-Means with ``n_init=10`` restarts, the best inertia kept."""

    name = "kmeans"

    def __init__(self, n_init: int = 10) -> None:
        self.n_init = n_init

    def fit(
        self,
        X: np.ndarray,
        n_clusters: int,
        *,
        random_state: int,
        init_centers: np.ndarray | None = None,
    ) -> Fitted:
        # init_centers: warm start from a previous model's centres (custseg.continuity);
        # one Lloyd run from them, no random restarts.
        if init_centers is not None:
            model = KMeans(n_clusters=n_clusters, init=np.asarray(init_centers), n_init=1,
                           random_state=random_state)
        else:
            model = KMeans(n_clusters=n_clusters, n_init=self.n_init, random_state=random_state)
        model.fit(X)
        return Fitted(labels=model.labels_, centers=model.cluster_centers_)
