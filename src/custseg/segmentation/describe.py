"""The describe stage: profiles and names, then the figures ``summary.json`` reports.

Names come from the segments' profiles (:mod:`custseg.features.profiles`), kept
from a previous run where its segments still fit; quality figures from
:mod:`custseg.segmentation.quality`; the K block from
:func:`custseg.segmentation.choose_k.describe_k_choice`; the file itself from
:class:`custseg.segmentation.records.RunSummary`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from custseg.features.kinds import ColumnKind, column_kinds
from custseg.features.missing import MissingCounts
from custseg.features.outliers import OUTLIER_RULE
from custseg.features.profiles import name_segments, profile_segments
from custseg.features.roles import TableSchema
from custseg.features.transform import TransformChoice, log_transform
from custseg.lifecycle.continuity import Linking
from custseg.lifecycle.drift import training_baseline
from custseg.model import SegmentModel
from custseg.options import SegmentOptions
from custseg.segmentation.choose_k import KSelection, describe_k_choice
from custseg.segmentation.label import Labels
from custseg.segmentation.prepare import Prepared
from custseg.segmentation.quality import clustering_metrics, trust_summary
from custseg.segmentation.records import (
    MissingRecord,
    RunSummary,
    SegmentRecord,
    profile_records,
    segment_records,
)
from custseg.segmentation.small_segments import outlier_record, outlier_summary

__all__ = [
    "NOISE_NAME",
    "LabelledSample",
    "Profiles",
    "StreamedRun",
    "describe_run",
    "describe_streamed",
    "drift_baseline",
    "profile_and_name",
    "sample_metrics",
    "streamed_profiles",
    "streamed_shaping",
]

#: The name of label -1: customers a density engine left out of every segment.
NOISE_NAME = "Unassigned"


@dataclass
class Profiles:
    """Per-segment profiles, names and records.

    Attributes
    ----------
    table : DataFrame
        :func:`~custseg.features.profiles.profile_segments` with a ``name`` column first.
    names : dict of int to str
        Segment id → name (``-1`` → :data:`NOISE_NAME` when present).
    records : list of SegmentRecord
    """

    table: pd.DataFrame
    names: dict[int, str]
    records: list[SegmentRecord]

    @property
    def sizes(self) -> dict[int, int]:
        """Segment id → fitted customers, without noise."""
        return {r.id: r.size for r in self.records if r.id >= 0}


def profile_and_name(
    prep: Prepared,
    labels: Labels,
    options: SegmentOptions,
    link: Linking | None,
    feature_records: list[dict[str, Any]],
) -> Profiles:
    """Profile the fitted rows by segment and name the segments.

    ``feature_records`` are the model's feature records (statistics of every
    feature); with the table's roles they say what each column measures.
    """
    features = prep.features
    # Profiles in the columns' own units; z-scores on the scale the segments were
    # found on (log for transformed columns), so that names follow the segments.
    units = prep.transform.units
    table = profile_segments(
        prep.X_fit,
        labels.fit_labels,
        features,
        z_values=log_transform(prep.X_fit, units) if prep.transform.any else None,
    )
    seg_ids = [int(s) for s in table.index if s >= 0]
    z = table.loc[seg_ids, [f"z:{f}" for f in features]].to_numpy()
    vocabulary = dict(options.vocabulary or {})
    kinds = column_kinds(feature_records, {c.name: c.role for c in prep.schema.columns})
    words = name_segments(
        z,
        features,
        vocabulary=vocabulary,
        kinds=kinds,
        means=table.loc[seg_ids, [f"mean:{f}" for f in features]].to_numpy(),
        overall=np.array([record["mean"] for record in feature_records]),
    )
    names = dict(zip(seg_ids, words, strict=True))
    if link is not None:
        names = link.final_names(
            names,
            dict(zip(seg_ids, z, strict=True)),
            features,
            vocabulary=vocabulary,
            kinds=kinds,
        )
    if -1 in table.index:
        names[-1] = NOISE_NAME
    table.insert(0, "name", [names[int(s)] for s in table.index])
    return Profiles(table=table, names=names, records=profile_records(table, names, features))


def describe_run(
    prep: Prepared,
    options: SegmentOptions,
    *,
    model: SegmentModel,
    labels: Labels,
    profiles: Profiles,
    choice: KSelection | None,
    final_fit: Mapping[str, Any] | None = None,
    small: Mapping[str, Any] | None = None,
) -> RunSummary:
    """The summary of an in-memory run: inputs, choices, K, trust, metrics, segments.

    K and trust are judged on the rows the segments were fitted on (outliers left
    out); the validity indices and the segments on every fitting row.
    """
    outlier = prep.outlier
    core = ~outlier
    Z, fit_labels = prep.Z_core, labels.fit_labels[core]
    margins = labels.fit_margins[core]
    shaping = {
        "transform": {"mode": options.transform, "columns": prep.transform.decisions},
        "outliers": outlier_summary(
            outlier, prep.beyond, labels.fit_labels, prep.features, OUTLIER_RULE
        ),
        "min_segment_share": dict(small) if small is not None else None,
    }
    assigned = labels.fit_labels[outlier]
    segments = [
        dataclasses.replace(r, outliers=int(np.count_nonzero(assigned == r.id)))
        for r in profiles.records
    ]
    return _run_summary(
        options,
        choice,
        (Z, fit_labels, margins),
        source=prep.source,
        rows=len(prep.frame),
        rows_fitted=len(prep.X_fit),
        schema=prep.schema,
        features=prep.features,
        skipped=prep.skipped,
        missing=prep.missing,
        rows_left_out=int((~prep.fit_rows).sum()),
        k=len(model.centers),
        metrics=clustering_metrics(prep.Z, model.center_index(labels.fit_labels), model.centers),
        segments=segments,
        final_fit=dict(final_fit) if final_fit else None,
        shaping=shaping,
    )


def _run_summary(
    options: SegmentOptions,
    choice: KSelection | None,
    judged_on: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    missing: MissingCounts,
    rows_left_out: int,
    **blocks: Any,
) -> RunSummary:
    """The summary every backend writes: the options' blocks, the missing values, K
    and trust judged on ``judged_on`` (scaled rows, their labels and margins), and the
    backend's own ``blocks`` (inputs, K, metrics, segments, ...)."""
    Z, labels, margins = judged_on
    return RunSummary(
        scaling=options.scaling,
        missing=MissingRecord(
            handling=options.missing,
            counts=missing.as_dict(),
            rows_with_missing=missing.rows_with_missing,
            rows_left_out=rows_left_out,
        ),
        algorithm=options.algorithm,
        random_state=options.random_state,
        k_selection=describe_k_choice(
            choice,
            Z,
            labels,
            k_min=options.k_min,
            k_max=options.k_max,
            given_k=options.k,
            algorithm=options.algorithm,
            random_state=options.random_state,
        ),
        **trust_summary(
            Z,
            labels,
            margins,
            algorithm=options.algorithm,
            stability=options.stability,
            random_state=options.random_state,
        ),
        **blocks,
    )


