"""The fit stage: an algorithm from the engine registry, segments numbered by size.

Outliers (:mod:`custseg.features.outliers`) take no part in the fit; segments are
sized over every fitting row, outliers included, and a segment under
``min_segment_share`` is dissolved (:mod:`custseg.segmentation.small_segments`).

Every in-memory fit goes through :func:`custseg.engines.get_engine` — the
registered engine decides how to fit a big table (K-Means: see
:class:`custseg.engines.kmeans.KMeansEngine`). With a previous run, the fit is
warm-started and its segments linked to the previous ids
(:mod:`custseg.lifecycle.continuity`).
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from custseg.engines import Engine, get_engine
from custseg.features.encoding import annotate_categoricals
from custseg.features.parallel import map_in_order
from custseg.features.preprocessing import Scaler
from custseg.lifecycle.continuity import Linking, PreviousRun, link_segments
from custseg.model import SegmentModel
from custseg.options import SegmentOptions
from custseg.progress import ProgressFn, emit
from custseg.segmentation.prepare import Prepared
from custseg.segmentation.records import build_model, feature_summary
from custseg.segmentation.small_segments import dissolve_small

__all__ = [
    "FittedSegments",
    "feature_records",
    "feature_records_ahead",
    "fit_segments",
    "fitted_model",
    "size_order",
]


@dataclass
class FittedSegments:
    """The fitted segments, in segment id order.

    Attributes
    ----------
    engine : Engine
    centers : ndarray of shape (n_segments, n_features)
        Scaled space.
    state : dict
        The engine's JSON state, renumbered to segment ids.
    link : Linking or None
        How the segments follow a previous run's.
    info : dict
        How the engine fitted, when it chose a scheme worth reporting (big tables).
    small : dict
        The ``min_segment_share`` record: the minimum and what was dissolved.
    """

    engine: Engine
    centers: np.ndarray
    state: dict[str, Any]
    link: Linking | None = None
    info: dict[str, Any] = field(default_factory=dict)
    small: dict[str, Any] = field(default_factory=dict)

    @property
    def k(self) -> int:
        """Segments found: density engines choose, an empty segment is dropped."""
        return len(self.centers)


def size_order(sizes: Mapping[int, int], centers: np.ndarray | None = None) -> list[int]:
    """Segment ids by size, largest first; ties by the centres' coordinates.

    Without ``centers`` ties keep the engine's order.
    """
    if centers is None:
        return sorted(sizes, key=lambda s: (-sizes[s], s))
    return sorted(sizes, key=lambda s: (-sizes[s], tuple(centers[s]), s))


def fit_segments(
    Z: np.ndarray,
    k: int | None,
    options: SegmentOptions,
    *,
    scaler: Scaler,
    previous: PreviousRun | None = None,
    progress: ProgressFn | None = None,
    Z_all: np.ndarray | None = None,
) -> FittedSegments:
    """Fit ``options.algorithm`` on the scaled rows and number the segments.

    Parameters
    ----------
    Z : ndarray of shape (n_rows, n_features)
        Scaled fitting rows.
    k : int or None
        Number of segments (ignored by density engines).
    options : SegmentOptions
    scaler : Scaler
        Compares the scaled spaces of this and a previous run.
    previous : PreviousRun, optional
        Keep its segment ids: warm start when K is unchanged, then match.
    progress : callable, optional
    Z_all : ndarray of shape (n_all, n_features), optional
        Every fitting row, outliers included, when ``Z`` leaves them out: the
        segments are sized over these.
    """
    engine = get_engine(options.algorithm)
    emit(progress, "fitting", 0, len(Z))
    fitted = engine.fit(Z, k, random_state=options.random_state)
    emit(progress, "fitting", len(Z), len(Z))
    info = fitted.info
    labels = fitted.labels
    if Z_all is not None and Z_all is not Z:
        labels = engine.predict(Z_all, fitted.centers, fitted.state)[0]
    sizes = segment_sizes(labels)
    # Density engines keep their own minimum size; continuity keeps the previous ids.
    guard = engine.needs_k and previous is None
    kept, small = dissolve_small(
        sizes, n_customers=len(labels), min_share=options.min_segment_share if guard else 0.0
    )
    order = [s for s in size_order(sizes, fitted.centers) if s in set(kept)]
    link = None
    if previous is not None:  # keep the previous run's ids instead of size order
        fitted, link = link_segments(
            previous, engine, Z, fitted, scaler=scaler, random_state=options.random_state
        )
        order = link.order
    return FittedSegments(
        engine=engine,
        centers=fitted.centers[order],
        state=engine.reorder(fitted.state, order),
        link=link,
        info=info,
        small=small,
    )


def segment_sizes(labels: np.ndarray) -> dict[int, int]:
    """Segment id → rows, ids ascending, noise (negative ids) left out; counted, not sorted.

    Parameters
    ----------
    labels : ndarray of int, shape (n_rows,)
    """
    labels = np.asarray(labels)
    assigned = labels[labels >= 0]
    counts = np.bincount(assigned) if len(assigned) else np.zeros(0, dtype=np.intp)
    return {int(s): int(counts[s]) for s in np.flatnonzero(counts)}


def feature_records(prep: Prepared) -> list[dict[str, Any]]:
    """The model's record of each feature: its statistics over the fitting rows.

    They do not depend on the segments: the pipeline computes them while K is chosen.
    """
    records = map_in_order(
        lambda j: feature_summary(prep.features[j], prep.X_fit[:, j]), range(len(prep.features))
    )
    annotate_categoricals(records, prep.categories)
    return records


def feature_records_ahead(prep: Prepared) -> Future[list[dict[str, Any]]]:
    """:func:`feature_records` of ``prep``, started in a thread of its own.

    Choosing K works on a sample, mostly on one core: the quantiles of every row
    are computed on the other meanwhile.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custseg-records")
    records = pool.submit(feature_records, prep)
    pool.shutdown(wait=False)  # the thread ends with its one task
    return records


def fitted_model(
    prep: Prepared,
    fit: FittedSegments,
    options: SegmentOptions,
    *,
    training: dict[str, Any],
    records: list[dict[str, Any]] | None = None,
) -> SegmentModel:
    """The portable model of the fitted segments (named later, by the describe stage).

    ``training`` is the record of the fitting rows as the input holds them; ``records``
    the :func:`feature_records` of ``prep``, computed here when not given.
    """
    records = feature_records(prep) if records is None else records
    model = build_model(
        features=records,
        scaler=prep.scaler,
        missing=options.missing,
        fill=prep.fill,
        algorithm=options.algorithm,
        centers=fit.centers,
        training=training,
        engine_state=fit.state,
        outliers=prep.fences,
    )
    if fit.link is not None:  # segment ids kept from the previous run
        model.extra.update(fit.link.model_extra())
    return model
