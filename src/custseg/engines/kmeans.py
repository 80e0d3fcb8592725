"""K-Means family: Lloyd's K-Means, mini-batch K-Means and bisecting K-Means.

All three predict by the nearest centre, which is also how their training rows
are labelled (see :meth:`Engine.finish`), so scoring reproduces the labels.
"""

from __future__ import annotations

import numpy as np

from custseg.engines.base import Engine, Fitted, register

__all__ = ["BisectingKMeansEngine", "KMeansEngine", "MiniBatchKMeansEngine"]


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
        from sklearn.cluster import KMeans  # scikit-learn only where a model is fitted

        # init_centers: warm start from a previous model's centres (custseg.lifecycle.continuity);
        # one Lloyd run from them, no random restarts.
        if init_centers is not None:
            model = KMeans(
                n_clusters=n_clusters,
                init=np.asarray(init_centers),
                n_init=1,
                random_state=random_state,
            )
        else:
            model = KMeans(n_clusters=n_clusters, n_init=self.n_init, random_state=random_state)
        model.fit(X)
        return self.finish(X, model.cluster_centers_)


@register
class MiniBatchKMeansEngine(Engine):
    """Mini-batch K-Means (batches of 2,048 rows, 3 restarts): for large tables.

    Faster than K-Means on hundreds of thousands of rows, at a small cost in inertia.
    """

    name = "minibatch-kmeans"

    def fit(self, X: np.ndarray, n_clusters: int, *, random_state: int) -> Fitted:
        from sklearn.cluster import MiniBatchKMeans

        model = MiniBatchKMeans(
            n_clusters=n_clusters, n_init=3, batch_size=2048, random_state=random_state
        )
        model.fit(X)
        return self.finish(X, model.cluster_centers_)


@register
class BisectingKMeansEngine(Engine):
    """Bisecting K-Means: repeatedly split the segment with the largest inertia in two.

    scikit-learn's own ``predict`` walks the bisection tree; custseg assigns every
    customer, training rows included, to the nearest final centre instead, so the
    saved model needs only the centres.
    """

    name = "bisecting-kmeans"
    predict_rule = "nearest final centre (the bisection tree is not kept)"

    def fit(self, X: np.ndarray, n_clusters: int, *, random_state: int) -> Fitted:
        from sklearn.cluster import BisectingKMeans

        model = BisectingKMeans(
            n_clusters=n_clusters,
            n_init=3,
            random_state=random_state,
            bisecting_strategy="biggest_inertia",
        )
        model.fit(X)
        return self.finish(X, model.cluster_centers_)