@dataclass
class LabelledSample:
    """A backend's seeded sample of the fitting rows, labelled by the final model.

    Attributes
    ----------
    X : ndarray of shape (n_sample, n_features)
        Original units.
    Z : ndarray of shape (n_sample, n_features)
        Scaled.
    labels : ndarray of int64
    margins : ndarray of float64
    outlier : ndarray of bool
        Beyond the model's outlier fences (none when the model has no fences).
    """

    X: np.ndarray
    Z: np.ndarray
    labels: np.ndarray
    margins: np.ndarray
    outlier: np.ndarray

    @classmethod
    def score(cls, model: SegmentModel, X: np.ndarray) -> LabelledSample:
        """Label the sampled rows ``X`` with the model's own rule."""
        scored = model.predict_matrix(X)
        outlier = (
            scored["outlier"].to_numpy(dtype=bool, na_value=False)
            if "outlier" in scored
            else np.zeros(len(X), dtype=bool)
        )
        return cls(
            X=X,
            Z=model.scaler.transform(X),
            labels=scored["segment"].to_numpy(dtype="int64", na_value=-1),
            margins=scored["margin"].to_numpy(dtype="float64"),
            outlier=outlier,
        )

    @property
    def core(self) -> LabelledSample:
        """The sampled rows inside the outlier fences: those K and trust are judged on."""
        if not self.outlier.any():
            return self
        keep = ~self.outlier
        return LabelledSample(
            self.X[keep], self.Z[keep], self.labels[keep], self.margins[keep], self.outlier[keep]
        )


