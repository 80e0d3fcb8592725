"""``--engine chunked``: segment a table larger than memory, one batch at a time.

The table (a CSV file, or a Parquet file or folder) is streamed in record
batches of ``batch_rows`` rows and is never held whole. Four passes:

1. **statistics** — exact count, mean, population standard deviation, minimum
   and maximum of every feature (sums exact until the end, so that the order of
   the rows changes nothing), missing
   counts, the SHA-256 fingerprint of the fitted rows (the same digest the local
   engine computes), and a seeded uniform sample of ``sample_rows`` rows
   (bottom-k of keys computed from each row's values: the same rows, in the same
   order, whatever the batch size and the order of the rows). The log
   transform of skewed columns and the outlier fences are decided on the sample
   by the in-memory rules (:mod:`custseg.features.transform`,
   :mod:`custseg.features.outliers`); when a column is transformed, one more
   pass gives the exact statistics of the transformed values for the scaler.
2. **fit** — K is given or chosen on the sample by the one K rule
   (:mod:`custseg.segmentation.k_choice`); K-Means over the batches
   (:func:`custseg.engines.kmeans.fit_kmeans_batches`): k-means++ with
   ``n_init`` restarts on the sample gives the start, then ``passes`` Lloyd
   iterations, each accumulated over every batch; outliers are left out of both.
   Neither depends on the order of the rows: the same customers in any order
   get the same K and the same segments.
3. **count** — every row is scored with the model's own rule
   (:meth:`custseg.model.SegmentModel.predict_matrix`) to get exact segment sizes
   (segments are numbered by size, largest first; one under ``min_segment_share``
   is dissolved and the rows counted again), per-segment means, outliers and the
   inertia.
4. **write** — every row is scored again and appended to ``segments.csv``
   (original columns exactly as read, then ``segment``, ``segment_name``,
   ``distance_to_center``, ``outlier``), atomically.

What is exact and what comes from the sample: scaling (standard and min-max),
feature means, segment sizes, shares and means, and the inertia are computed
over every row. The median used to impute missing values, the robust scaler's
median and IQR, the transform's decisions and units, the outlier fences, the
feature quantiles stored in the model, segment medians,
and the silhouette, Calinski-Harabasz and Davies-Bouldin indices come from the
sample, as do K, stability and the borderline share (``summary.json`` says
how many rows). The model is the same portable
``model.json`` as the local engine writes, so ``custseg score`` and
``custseg serve`` use it unchanged; scoring the training data reproduces the
labels in ``segments.csv``.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from custseg.engines.exact_sums import ExactSums, RowSetDigest, exact_mean_std, exact_squares
from custseg.engines.kmeans import fit_kmeans_batches
from custseg.errors import (
    DataWarning,
    EmptyInputError,
    InputError,
    collect_data_warnings,
    shift_rows,
)
from custseg.features.kinds import column_kinds
from custseg.features.large import detect_roles_fast, feature_matrix
from custseg.features.missing import (
    MissingCounts,
    apply_missing_policy,
    fitting_rows,
    impute_values,
)
from custseg.features.outliers import OutlierFences, fit_fences
from custseg.features.preprocessing import ColumnStatistics, Scaler, scaler_from_statistics
from custseg.features.roles import TableSchema
from custseg.features.selection import choose_features, require_amounts, require_features
from custseg.features.transform import TransformChoice, choose_transform, log_transform
from custseg.io import write_csv, write_json
from custseg.io.arrow import CsvAppender, iter_batches
from custseg.model import SegmentModel, segment_name_column
from custseg.options import SegmentOptions, resolve_options
from custseg.progress import ProgressFn, emit
from custseg.segmentation.choose_k import KSelection
from custseg.segmentation.describe import (
    LabelledSample,
    StreamedRun,
    describe_streamed,
    streamed_profiles,
    streamed_shaping,
)
from custseg.segmentation.fit import size_order
from custseg.segmentation.k_choice import choose_k
from custseg.segmentation.prepare import require_rows
from custseg.segmentation.records import QUANTILES, build_model, feature_record
from custseg.segmentation.sampling import MISSING_KEY, row_keys
from custseg.segmentation.small_segments import dissolve_small

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
    """Streaming count, mean, population std, min and max per feature.

    Sums are exact until the end (:class:`custseg.engines.exact_sums.ExactSums`):
    the same rows in any order, in any batches, give the same scaler to the last bit.
    """

    def __init__(self, d: int) -> None:
        self.n = 0
        self.sums, self.squares = ExactSums(1, d), ExactSums(1, d)
        self.min = np.full(d, np.inf)
        self.max = np.full(d, -np.inf)
        self._moments: tuple[np.ndarray, np.ndarray] | None = None

    def update(self, X: np.ndarray) -> None:
        if not len(X):
            return
        self.n += len(X)
        self.sums.add(X)
        for part in exact_squares(X):
            self.squares.add(part)
        self.min = np.minimum(self.min, X.min(axis=0))
        self.max = np.maximum(self.max, X.max(axis=0))
        self._moments = None

    def _mean_std(self) -> tuple[np.ndarray, np.ndarray]:
        if self._moments is None:
            self._moments = exact_mean_std(self.sums, self.squares, max(self.n, 1))
        return self._moments

    @property
    def mean(self) -> np.ndarray:
        return self._mean_std()[0]

    @property
    def std(self) -> np.ndarray:
        return self._mean_std()[1]


class _Sample:
    """A seeded uniform sample of rows: the ``size`` rows with the smallest keys.

    A row's key comes from its own values and the seed
    (:func:`custseg.segmentation.sampling.row_keys`), never from its position, so
    the same customers in any order, in any batches, give the same sample in the
    same order. A missing value gets a key value of its own.
    """

    def __init__(self, size: int, random_state: int) -> None:
        self.size = size
        self.random_state = random_state
        self.keys = np.empty(0, dtype=np.uint64)
        self.X: np.ndarray | None = None

    def update(self, X: np.ndarray) -> None:
        keys = row_keys(np.nan_to_num(X, nan=MISSING_KEY), random_state=self.random_state)
        if self.X is None:
            self.X = np.empty((0, X.shape[1]))
        keys = np.concatenate([self.keys, keys])
        data = np.concatenate([self.X, X])
        if len(keys) > self.size:
            keep = np.argpartition(keys, self.size - 1)[: self.size]
            keys, data = keys[keep], data[keep]
        self.keys, self.X = keys, data

    def __len__(self) -> int:
        return len(self.keys)

    def ordered(self) -> np.ndarray:
        """The sampled rows by key, ties by value: an order fixed by the values alone."""
        if self.X is None:
            return np.empty((0, 0))
        values = np.nan_to_num(self.X, nan=MISSING_KEY)
        columns = [values[:, j] for j in reversed(range(values.shape[1]))]
        return self.X[np.lexsort([*columns, self.keys])]


def _batch_frame(batch: pa.RecordBatch) -> pd.DataFrame:
    frame = batch.to_pandas(types_mapper=pd.ArrowDtype)
    frame.columns = [str(c).strip() or str(c) for c in frame.columns]
    return frame


@dataclass
class _Table:
    """The input, read again batch by batch for every pass."""

    path: str | Path
    batch_rows: int
    features: list[str] = field(default_factory=list)

    @property
    def source(self) -> str:
        return str(self.path)

    def frames(self) -> Iterator[pd.DataFrame]:
        for batch in iter_batches(self.path, batch_rows=self.batch_rows):
            yield _batch_frame(batch)

    def matrices(self) -> Iterator[np.ndarray]:
        """The feature columns of every batch, parsed; NaN where missing.

        A value that is not a number is named by its row in the whole table.
        """
        rows = 0
        for frame in self.frames():
            try:
                yield feature_matrix(frame, self.features, source=self.source)
            except InputError as exc:
                raise shift_rows(exc, rows) from None
            rows += len(frame)


def _roles_and_features(
    table: _Table, options: SegmentOptions
) -> tuple[pd.DataFrame, TableSchema, list[dict[str, Any]]]:
    """Roles from the first batch by the core rules, then the shared feature choice."""
    head = next(table.frames(), None)
    if head is None:
        raise EmptyInputError(
            f"input file '{table.source}' has a header but no data rows; add customer rows"
        )
    schema = detect_roles_fast(head, id_column=options.id_column)
    with warnings.catch_warnings():
        # Empty in the first batch is not empty in the file: no warning from a batch.
        warnings.simplefilter("ignore", DataWarning)
        table.features, skipped = choose_features(head, schema, options.features)
    require_features(table.features, schema, table.source)
    require_amounts(table.features, schema, "chunked")
    return head, schema, skipped


@dataclass
class _Prepared:
    """The prepare stage over batches: exact statistics, a sample, transform, scaler, fences."""

    stats: _Stats  # of the fitting rows in original units
    sample: np.ndarray  # seeded sample of the fitting rows, original units, in key order
    missing: MissingCounts
    fill: np.ndarray
    rows: int
    transform: TransformChoice
    log_stats: _Stats  # of the fitting rows on the transformed scale (``stats`` if none)
    scaler: Scaler
    fences: OutlierFences

    @property
    def sample_core(self) -> np.ndarray:
        """The sampled rows inside the fences, scaled: K and the start are fitted on them."""
        Z = self.scaler.transform(self.sample)
        return Z[~self.fences.flag(Z)]


def _prepare(
    table: _Table, options: SegmentOptions, sample_rows: int, progress: ProgressFn | None
) -> _Prepared:
    """Pass 1 (and a second with imputed values): statistics, sample, policy, scaler.

    The log transform and the outlier fences are decided by the in-memory rules
    (:func:`custseg.features.transform.choose_transform`,
    :func:`custseg.features.outliers.fit_fences`) on the sample; the scaling of the
    transformed values takes one more pass, exact over every row.
    """
    d = len(table.features)
    stats, sample = _Stats(d), _Sample(sample_rows, options.random_state)
    missing = MissingCounts.of(np.zeros((0, d), dtype=bool), table.features)
    nan_sample = _Sample(sample_rows, options.random_state + 1)  # medians incl. rows with NaN
    rows = 0
    emit(progress, "reading", 0)
    for X in table.matrices():
        nan = np.isnan(X)
        complete = ~nan.any(axis=1)
        missing = missing + MissingCounts.of(nan, table.features, row_offset=rows)
        nan_sample.update(X)
        stats.update(X[complete])
        sample.update(X[complete])
        rows += len(X)
        emit(progress, "reading", rows)
    emit(progress, "reading", rows, rows)
    fill = impute_values(nan_sample.ordered())
    median_rows = len(nan_sample) if rows > len(nan_sample) else None
    apply_missing_policy(options.missing, missing, table.source, median_rows=median_rows)
    if missing.rows_with_missing and options.missing == "impute":
        # Imputed rows join the fit: the exact statistics and sample again, filled in.
        stats, sample = _Stats(d), _Sample(sample_rows, options.random_state)
        for X in table.matrices():
            X = np.where(np.isnan(X), fill, X)
            stats.update(X)
            sample.update(X)
    require_rows(stats.n, table.source)
    Xs = sample.ordered()
    transform = choose_transform(Xs, table.features, mode=options.transform)
    log_stats = _log_stats(table, options, fill, transform.units) if transform.any else stats
    scaler = _scaler(log_stats, log_transform(Xs, transform.units), options.scaling)
    scaler = scaler.with_log(transform.units)
    fences = fit_fences(scaler.transform(Xs))
    return _Prepared(stats, Xs, missing, fill, rows, transform, log_stats, scaler, fences)


def _log_stats(
    table: _Table, options: SegmentOptions, fill: np.ndarray, units: np.ndarray
) -> _Stats:
    """Exact statistics of the fitting rows on the log scale: one more pass."""
    stats = _Stats(len(units))
    for X in table.matrices():
        stats.update(log_transform(fitting_rows(X, options.missing, fill)[0], units))
    return stats


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


def _fit(
    table: _Table,
    prep: _Prepared,
    options: SegmentOptions,
    k: int,
    *,
    n_init: int,
    passes: int,
    progress: ProgressFn | None,
) -> np.ndarray:
    """K-Means over every batch (fitting rows only), from restarts on the sample."""

    def batches() -> Iterator[np.ndarray]:
        # Outliers take no part in the fit, as in memory.
        for X in table.matrices():
            Z = prep.scaler.transform(fitting_rows(X, options.missing, prep.fill)[0])
            yield Z[~prep.fences.flag(Z)]

    total = prep.stats.n * passes
    fitted = 0

    def done(rows: int) -> None:
        nonlocal fitted
        fitted += rows
        emit(progress, "fitting", fitted, total)

    emit(progress, "fitting", 0, total)
    return fit_kmeans_batches(
        prep.sample_core,
        batches,
        k,
        random_state=options.random_state,
        n_init=n_init,
        passes=passes,
        done=done,
    )


def _model(prep: _Prepared, features: list[str], centers: np.ndarray, missing: str) -> SegmentModel:
    # The feature records first: scoring names the features of a row it leaves out.
    stats = prep.stats
    quantiles = np.quantile(prep.sample, QUANTILES, axis=0)
    records = [
        feature_record(f, stats.min[j], stats.max[j], stats.mean[j], stats.std[j], quantiles[:, j])
        for j, f in enumerate(features)
    ]
    return build_model(
        features=records,
        scaler=prep.scaler,
        missing=missing,
        fill=prep.fill,
        algorithm="kmeans",
        centers=centers,
        training={},
        outliers=prep.fences,
    )


@dataclass
class _Totals:
    """Exact per-segment figures, the inertia and the fingerprint, over every row.

    ``log_sums`` are the sums on the log scale (``sums`` where nothing is
    transformed); ``outliers`` counts the outliers per segment and ``beyond`` the
    customers beyond each feature's fence.
    """

    counts: np.ndarray
    sums: np.ndarray
    log_sums: np.ndarray
    outliers: np.ndarray
    beyond: np.ndarray
    inertia: float
    fingerprint: str

    def reordered(self, order: list[int]) -> _Totals:
        """The per-segment figures in the segments' new order (nothing dissolved)."""
        return dataclasses.replace(
            self,
            counts=self.counts[order],
            sums=self.sums[order],
            log_sums=self.log_sums[order],
            outliers=self.outliers[order],
        )


