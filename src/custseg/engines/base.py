"""The engine contract and the registry.

The contract
------------
An engine is a class registered under a ``name`` with :func:`register`. It works
on *scaled* features (an ndarray of shape (n_rows, n_features), no NaN) and
never touches disk. It must provide:

``fit(X, n_clusters, *, random_state) -> Fitted``
    Learn the segments. ``n_clusters`` is ignored by engines with
    ``needs_k = False`` (density engines find their own number). The same
    ``random_state`` must give the same result. ``Fitted.labels`` must equal
    ``predict(X, Fitted.centers, Fitted.state)[0]``: training rows are labelled by
    the scoring rule, so a saved model scores its training data back to its own
    segments. Use :meth:`Engine.finish` to guarantee this.
``predict(X, centers, state) -> (labels, columns)``
    Score rows with the stored centres and JSON state only (no fitted library
    object survives a save). ``columns`` maps extra per-row column names to float
    arrays, e.g. mixture probabilities. The default is the nearest centre.
``reorder(state, order) -> state``
    Renumber segment-indexed state (custseg numbers segments by size).
``fit(..., init_centers=C)`` (optional keyword)
    Start from given centres (warm start, used by :mod:`custseg.lifecycle.continuity`); an
    engine without the keyword is always fitted cold.
``fit_each(X, ks, *, random_state) -> list[Fitted]`` (optional)
    One fit per K, each exactly what ``fit(X, k, random_state=random_state)``
    gives; an engine that can share work across K (one Ward tree cut at every
    K) overrides the default loop.
``bic(X, fitted) -> float | None``
    The Bayesian information criterion where the engine is a likelihood model
    (``mixture = True``); None otherwise.

Class attributes: ``name``; ``needs_k`` (False for density engines); ``mixture``
(True when :meth:`bic` is meaningful); ``predict_rule`` (one sentence saying how
new customers are assigned, shown in the docs); ``max_fit_rows`` (an engine whose
fit is quadratic in memory fits on a seeded sample of this many rows and
assigns the rest with its predict rule; None means every row).

``Fitted.state`` must be JSON-serialisable (lists, numbers, strings): it is
written into ``model.json`` as is. Label ``-1`` means "noise" (no segment); the
pipeline names it "Unassigned".

Engines added later (``chunked``, ``spark``) follow the same contract; an engine
that needs an optional dependency should import it inside ``fit`` and raise
:class:`~custseg.errors.EngineError` with the ``pip install`` line when absent.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from typing import Any, ClassVar

import numpy as np

from custseg.errors import InputError
from custseg.verdicts import BORDERLINE_MARGIN

__all__ = [
    "Engine",
    "Fitted",
    "available_engines",
    "borderline_flags",
    "get_engine",
    "margins",
    "nearest_center",
    "nearest_center_margin",
    "one_thread",
    "own_margin",
    "prechecked_fits",
    "register",
    "squared_distances",
]

_REGISTRY: dict[str, type[Engine]] = {}
_CHUNK = 100_000  # rows per block when computing distances, bounds memory


@dataclass
class Fitted:
    """What an engine learnt.

    Attributes
    ----------
    labels : ndarray of shape (n_rows,)
        Segment of each training row, 0..n_segments-1; -1 for noise (density engines).
    centers : ndarray of shape (n_segments, n_features)
        One centre per segment, in the scaled feature space.
    state : dict
        JSON-serialisable extra state the engine needs to predict (empty for
        centroid engines).
    info : dict
        How the fit was done, when the engine chose a scheme worth reporting
        (``summary.json`` shows it as ``final_fit``); empty otherwise. Not saved.
    """

    labels: np.ndarray
    centers: np.ndarray
    state: dict[str, Any] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


#: Up to this many row-centre-feature terms, distances come from one broadcast
#: difference: cheaper for a few rows, too large a temporary for many.
_BROADCAST_MAX = 1024


def squared_distances(X: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of every centre to every row.

    Bit for bit ``((X[:, None] - centers[None]) ** 2).sum(axis=2).T``, without its
    (n_rows, n_centres, n_features) temporaries. Computed from the differences,
    not through the expanded dot-product form, so each row's distances depend on
    that row alone: training and scoring agree whatever the batch size.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    centers : ndarray of shape (n_centres, n_features)

    Returns
    -------
    ndarray of shape (n_centres, n_rows)
        Centres first, so that a minimum over centres runs along contiguous rows.
    """
    X = np.asarray(X)
    if X.size * len(centers) <= _BROADCAST_MAX:
        # A few rows (one customer scored on its own): three array operations instead
        # of two per centre and feature. The sum runs along the same contiguous axis
        # of the same length, so the bits are the same as below.
        diff = X[:, None, :] - centers[None, :, :]
        return np.ascontiguousarray((diff**2).sum(axis=2).T)
    out = np.empty((len(centers), len(X)), dtype=np.result_type(X, centers, np.float64))
    if X.shape[1] < 8:
        # numpy sums fewer than 8 terms left to right, so a running sum over the
        # feature columns gives the same bits, several times faster.
        columns = np.ascontiguousarray(X.T)
        for j, center in enumerate(centers):
            acc = (columns[0] - center[0]) ** 2
            for f in range(1, len(columns)):
                acc += (columns[f] - center[f]) ** 2
            out[j] = acc
    else:  # from 8 features on numpy's pairwise sum decides the bits
        for j, center in enumerate(centers):
            out[j] = ((X - center) ** 2).sum(axis=1)
    return out