def streamed_profiles(
    features: list[str],
    *,
    sizes: np.ndarray,
    means: np.ndarray,
    overall_mean: np.ndarray,
    overall_std: np.ndarray,
    sample: LabelledSample,
    rows_fitted: int,
    vocabulary: Mapping[str, tuple[str, str]] | None,
    kinds: Sequence[ColumnKind],
    z_basis: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    outliers: np.ndarray | None = None,
) -> list[SegmentRecord]:
    """Names and records of segments whose sizes and means were accumulated over every row.

    Sizes, means and z-scores are exact; medians come from the sample, because an
    exact median needs every row at once. As in memory, the z-scores that pick the
    words are taken on the scale the segments were found on (``z_basis``).

    Parameters
    ----------
    features : list of str
    sizes : ndarray of shape (n_segments,)
    means : ndarray of shape (n_segments, n_features)
        NaN for a segment without rows.
    overall_mean, overall_std : ndarray of shape (n_features,)
        Over every fitting row (population std).
    sample : LabelledSample
    rows_fitted : int
    vocabulary : mapping, optional
    kinds : sequence of ColumnKind
        What each feature measures (:func:`custseg.features.kinds.column_kinds`).
    z_basis : tuple of three ndarrays, optional
        Segment means, overall mean and overall std of the log-transformed values
        (:mod:`custseg.features.transform`), when some column is transformed;
        default: ``means``, ``overall_mean`` and ``overall_std``.
    outliers : ndarray of shape (n_segments,), optional
        Outliers assigned to each segment (None: the engine applied no outlier rule).
    """
    z_means, z_mean, z_std = z_basis if z_basis is not None else (means, overall_mean, overall_std)
    z = (z_means - z_mean) / np.where(z_std == 0, 1.0, z_std)
    ids = list(range(len(sizes)))
    words = name_segments(
        np.nan_to_num(z),
        features,
        vocabulary=vocabulary,
        kinds=kinds,
        means=np.nan_to_num(means),
        overall=np.asarray(overall_mean, dtype="float64"),
    )
    names = dict(zip(ids, words, strict=True))
    medians = np.full(means.shape, np.nan)
    for s in ids:
        part = sample.X[sample.labels == s]
        if len(part):
            medians[s] = np.median(part, axis=0)
    records = segment_records(
        ids,
        names,
        features,
        sizes=[int(n) for n in sizes],
        shares=list(sizes / rows_fitted),
        means=means,
        medians=medians,
        z=z,
    )
    if outliers is None:
        return records
    return [dataclasses.replace(r, outliers=int(n)) for r, n in zip(records, outliers, strict=True)]


@dataclass
class StreamedRun:
    """What a backend that sees the rows in parts knows at the end of a run."""

    source: str
    rows: int
    rows_fitted: int
    schema: TableSchema
    features: list[str]
    skipped: list[dict[str, Any]]
    missing: MissingCounts
    model: SegmentModel
    sample: LabelledSample
    segments: list[SegmentRecord]
    inertia: float
    shaping: dict[str, Any]