def _count(table: _Table, model: SegmentModel, fill: np.ndarray) -> _Totals:
    """Pass 3: every row scored by the model's own rule."""
    k, d = model.centers.shape
    counts, outliers, beyond = np.zeros(k, "int64"), np.zeros(k, "int64"), np.zeros(d, "int64")
    # Exact sums: the same figures to the last bit whatever the order of the rows.
    sums, log_sums, inertia = ExactSums(k, d), ExactSums(k, d), ExactSums(1, 1)
    units = model.scaler.log_units
    units = units if units is not None else np.zeros(d)
    fences = model.outliers if model.outliers is not None else OutlierFences.none(d)
    # The fingerprint hashes the fitted rows (imputed, or without the dropped ones),
    # exactly as custseg.model.fingerprint does over the whole matrix.
    digest = RowSetDigest(json.dumps(table.features).encode())
    for X in table.matrices():
        scored = model.predict_matrix(X)
        ok = scored["segment"].notna().to_numpy()
        lab = scored["segment"].to_numpy(dtype="int64", na_value=0)[ok]
        Xf = np.where(np.isnan(X), fill, X)[ok]
        counts += np.bincount(lab, minlength=k)
        sums.add(Xf, lab)
        log_sums.add(log_transform(Xf, units), lab)
        over = fences.beyond(model.scaler.transform(Xf))
        beyond += over.sum(axis=0)
        outliers += np.bincount(lab[over.any(axis=1)], minlength=k)
        inertia.add(scored["distance_to_center"].to_numpy()[ok, None] ** 2)
        digest.update(Xf)
    return _Totals(
        counts,
        sums.total(),
        log_sums.total(),
        outliers,
        beyond,
        float(inertia.total()[0, 0]),
        "sha256:" + digest.hexdigest(),
    )


