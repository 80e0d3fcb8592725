"""The estimator: :class:`Segmenter` and its one-shot form :func:`segment`.

:class:`Segmenter` follows scikit-learn's estimator contract: the constructor
stores the parameters, :meth:`Segmenter.fit` validates them once
(:class:`~custseg.options.SegmentOptions`) and runs the pipeline
(:func:`custseg.segmentation.pipeline.run`), setting trailing-underscore state;
:meth:`Segmenter.predict` scores new rows. :func:`segment` builds the class and
calls it, so the logic exists once.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.errors import InputError
from custseg.lifecycle.continuity import PreviousRun
from custseg.model import SegmentModel
from custseg.options import DEFAULT_MIN_SEGMENT_SHARE, SegmentOptions, resolve_options
from custseg.progress import ProgressFn
from custseg.segmentation.pipeline import run
from custseg.segmentation.result import SegmentationResult

__all__ = ["Segmenter", "segment"]


class Segmenter:
    """Segment a customer table.

    Parameters
    ----------
    features : list of str, optional
        Feature columns; names matched exactly, then ignoring case and spaces.
        Default: every numeric column that is not the ID.
    id_column : str, optional
        The customer ID column; detected when not given.
    k : int, optional
        Number of segments. When None, chosen over ``k_min..k_max`` by
        :func:`custseg.segmentation.choose_k.select_k`.
    k_min, k_max : int, default=2, 10
    scaling : {"standard", "robust", "minmax", "none"}, default="standard"
    missing : {"impute", "drop", "error"}, default="impute"
        ``impute`` fills a missing value with the feature's median; ``drop`` leaves
        the row out of fitting (it stays in the output with an empty segment and a
        ``reason``); ``error`` refuses the table.
    algorithm : str, default="kmeans"
        A registered engine (see :func:`custseg.engines.available_engines`).
    random_state : int, default=42
    vocabulary : mapping, optional
        Extra naming words; see :func:`custseg.features.profiles.name_segments`.
    progress : callable, optional
        ``progress(phase, rows_done, rows_total)`` for long steps (see
        :mod:`custseg.progress`); the library is silent without it.
    stability : int, optional
        Bootstrap resamples for segment stability (see
        :func:`custseg.segmentation.quality.bootstrap_stability`); 0 turns it off. Default: 20
        when at most 50,000 rows are fitted, else off.
    previous : str, Path, SegmentModel or PreviousRun, optional
        A previous run (its folder or ``model.json``) to keep segment ids and names
        from: warm start when K is unchanged, matching, ``transitions``; see
        :mod:`custseg.lifecycle.continuity`. Its features are the default features.
    transform : {"auto", "log", "none"}, default="auto"
        The log transform of strongly right-skewed columns before scaling; see
        :mod:`custseg.features.transform`. Outliers
        (:mod:`custseg.features.outliers`) are always left out of fitting and
        assigned to their nearest segment.
    min_segment_share : float, default=0.01
        A segment with fewer customers than this share is dissolved into its
        nearest segments (0 = off); see :mod:`custseg.segmentation.small_segments`.
    """

    def __init__(
        self,
        *,
        features: list[str] | None = None,
        id_column: str | None = None,
        k: int | None = None,
        k_min: int = 2,
        k_max: int = 10,
        scaling: str = "standard",
        missing: str = "impute",
        algorithm: str = "kmeans",
        random_state: int = 42,
        vocabulary: dict[str, tuple[str, str]] | None = None,
        progress: ProgressFn | None = None,
        stability: int | None = None,
        previous: str | Path | SegmentModel | PreviousRun | None = None,
        transform: str = "auto",
        min_segment_share: float = DEFAULT_MIN_SEGMENT_SHARE,
    ) -> None:
        self.features = features
        self.id_column = id_column
        self.k = k
        self.k_min = k_min
        self.k_max = k_max
        self.scaling = scaling
        self.missing = missing
        self.algorithm = algorithm
        self.random_state = random_state
        self.vocabulary = vocabulary
        self.stability = stability
        self.progress = progress
        self.previous = previous
        self.transform = transform
        self.min_segment_share = min_segment_share

    @classmethod
    def from_options(
        cls,
        options: SegmentOptions,
        *,
        progress: ProgressFn | None = None,
        previous: str | Path | SegmentModel | PreviousRun | None = None,
    ) -> Segmenter:
        """A Segmenter with the parameters of validated ``options``."""
        params = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
        if params["features"] is not None:
            params["features"] = list(params["features"])
        return cls(**params, progress=progress, previous=previous)

    def get_options(self) -> SegmentOptions:
        """The parameters as validated :class:`~custseg.options.SegmentOptions`.

        Raises
        ------
        InputError
            A parameter breaks its rule; the message names it.
        """
        return SegmentOptions(
            features=self.features,
            id_column=self.id_column,
            k=self.k,
            k_min=self.k_min,
            k_max=self.k_max,
            scaling=self.scaling,
            missing=self.missing,
            algorithm=self.algorithm,
            random_state=self.random_state,
            stability=self.stability,
            vocabulary=self.vocabulary,
            transform=self.transform,
            min_segment_share=self.min_segment_share,
        )

    # -- fitting -------------------------------------------------------------------
    def fit(self, data: pd.DataFrame | str | Path) -> Segmenter:
        """Segment ``data`` (a DataFrame or a path readable by :func:`custseg.io.read_table`).

        Sets ``result_``, ``model_``, ``labels_`` and ``k_``; returns ``self``.
        """
        result = run(data, self.get_options(), progress=self.progress, previous=self.previous)
        self.result_ = result
        self.model_ = result.model
        self.labels_ = result.labels
        self.k_ = len(result.model.segments)
        return self

    def predict(self, data: pd.DataFrame) -> pd.DataFrame:
        """Score new customers with the fitted model (see :meth:`SegmentModel.predict`)."""
        if not hasattr(self, "model_"):
            raise InputError("this Segmenter is not fitted yet; call fit() first")
        return self.model_.predict(data)


def segment(
    data: pd.DataFrame | str | Path,
    options: SegmentOptions | None = None,
    *,
    progress: ProgressFn | None = None,
    previous: str | Path | SegmentModel | PreviousRun | None = None,
    **params: Any,
) -> SegmentationResult:
    """Segment a customer table in one call.

    Parameters
    ----------
    data : DataFrame, str or Path
        The table, or a path to CSV / ``.csv.gz`` / Parquet / Excel.
    options : SegmentOptions, optional
        Validated options; keyword ``params`` are applied on top.
    progress, previous
        As for :class:`Segmenter`.
    **params
        The other parameters of :class:`Segmenter` (``k``, ``missing``, ...).

    Returns
    -------
    SegmentationResult

    Examples
    --------
    >>> import custseg
    >>> result = custseg.segment(custseg.make_customers(200, random_state=0), k=5)
    >>> sorted(result.labels.unique().tolist())
    [0, 1, 2, 3, 4]
    """
    resolved = resolve_options(options, params)
    segmenter = Segmenter.from_options(resolved, progress=progress, previous=previous)
    return segmenter.fit(data).result_
