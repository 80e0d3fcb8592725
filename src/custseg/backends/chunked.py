"""``--engine chunked``: segment a table larger than memory, one batch at a time.

The table (a CSV file, or a Parquet file or folder) is streamed in record
batches of ``batch_rows`` rows and is never held whole. Four passes:

1. **statistics** — exact count, mean, population standard deviation, minimum
   and maximum of every feature (Chan's parallel update, in float64), missing
   counts, the SHA-256 fingerprint of the fitted rows (the same digest the local
   engine computes), and a seeded uniform sample of ``sample_rows`` rows
   (bottom-k of random keys: the same rows whatever the batch size).
2. **fit** — K is given or chosen on the sample (:func:`custseg.segmentation.choose_k.select_k`);
   k-means++ with ``n_init`` restarts on the sample gives the start, then
   scikit-learn's ``MiniBatchKMeans.partial_fit`` runs over every batch for
   ``passes`` passes.
3. **count** — every row is scored with the model's own rule
   (:meth:`custseg.model.SegmentModel.predict_matrix`) to get exact segment sizes
   (segments are numbered by size, largest first), per-segment means and the
   inertia.
4. **write** — every row is scored again and appended to ``segments.csv``
   (original columns exactly as read, then ``segment``, ``segment_name``,
   ``distance_to_center``), atomically.

What is exact and what comes from the sample: scaling (standard and min-max),
feature means, segment sizes, shares and means, and the inertia are computed
over every row. The median used to impute missing values, the robust scaler's
median and IQR, the feature quantiles stored in the model, segment medians,
and the silhouette, Calinski-Harabasz and Davies-Bouldin indices come from the
sample (``summary.json`` says how many rows). The model is the same portable
``model.json`` as the local engine writes, so ``custseg score`` and
``custseg serve`` use it unchanged; scoring the training data reproduces the
labels in ``segments.csv``.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from custseg.backends.large import detect_roles_fast, feature_matrix
from custseg.errors import DataWarning, EmptyInputError
from custseg.features.kinds import column_kinds
from custseg.features.missing import (
    MissingCounts,
    apply_missing_policy,
    fitting_rows,
    impute_values,
)
from custseg.features.preprocessing import ColumnStatistics, Scaler, scaler_from_statistics
from custseg.features.profiles import name_segments, summary_segments
from custseg.features.roles import TableSchema
from custseg.features.selection import choose_features, require_features
from custseg.io import write_csv, write_json
from custseg.io.arrow import CsvAppender, iter_batches
from custseg.model import SegmentModel, segment_name_column
from custseg.options import SegmentOptions, resolve_options
from custseg.progress import ProgressFn, emit
from custseg.segmentation.k_choice import choose_k, given_k_block, sampled_k_block
from custseg.segmentation.prepare import require_rows
from custseg.segmentation.quality import clustering_metrics
from custseg.segmentation.records import QUANTILES, feature_record, run_summary

__all__ = ["ChunkedResult", "segment_chunked"]


@dataclass
class ChunkedResult:
    """What :func:`segment_chunked` produced (the table itself is on disk only).

    Attributes
    ----------
    summary : dict
        What ``summary.json`` holds.
    model : SegmentModel
    paths : dict of str to Path
        ``segments``, ``summary``, ``model`` (and ``k_selection`` when K was chosen).
    k_selection : DataFrame
    """

    summary: dict[str, Any]
    model: SegmentModel
    paths: dict[str, Path]
    k_selection: pd.DataFrame = field(default_factory=pd.DataFrame)


class _Stats:
    """Streaming count / mean / M2 / min / max per feature (Chan et al.'s merge)."""

    def __init__(self, d: int) -> None:
        self.n = 0
        self.mean = np.zeros(d)
        self.m2 = np.zeros(d)
        self.min = np.full(d, np.inf)
        self.max = np.full(d, -np.inf)

    def update(self, X: np.ndarray) -> None:
        if not len(X):
            return
        n_b = len(X)
        mean_b = X.mean(axis=0)
        m2_b = ((X - mean_b) ** 2).sum(axis=0)
        delta = mean_b - self.mean
        total = self.n + n_b
        self.mean = self.mean + delta * n_b / total
        self.m2 = self.m2 + m2_b + delta**2 * self.n * n_b / total
        self.n = total
        self.min = np.minimum(self.min, X.min(axis=0))
        self.max = np.maximum(self.max, X.max(axis=0))

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / max(self.n, 1))