def nearest_center(X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of and Euclidean distance to the nearest centre for each row.

    Ties go to the lowest index, so the result is deterministic.
    """
    d2 = squared_distances(X, centers)
    labels = d2.argmin(axis=0)
    return labels, np.sqrt(d2[labels, np.arange(len(X))])


def nearest_center_margin(
    X: np.ndarray, centers: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`nearest_center` and :func:`own_margin` in one pass.

    Returns
    -------
    labels, distance, margin : ndarray of shape (n_rows,)
        Bit for bit what the two functions give for ``X``: the margin is 1 with
        a single centre, 0 where the two nearest centres coincide.
    """
    d2 = squared_distances(X, centers)
    rows = np.arange(len(X))
    labels = d2.argmin(axis=0)
    distance = np.sqrt(d2[labels, rows])
    if len(centers) == 1:
        return labels, distance, np.ones(len(X))
    d2[labels, rows] = np.inf
    # sqrt is monotone, so the square root of the smallest other squared distance
    # is exactly the smallest other distance.
    other = np.sqrt(d2.min(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = (other - distance) / other
    return labels, distance, np.where(np.isnan(margin), 0.0, margin)


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
    dist = np.sqrt(squared_distances(Z, centers)).T
    two = np.partition(dist, 1, axis=1)[:, :2]
    d1, d2 = two[:, 0], two[:, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(np.isinf(d2), 1.0, (d2 - d1) / d2)
    # A row sitting on two coincident centres (d2 == 0) is as borderline as can be.
    return np.where(np.isnan(out), 0.0, out)


def borderline_flags(margin: np.ndarray) -> np.ndarray:
    """True where ``margin < BORDERLINE_MARGIN``; False for NaN (noise, unscored)."""
    margin = np.asarray(margin, dtype="float64")
    return margin < BORDERLINE_MARGIN  # NaN compares False


def own_margin(Z: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """:func:`margins` measured from each row's *assigned* centre.

    ``(d_other - d_own) / d_other``, where ``d_own`` is the distance to the centre
    of the row's own segment and ``d_other`` to the nearest other centre. For
    nearest-centre engines this equals :func:`margins`; for engines that assign
    by another rule (mixture probabilities, exemplars) it can be negative: the
    customer sits nearer another segment's centre. NaN for noise (label -1); 1
    when there is a single centre.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
    centers : ndarray of shape (n_segments, n_features)
    labels : ndarray of shape (n_rows,)

    Returns
    -------
    ndarray of shape (n_rows,)
    """
    out = np.full(len(Z), np.nan)
    assigned = labels >= 0
    if not assigned.any():
        return out
    if len(centers) == 1:
        out[assigned] = 1.0
        return out
    Za, la = (Z, labels) if assigned.all() else (Z[assigned], labels[assigned])
    d = np.sqrt(squared_distances(Za, centers))  # (n_centres, n_rows)
    rows = np.arange(len(Za))
    d_own = d[la, rows]
    d[la, rows] = np.inf
    d_other = d.min(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = (d_other - d_own) / d_other
    out[assigned] = np.where(np.isnan(m), 0.0, m)
    return out


class Engine:
    """Base class: fit on scaled data, predict by the nearest centre.

    Subclasses set ``name`` and implement :meth:`fit`; engines whose model has a
    native rule (mixture probabilities, say) override :meth:`predict`.
    """

    name: ClassVar[str] = ""
    #: Whether the number of segments is an input (False for density engines).
    needs_k: ClassVar[bool] = True
    #: Whether :meth:`bic` gives a likelihood criterion for choosing K.
    mixture: ClassVar[bool] = False
    #: How new customers are assigned, in one sentence (documentation).
    predict_rule: ClassVar[str] = "nearest centre (Euclidean, in the scaled space)"
    #: Fit on at most this many rows (seeded sample); None = all rows.
    max_fit_rows: ClassVar[int | None] = None

    def fit(self, X: np.ndarray, n_clusters: int | None, *, random_state: int) -> Fitted:
        """Fit on scaled rows; ``n_clusters`` is None only for engines that choose K."""
        raise NotImplementedError

    def require_k(self, n_clusters: int | None) -> int:
        """``n_clusters`` of an engine that needs it; a clear error when it is missing."""
        if n_clusters is None:
            raise ValueError(f"the {self.name} engine needs a number of segments (k)")
        return n_clusters

    def fit_each(self, X: np.ndarray, ks: list[int], *, random_state: int) -> list[Fitted]:
        """One :meth:`fit` per K in ``ks``, in order, each as :meth:`fit` gives it."""
        return [self.fit(X, k, random_state=random_state) for k in ks]

    def predict(
        self, X: np.ndarray, centers: np.ndarray, state: dict[str, Any]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Return labels and any extra per-row columns (e.g. probabilities)."""
        labels = np.empty(len(X), dtype="int64")
        for start in range(0, len(X), _CHUNK):
            part = X[start : start + _CHUNK]
            labels[start : start + len(part)] = nearest_center(part, centers)[0]
        return labels, {}

    def reorder(self, state: dict[str, Any], order: list[int]) -> dict[str, Any]:
        """Renumber segment-indexed state: new segment ``i`` is old segment ``order[i]``."""
        return state

    def bic(self, X: np.ndarray, fitted: Fitted) -> float | None:
        """Bayesian information criterion of ``fitted`` on ``X``; None for non-mixtures."""
        return None

    def finish(
        self, X: np.ndarray, centers: np.ndarray, state: dict[str, Any] | None = None
    ) -> Fitted:
        """Build a :class:`Fitted` whose labels are the predict rule's labels of ``X``."""
        centers = np.asarray(centers, dtype="float64")
        state = state or {}
        labels, _ = self.predict(X, centers, state)
        return Fitted(labels=np.asarray(labels, dtype="int64"), centers=centers, state=state)


def fit_sample(n_rows: int, limit: int | None, random_state: int) -> np.ndarray | None:
    """Sorted row indices of a seeded sample of ``limit`` rows, or None to use all."""
    if limit is None or n_rows <= limit:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n_rows, size=limit, replace=False))


def register(cls: type[Engine]) -> type[Engine]:
    """Class decorator adding an engine to the registry under ``cls.name``."""
    _REGISTRY[cls.name] = cls
    return cls


def available_engines() -> list[str]:
    """Names of the registered engines, sorted."""
    return sorted(_REGISTRY)


def get_engine(name: str) -> Engine:
    """Instantiate the engine registered under ``name``.

    Raises
    ------
    InputError
        Unknown name; the message lists the valid ones.
    """
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise InputError(
            f"unknown algorithm {name!r}; choose from: {', '.join(available_engines())}"
        ) from None


@cache
def _thread_pools() -> Any:
    """threadpoolctl's view of the loaded thread pools, built once: it takes milliseconds."""
    # scikit-learn's OpenMP pool is loaded first, so the view includes it.
    import sklearn.cluster  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_thread() -> AbstractContextManager[Any]:
    """A context in which OpenMP and BLAS run one thread each, for fits too small to share.

    Like ``threadpoolctl.threadpool_limits(limits=1)``, but without looking the
    thread pools up again on every call. As there, BLAS's limit holds for the whole
    process and OpenMP's for the calling thread (and the parallel regions it starts).
    """
    return _thread_pools().limit(limits=1)


def prechecked_fits() -> AbstractContextManager[Any]:
    """A context in which scikit-learn does not check again what custseg already checked.

    For many small fits on rows that custseg scaled and checked once, with
    parameters it built itself: scikit-learn's check of every parameter and of
    every value being finite take about a fifth of a 200-row K-Means fit, and
    change no result. The setting is the calling thread's.
    """
    from sklearn import config_context

    return config_context(assume_finite=True, skip_parameter_validation=True)
