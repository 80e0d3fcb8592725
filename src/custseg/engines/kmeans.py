"""K-Means family: Lloyd's K-Means, mini-batch K-Means and bisecting K-Means.

All three predict by the nearest centre, which is also how their training rows
are labelled (see :meth:`Engine.finish`), so scoring reproduces the labels.

K-Means has two schemes for tables too big for its usual fit, both here so that
every K-Means fit goes through this module:

- :meth:`KMeansEngine.fit` on at least :data:`LARGE_FIT_ROWS` rows fits in
  float32: ``n_init`` restarts of k-means++ on a seeded sample of
  :data:`INIT_SAMPLE_ROWS` rows pick the best start, and one Lloyd run from
  there on every row converges the centres. The Lloyd run uses
  scikit-learn-intelex when it is installed (same algorithm, result within
  float32 rounding), else scikit-learn; ``benchmarks/scale.py`` measures both.
- :func:`fit_kmeans_batches` fits a table seen one batch at a time: the same
  k-means++ restarts on a sample, then Lloyd iterations accumulated over the
  batches (independent of the rows' order).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from custseg.engines.base import Engine, Fitted, nearest_center, one_thread, register
from custseg.engines.exact_sums import ExactSums

__all__ = [
    "INIT_SAMPLE_ROWS",
    "LARGE_FIT_ROWS",
    "ONE_THREAD_ROWS",
    "BisectingKMeansEngine",
    "KMeansEngine",
    "MiniBatchKMeansEngine",
    "fit_kmeans_batches",
    "kmeans_backend",
]

#: From this many rows :class:`KMeansEngine` fits by sample restarts + one full Lloyd run.
LARGE_FIT_ROWS = 200_000
#: Rows of the seeded sample on which the k-means++ restarts of a big table run.
INIT_SAMPLE_ROWS = 50_000
#: Up to this many rows :class:`KMeansEngine` fits in one thread. scikit-learn's
#: Lloyd iterations sum the rows in chunks of 256, one chunk per thread, so a table
#: this small is one chunk: the centres are the same to the last bit in one thread,
#: and the others only wait (on a busy machine, for tens of milliseconds a restart).
ONE_THREAD_ROWS = 256


@register
class KMeansEngine(Engine):
    """scikit-learn K-Means with ``n_init=10`` restarts, the best inertia kept.

    From :data:`LARGE_FIT_ROWS` rows up, the restarts run on a seeded sample and
    one float32 Lloyd run on every row converges the centres (module docstring);
    ``Fitted.info`` then says so, and ``Fitted.labels`` are that run's float32
    labels, used only to number segments by size (rows are labelled by the
    model's float64 rule afterwards).
    """

    name = "kmeans"
    large_fit_rows: int = LARGE_FIT_ROWS

    def __init__(self, n_init: int = 10) -> None:
        self.n_init = n_init

    def fit(
        self,
        X: np.ndarray,
        n_clusters: int | None,
        *,
        random_state: int,
        init_centers: np.ndarray | None = None,
    ) -> Fitted:
        n_clusters = self.require_k(n_clusters)
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
        elif len(X) >= self.large_fit_rows:
            return self._fit_large(X, n_clusters, random_state=random_state)
        else:
            model = KMeans(n_clusters=n_clusters, n_init=self.n_init, random_state=random_state)
        if len(X) <= ONE_THREAD_ROWS:
            with one_thread():
                model.fit(X)
        else:
            model.fit(X)
        return self.finish(X, model.cluster_centers_)

    def _fit_large(self, X: np.ndarray, n_clusters: int, *, random_state: int) -> Fitted:
        from sklearn.cluster import KMeans

        rng = np.random.default_rng(random_state)
        idx = np.sort(rng.choice(len(X), size=min(INIT_SAMPLE_ROWS, len(X)), replace=False))
        X32 = np.ascontiguousarray(X, dtype=np.float32)
        start = KMeans(n_clusters=n_clusters, n_init=self.n_init, random_state=random_state)
        start.fit(X32[idx])
        name, Backend = kmeans_backend()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearnex notes it ignores n_init with an init
            final = Backend(
                n_clusters=n_clusters,
                init=start.cluster_centers_,
                n_init=1,
                max_iter=300,
                random_state=random_state,
            ).fit(X32)
        del X32
        return Fitted(
            labels=np.asarray(final.labels_, dtype="int64"),
            centers=np.asarray(final.cluster_centers_, dtype="float64"),
            info={
                "method": "k-means++ restarts on a seeded sample, then Lloyd on all rows (float32)",
                "implementation": name,
                "rows": len(X),
                "init_sample_rows": len(idx),
                "n_init": self.n_init,
                "n_iter": int(final.n_iter_),
            },
        )


def kmeans_backend() -> tuple[str, Any]:
    """The fastest installed K-Means class for the full-data Lloyd run, and its name."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sklearnex import __version__ as version
            from sklearnex.cluster import KMeans as IntelKMeans
        return f"scikit-learn-intelex {version}", IntelKMeans
    except Exception:  # not installed, or its native library failed to load
        import sklearn
        from sklearn.cluster import KMeans

        return f"scikit-learn {sklearn.__version__}", KMeans


def fit_kmeans_batches(
    sample: np.ndarray,
    batches: Callable[[], Iterable[np.ndarray]],
    n_clusters: int,
    *,
    random_state: int,
    n_init: int = 10,
    passes: int = 1,
    done: Callable[[int], None] | None = None,
) -> np.ndarray:
    """K-Means over a table seen one batch at a time.

    ``n_init`` k-means++ restarts on the sample give the start; then each pass is
    one Lloyd iteration over every row: each centre moves to the mean of the rows
    nearest to it, accumulated batch by batch. Unlike mini-batch updates, a Lloyd
    iteration does not depend on the order of the rows or on the batches, so the
    same customers in any order get the same centres; the sums are exact
    (:class:`custseg.engines.exact_sums.ExactSums`), so to the last bit.

    Parameters
    ----------
    sample : ndarray of shape (n_sample, n_features)
        Scaled rows of a seeded sample, in an order fixed by their values.
    batches : callable
        Returns a fresh iterable of scaled batches (every fitting row once), per pass.
    n_clusters : int
    random_state : int
    n_init : int, default=10
    passes : int, default=1
        Lloyd iterations over every row after the start.
    done : callable, optional
        Called with the number of rows of each batch once it is counted.

    Returns
    -------
    ndarray of shape (n_clusters, n_features)
        The centres, float64, in the order of the k-means++ start. A centre no row
        is nearest to stays where it started.
    """
    from sklearn.cluster import KMeans

    start = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state).fit(sample)
    centers = np.asarray(start.cluster_centers_, dtype="float64")
    for _ in range(passes):
        sums = ExactSums(n_clusters, centers.shape[1])
        counts = np.zeros(n_clusters, dtype="int64")
        for Z in batches():
            if len(Z):
                labels = nearest_center(Z, centers)[0]
                sums.add(Z, labels)
                counts += np.bincount(labels, minlength=n_clusters)
            if done is not None:
                done(len(Z))
        moved = counts > 0
        centers[moved] = sums.total()[moved] / counts[moved, None]
    return centers


@register
class MiniBatchKMeansEngine(Engine):
    """Mini-batch K-Means (batches of 2,048 rows, 3 restarts): for large tables.

    Faster than K-Means on hundreds of thousands of rows, at a small cost in inertia.
    """

    name = "minibatch-kmeans"

    def fit(self, X: np.ndarray, n_clusters: int | None, *, random_state: int) -> Fitted:
        n_clusters = self.require_k(n_clusters)
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

    def fit(self, X: np.ndarray, n_clusters: int | None, *, random_state: int) -> Fitted:
        n_clusters = self.require_k(n_clusters)
        from sklearn.cluster import BisectingKMeans

        model = BisectingKMeans(
            n_clusters=n_clusters,
            n_init=3,
            random_state=random_state,
            bisecting_strategy="biggest_inertia",
        )
        model.fit(X)
        return self.finish(X, model.cluster_centers_)