def describe_streamed(
    run: StreamedRun,
    options: SegmentOptions,
    choice: KSelection | None,
    *,
    engine: str,
    details: dict[str, Any],
) -> RunSummary:
    """The summary of a chunked or Spark run: the in-memory summary's blocks, on the sample.

    K and trust are judged on the labelled sample without its outliers, the
    validity indices on the whole sample; sizes, shares, means and the inertia
    are exact.
    """
    sample, core = run.sample, run.sample.core
    summary = _run_summary(
        options,
        choice,
        (core.Z, core.labels, core.margins),
        source=run.source,
        rows=run.rows,
        rows_fitted=run.rows_fitted,
        schema=run.schema,
        features=run.features,
        skipped=run.skipped,
        missing=run.missing,
        rows_left_out=run.missing.rows_with_missing if options.missing == "drop" else 0,
        k=len(run.model.centers),
        metrics=sample_metrics(
            sample.Z,
            sample.labels,
            run.model.centers,
            inertia=run.inertia,
            rows=run.rows_fitted,
            random_state=options.random_state,
        ),
        segments=run.segments,
        engine=engine,
        engine_details=details,
        shaping=run.shaping,
    )
    summary.k_selection["sample_rows"] = len(sample.Z)
    return summary


def streamed_shaping(
    options: SegmentOptions,
    transform: TransformChoice,
    small: Mapping[str, Any],
    *,
    outliers: np.ndarray,
    beyond: np.ndarray,
    rows: int,
    sample_rows: int,
    engine: str,
) -> dict[str, Any]:
    """The ``transform``, ``outliers`` and ``min_segment_share`` blocks of a backend that
    streams the table: the in-memory rules, decided on its seeded sample.

    Parameters
    ----------
    options : SegmentOptions
    transform : TransformChoice
        Decided on the sample.
    small : mapping
        The ``min_segment_share`` record.
    outliers : ndarray of shape (n_segments,)
        Outliers assigned to each segment, over every row.
    beyond : ndarray of shape (n_features,)
        Customers beyond each feature's fence, over every row.
    rows : int
        Fitting rows (the outliers' share is taken over them).
    sample_rows : int
        Rows of the sample the transform and the fences were decided on.
    engine : str
    """
    note = (
        f"decided by the in-memory rule on the {engine} engine's seeded sample of "
        f"{sample_rows} rows; applied to every row"
    )
    record = outlier_record(
        rows=rows,
        count=int(outliers.sum()),
        by_feature=beyond,
        by_segment=dict(enumerate(outliers)),
        features=[d["feature"] for d in transform.decisions],
        rule=OUTLIER_RULE,
    )
    return {
        "transform": {"mode": options.transform, "columns": transform.decisions, "note": note},
        "outliers": {**record, "note": note},
        "min_segment_share": dict(small),
    }


def sample_metrics(
    Z_sample: np.ndarray,
    sample_labels: np.ndarray,
    centers: np.ndarray,
    *,
    inertia: float,
    rows: int,
    random_state: int,
) -> dict[str, Any]:
    """Metrics of a backend that sees every row only in parts.

    The inertia is exact over ``rows`` rows; the other indices come from the sample.
    """
    enough = len(Z_sample) > len(centers)
    metrics = (
        clustering_metrics(Z_sample, sample_labels, centers, random_state=random_state)
        if enough
        else {}
    )
    return {
        **metrics,
        "inertia": float(inertia),
        "inertia_rows": int(rows),
        "other_metrics_rows": len(Z_sample),
    }


def drift_baseline(model: SegmentModel, X_fit: np.ndarray, labels: Labels) -> dict[str, Any]:
    """:func:`~custseg.lifecycle.drift.training_baseline` of the fitting rows, from their scores."""
    return training_baseline(
        model,
        X_fit,
        scored=labels.fitted_scores(),
        deciles=[feature["quantiles"] for feature in model.features],
    )