class _Sample:
    """A seeded uniform sample of rows: the ``size`` rows with the smallest random keys."""

    def __init__(self, size: int, random_state: int) -> None:
        self.size = size
        self.rng = np.random.default_rng(random_state)
        self.keys = np.empty(0)
        self.rows = np.empty(0, dtype="int64")
        self.X: np.ndarray | None = None

    def update(self, X: np.ndarray, row_ids: np.ndarray) -> None:
        keys = self.rng.random(len(X))
        if self.X is None:
            self.X = np.empty((0, X.shape[1]))
        keys = np.concatenate([self.keys, keys])
        rows = np.concatenate([self.rows, row_ids])
        data = np.concatenate([self.X, X])
        if len(keys) > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            keys, rows, data = keys[keep], rows[keep], data[keep]
        self.keys, self.rows, self.X = keys, rows, data

    def ordered(self) -> np.ndarray:
        """The sampled rows in file order."""
        order = np.argsort(self.rows, kind="stable")
        return self.X[order] if self.X is not None else np.empty((0, 0))


def _batch_frame(batch: pa.RecordBatch) -> pd.DataFrame:
    frame = batch.to_pandas(types_mapper=pd.ArrowDtype)
    frame.columns = [str(c).strip() or str(c) for c in frame.columns]
    return frame


def _roles_and_features(
    batches: Callable[[], Iterator[pa.RecordBatch]], options: SegmentOptions, source: str
) -> tuple[pd.DataFrame, TableSchema, list[str], list[dict[str, Any]]]:
    """Roles from the first batch by the core rules, then the shared feature choice."""
    first = next(iter(batches()), None)
    if first is None:
        raise EmptyInputError(
            f"input file '{source}' has a header but no data rows; add customer rows"
        )
    head = _batch_frame(first)
    schema = detect_roles_fast(head, id_column=options.id_column)
    with warnings.catch_warnings():
        # Empty in the first batch is not empty in the file: no warning from a batch.
        warnings.simplefilter("ignore", DataWarning)
        names, skipped = choose_features(head, schema, options.features)
    require_features(names, schema, source)
    return head, schema, names, skipped


@dataclass
class _Pass1:
    """What the first pass over the batches learnt."""

    stats: _Stats
    sample: _Sample
    missing: MissingCounts
    fill: np.ndarray
    n_rows: int
    median_rows: int | None


def _statistics_pass(
    matrices: Callable[[], Iterator[np.ndarray]],
    names: list[str],
    options: SegmentOptions,
    sample_rows: int,
    progress: ProgressFn | None,
) -> _Pass1:
    """Exact statistics and a seeded sample of the complete rows; missing values counted."""
    d = len(names)
    stats = _Stats(d)
    sample = _Sample(sample_rows, options.random_state)
    missing = MissingCounts.of(np.zeros((0, d), dtype=bool), names)
    n_rows = 0
    nan_sample = _Sample(sample_rows, options.random_state + 1)  # medians incl. rows with NaN
    emit(progress, "reading", 0)
    for X in matrices():
        nan = np.isnan(X)
        rows_nan = nan.any(axis=1)
        missing = missing + MissingCounts.of(nan, names, row_offset=n_rows)
        ids = np.arange(n_rows, n_rows + len(X))
        nan_sample.update(X, ids)
        stats.update(X[~rows_nan])
        sample.update(X[~rows_nan], ids[~rows_nan])
        n_rows += len(X)
        emit(progress, "reading", n_rows)
    emit(progress, "reading", n_rows, n_rows)
    fill = impute_values(nan_sample.ordered())
    median_rows = len(nan_sample.rows) if n_rows > len(nan_sample.rows) else None
    return _Pass1(stats, sample, missing, fill, n_rows, median_rows)


def _imputed_statistics(
    matrices: Callable[[], Iterator[np.ndarray]],
    fill: np.ndarray,
    d: int,
    options: SegmentOptions,
    sample_rows: int,
) -> tuple[_Stats, _Sample]:
    """Imputed rows join the fit: the exact statistics and sample again, with them filled in."""
    stats, sample = _Stats(d), _Sample(sample_rows, options.random_state)
    done = 0
    for X in matrices():
        X = np.where(np.isnan(X), fill, X)
        stats.update(X)
        sample.update(X, np.arange(done, done + len(X)))
        done += len(X)
    return stats, sample


def _scaler(stats: _Stats, sample: np.ndarray, method: str) -> Scaler:
    """The shared scaler construction, from exact streamed statistics (robust: the sample)."""
    robust = ColumnStatistics.of(sample, "robust") if method == "robust" else None
    return scaler_from_statistics(
        method,
        ColumnStatistics(
            len(stats.mean),
            mean=stats.mean,
            std=stats.std,
            minimum=stats.min,
            maximum=stats.max,
            median=robust.median if robust is not None else None,
            iqr=robust.iqr if robust is not None else None,
        ),
    )