def _write(
    table: _Table,
    model: SegmentModel,
    columns: list[str],
    out: Path,
    *,
    reason: bool,
    rows: int,
    progress: ProgressFn | None,
) -> Path:
    """Pass 4: label every row and append it to ``segments.csv`` (atomically)."""
    extra = ["segment", "segment_name", "distance_to_center", "outlier"] + (
        ["reason"] if reason else []
    )
    header = columns + [c if c not in columns else f"{c}_custseg" for c in extra]
    writer = CsvAppender(out / "segments.csv", header)
    lookup = model.segment_names
    written = 0
    emit(progress, "writing", 0, rows)
    try:
        for frame in table.frames():
            X = feature_matrix(frame, table.features, source=table.source)
            scored = model.predict_matrix(X)
            scored["segment_name"] = segment_name_column(scored["segment"], lookup)
            if reason and "reason" not in scored.columns:
                scored["reason"] = ""
            for col in extra:
                frame[col if col not in columns else f"{col}_custseg"] = scored[col].to_numpy()
            writer.write(frame)
            written += len(frame)
            emit(progress, "writing", written, rows)
        return writer.close()
    except BaseException:
        writer.abort()
        raise


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
        Lloyd iterations over all rows after the k-means++ start (one read each).
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
    options = resolve_options(options, params)
    options.require_kmeans("chunked")
    table, out = _Table(path, batch_rows), Path(out_dir)
    with collect_data_warnings() as messages:
        head, schema, skipped = _roles_and_features(table, options)
        prep = _prepare(table, options, sample_rows, progress)
        choice, model, totals, small = _choose_and_fit(
            table, prep, options, n_init, passes, progress
        )
        sample = LabelledSample.score(model, prep.sample)
        per_row = np.maximum(totals.counts, 1)[:, None]
        segments = streamed_profiles(
            table.features,
            sizes=totals.counts,
            means=totals.sums / per_row,
            overall_mean=prep.stats.mean,
            overall_std=prep.stats.std,
            sample=sample,
            rows_fitted=prep.stats.n,
            vocabulary=options.vocabulary,
            kinds=column_kinds(model.features),
            z_basis=(totals.log_sums / per_row, prep.log_stats.mean, prep.log_stats.std),
            outliers=totals.outliers,
        )
        model.segments = [s.model_entry() for s in segments]
        left_out = bool(prep.missing.rows_with_missing) and options.missing == "drop"
        columns = list(head.columns)
        written = _write(
            table, model, columns, out, reason=left_out, rows=prep.rows, progress=progress
        )
        run = StreamedRun(
            source=table.source,
            rows=prep.rows,
            rows_fitted=prep.stats.n,
            schema=schema,
            features=table.features,
            skipped=skipped,
            missing=prep.missing,
            model=model,
            sample=sample,
            segments=segments,
            inertia=totals.inertia,
            shaping=streamed_shaping(
                options,
                prep.transform,
                small,
                outliers=totals.outliers,
                beyond=totals.beyond,
                rows=prep.stats.n,
                sample_rows=len(prep.sample),
                engine="chunked",
            ),
        )
        details = {
            "batch_rows": batch_rows,
            "passes": passes,
            "sample_rows": len(prep.sample),
            "method": "k-means++ restarts on the sample, then Lloyd iterations over every batch",
            "roles_from_rows": len(head),
        }
        summary = describe_streamed(run, options, choice, engine="chunked", details=details)
    summary.warnings = messages
    return _save(out, written, summary.to_dict(), model, choice)