def segment_chunked(
    path: str | Path,
    out_dir: str | Path,
    options: SegmentOptions | None = None,
    *,
    batch_rows: int = 100_000,
    sample_rows: int = 100_000,
    passes: int = 1,
    n_init: int = 10,
    progress: ProgressFn | None = None,
    **params: Any,
) -> ChunkedResult:
    """Segment a CSV or Parquet table batch by batch; see the module docstring.

    Parameters
    ----------
    path : str or Path
        CSV file (optionally gzipped) or Parquet file/folder.
    out_dir : str or Path
        Receives ``segments.csv``, ``summary.json``, ``model.json`` (and
        ``k_selection.csv`` when K was chosen).
    options : SegmentOptions, optional
        As for :class:`custseg.Segmenter` (K-Means only); keyword ``params`` are
        applied on top.
    batch_rows : int, default=100_000
        Rows per batch; memory grows with it, not with the table.
    sample_rows : int, default=100_000
        The seeded sample for choosing K, medians, quantiles and sample metrics.
    passes : int, default=1
        Mini-batch K-Means passes over all rows after the k-means++ start.
    n_init : int, default=10
        k-means++ restarts on the sample.
    progress : callable, optional
        ``progress(phase, rows_done, rows_total)``.
    **params
        Options by name (``k``, ``missing``, ...).

    Returns
    -------
    ChunkedResult

    Raises
    ------
    InputError
        As the local engine: unreadable file, unknown or non-numeric feature,
        missing values with ``missing="error"``, too few rows.
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans

    options = resolve_options(options, params)
    options.require_kmeans("chunked")
    missing, scaling, random_state = options.missing, options.scaling, options.random_state
    source = str(path)
    out = Path(out_dir)

    def batches() -> Iterator[pa.RecordBatch]:
        return iter_batches(path, batch_rows=batch_rows)

    def matrices() -> Iterator[np.ndarray]:
        for batch in batches():
            yield feature_matrix(_batch_frame(batch), names, source=source)

    head, schema, names, skipped = _roles_and_features(batches, options, source)
    columns = list(head.columns)
    d = len(names)

    # -- pass 1: statistics, sample, missing values -------------------------------------
    first = _statistics_pass(matrices, names, options, sample_rows, progress)
    n_rows, fill, missing_counts = first.n_rows, first.fill, first.missing
    n_nan_rows = missing_counts.rows_with_missing
    apply_missing_policy(missing, missing_counts, source, median_rows=first.median_rows)
    stats, sample = first.stats, first.sample
    if n_nan_rows and missing == "impute":
        stats, sample = _imputed_statistics(matrices, fill, d, options, sample_rows)
    n_fit = stats.n
    require_rows(n_fit, source)
    Xs = sample.ordered()
    scaler = _scaler(stats, Xs, scaling)
    Zs = scaler.transform(Xs)

    # -- pass 2: K, then mini-batch K-Means over every batch --------------------------
    n_distinct = len(np.unique(Xs, axis=0))
    choice = choose_k(Zs, options, n_distinct=n_distinct, source=source, progress=progress)
    k = int(choice.chosen) if choice is not None else int(options.k or 0)
    k_table = choice.table if choice is not None else pd.DataFrame()
    k_summary = (
        sampled_k_block(choice, options, len(Zs)) if choice is not None else given_k_block(k)
    )
    start = KMeans(n_clusters=k, n_init=n_init, random_state=random_state).fit(Zs)
    mbk = MiniBatchKMeans(
        n_clusters=k,
        init=start.cluster_centers_,
        n_init=1,
        random_state=random_state,
        batch_size=batch_rows,
    )
    emit(progress, "fitting", 0, n_fit * passes)
    fitted_rows = 0
    for _ in range(passes):
        for X in matrices():
            X, _ = fitting_rows(X, missing, fill)
            if len(X):
                mbk.partial_fit(scaler.transform(X))
            fitted_rows += len(X)
            emit(progress, "fitting", fitted_rows, n_fit * passes)
    centers = np.asarray(mbk.cluster_centers_, dtype="float64")

    # -- pass 3: exact sizes, means and inertia with the model's own scoring rule -----
    # The feature records first: scoring names the features of a row it leaves out.
    quantiles = np.quantile(Xs, QUANTILES, axis=0)
    model = SegmentModel(
        features=[
            feature_record(
                f, stats.min[j], stats.max[j], stats.mean[j], stats.std[j], quantiles[:, j]
            )
            for j, f in enumerate(names)
        ],
        scaler=scaler,
        missing=missing,
        impute_values=fill,
        algorithm="kmeans",
        centers=centers,
        segments=[],
        training={},
    )
    counts = np.zeros(k, dtype="int64")
    sums = np.zeros((k, d))
    inertia = 0.0
    # The fingerprint hashes the fitted rows (imputed, or without the dropped ones) in
    # file order, exactly as custseg.model.fingerprint does over the whole matrix.
    digest = hashlib.sha256()
    digest.update(json.dumps(names).encode())
    for batch in batches():
        X = feature_matrix(_batch_frame(batch), names, source=source)
        scored = model.predict_matrix(X)
        ok = scored["segment"].notna().to_numpy()
        lab = scored["segment"].to_numpy(dtype="int64", na_value=0)[ok]
        Xf = np.where(np.isnan(X), fill, X)[ok]
        counts += np.bincount(lab, minlength=k)
        np.add.at(sums, lab, Xf)
        inertia += float((scored["distance_to_center"].to_numpy()[ok] ** 2).sum())
        digest.update(np.ascontiguousarray(Xf, dtype="float64").tobytes())
    order = sorted(range(k), key=lambda s: (-counts[s], s))
    model.centers = centers[order]
    counts, sums = counts[order], sums[order]

    # -- profiles and names: exact sizes and means, medians from the sample ------------
    overall_mean, overall_std = stats.mean, np.where(stats.std == 0, 1.0, stats.std)
    means = sums / np.maximum(counts, 1)[:, None]
    z = (means - overall_mean) / overall_std
    seg_names = name_segments(
        z,
        names,
        kinds=column_kinds(model.features),
        means=means,
        overall=np.asarray(stats.mean, dtype="float64"),
    )
    sample_labels = model.predict_matrix(Xs)["segment"].to_numpy(dtype="int64", na_value=-1)
    segments = summary_segments(names, seg_names, counts, means, z, Xs, sample_labels, n_fit)
    model.segments = [
        {"id": s["id"], "name": s["name"], "size": s["size"], "share": s["share"]} for s in segments
    ]
    model.training = {
        "rows": int(n_fit),
        "fingerprint": "sha256:" + digest.hexdigest(),
        "random_state": random_state,
        "engine": "chunked",
    }
    sample_metrics = clustering_metrics(
        scaler.transform(Xs), sample_labels, model.centers, random_state=random_state
    )
    metrics = {
        **sample_metrics,
        "inertia": inertia,
        "inertia_rows": int(n_fit),
        "other_metrics_rows": len(Xs),
    }

    # -- pass 4: label every row and write -----------------------------------------------
    extra = ["segment", "segment_name", "distance_to_center"]
    if n_nan_rows and missing == "drop":
        extra.append("reason")
    header = columns + [c if c not in columns else f"{c}_custseg" for c in extra]
    writer = CsvAppender(out / "segments.csv", header)
    lookup = model.segment_names
    written = 0
    emit(progress, "writing", 0, n_rows)
    try:
        for batch in batches():
            frame = _batch_frame(batch)
            scored = model.predict_matrix(feature_matrix(frame, names, source=source))
            scored["segment_name"] = segment_name_column(scored["segment"], lookup)
            if "reason" in extra and "reason" not in scored.columns:
                scored["reason"] = ""
            for col in extra:
                frame[col if col not in columns else f"{col}_custseg"] = scored[col].to_numpy()
            writer.write(frame)
            written += len(frame)
            emit(progress, "writing", written, n_rows)
        paths = {"segments": writer.close()}
    except BaseException:
        writer.abort()
        raise

    summary = run_summary(
        "chunked",
        source=source,
        rows=n_rows,
        rows_fitted=n_fit,
        schema=schema,
        features=names,
        skipped=skipped,
        scaling=scaling,
        missing=missing,
        missing_counts=missing_counts.as_dict(),
        rows_with_missing=n_nan_rows,
        random_state=random_state,
        k=k,
        k_selection=k_summary,
        metrics=metrics,
        segments=segments,
        details={
            "batch_rows": batch_rows,
            "passes": passes,
            "sample_rows": len(Xs),
            "method": "k-means++ restarts on the sample, then MiniBatchKMeans.partial_fit "
            "over every batch",
            "roles_from_rows": len(head),
        },
    )
    paths["summary"] = write_json(summary, out / "summary.json")
    paths["model"] = model.save(out / "model.json")
    if len(k_table):
        paths["k_selection"] = write_csv(k_table, out / "k_selection.csv")
    return ChunkedResult(summary=summary, model=model, paths=paths, k_selection=k_table)