def _choose_and_fit(
    table: _Table,
    prep: _Prepared,
    options: SegmentOptions,
    n_init: int,
    passes: int,
    progress: ProgressFn | None,
) -> tuple[KSelection | None, SegmentModel, _Totals, dict[str, Any]]:
    """K by the one rule on the sample, K-Means over the batches, segments by size.

    As in memory, outliers take no part in choosing K or fitting, and a segment
    under ``min_segment_share`` of the customers is dissolved into its nearest
    segments (:func:`custseg.segmentation.small_segments.dissolve_small`).
    """
    Zs = prep.sample_core
    n_distinct = len(np.unique(Zs, axis=0))
    choice = choose_k(Zs, options, n_distinct=n_distinct, source=table.source, progress=progress)
    k = int(choice.chosen) if choice is not None else int(options.k or 0)
    centers = _fit(table, prep, options, k, n_init=n_init, passes=passes, progress=progress)
    model = _model(prep, table.features, centers, options.missing)
    totals = _count(table, model, prep.fill)
    sizes = dict(enumerate(int(n) for n in totals.counts))
    kept, small = dissolve_small(
        sizes, n_customers=prep.stats.n, min_share=options.min_segment_share
    )
    order = [s for s in size_order(sizes, centers) if s in set(kept)]
    model.centers = centers[order]
    # Dissolved segments' customers go to their nearest kept segment: count again.
    totals = totals.reordered(order) if len(order) == k else _count(table, model, prep.fill)
    model.training = {
        "rows": int(prep.stats.n),
        "fingerprint": totals.fingerprint,
        "random_state": options.random_state,
        "engine": "chunked",
    }
    return choice, model, totals, small


def _save(
    out: Path,
    segments: Path,
    summary: dict[str, Any],
    model: SegmentModel,
    choice: KSelection | None,
) -> ChunkedResult:
    paths = {"segments": segments, "summary": write_json(summary, out / "summary.json")}
    paths["model"] = model.save(out / "model.json")
    k_table = choice.table if choice is not None else pd.DataFrame()
    if len(k_table):
        paths["k_selection"] = write_csv(k_table, out / "k_selection.csv")
    return ChunkedResult(summary=summary, model=model, paths=paths, k_selection=k_table)
