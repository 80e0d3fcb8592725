"""``--engine spark``: the segmentation pipeline on Apache Spark.

The same steps as the local engine, each done by Spark so that the table never
has to fit on one machine:

1. **read** with Spark: CSV with every column as text (delimiter sniffed by the
   core's rule), or Parquet with its stored types.
2. **roles** are decided on the first 20,000 rows with the core rules; feature
   columns are parsed with Spark SQL (trimmed, the core's missing-value tokens
   as null, cast to double); a value that is not a number is reported with its
   column, row and value.
3. **scaling**: MLlib's ``StandardScaler(withMean=True, withStd=True)`` gives the
   mean and the *sample* standard deviation; custseg converts it to the
   population standard deviation, ``s * sqrt((n - 1) / n)``, which is what
   scikit-learn's StandardScaler (and the local engine) uses. The scaled
   features are ``(x - mean) / std`` computed by Spark SQL.
4. **K**: given, or chosen by the same rule as every other backend
   (:func:`custseg.segmentation.choose_k.select_k`) on a seeded sample of the
   scaled rows (about :data:`SWEEP_ROWS`) collected to the driver.
5. **final fit**: MLlib K-Means (k-means||, seeded) on every row inside the
   outlier fences. The log transform of skewed columns and the fences are
   decided on the driver's sample by the in-memory rules
   (:mod:`custseg.features.transform`, :mod:`custseg.features.outliers`); the
   transformed columns are scaled from exact Spark aggregates.
6. **label**: every row is scored on the executors by
   :meth:`custseg.model.SegmentModel.predict_matrix` (``mapInPandas``) — the code
   ``custseg score`` runs — so scoring the training rows later reproduces the
   labels exactly. Segments are numbered by size, largest first; one under
   ``min_segment_share`` is dissolved and the rows labelled again.
7. **write**: ``segments.csv`` (collected and written like the local engine)
   for up to :data:`CSV_MAX_ROWS` rows, else ``segments.parquet/`` written by
   Spark; ``summary.json`` and the portable ``model.json`` as the local engine.

Exact over all rows: scaling, sizes, shares, segment means, inertia. From the
sample or approximate: the transform's decisions and units, the outlier
fences, the imputation medians and feature quantiles
(``approxQuantile``, relative error 1e-4), segment medians, and the silhouette,
Calinski-Harabasz and Davies-Bouldin indices (on the K sample). On a real
cluster custseg must be installed on the executors (``pip install custseg`` on
every node, or ship it with ``--py-files``); see ``docs/scale.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import warnings
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from custseg.backends.spark_session import spark_session
from custseg.errors import (
    DataFormatError,
    DataWarning,
    EmptyInputError,
    InputError,
    SchemaError,
    collect_data_warnings,
)
from custseg.features.kinds import column_kinds
from custseg.features.large import detect_roles_fast
from custseg.features.missing import MissingCounts, apply_missing_policy, fill_values
from custseg.features.outliers import OutlierFences, fit_fences
from custseg.features.preprocessing import ColumnStatistics, Scaler, scaler_from_statistics
from custseg.features.roles import NA_TOKENS, TableSchema
from custseg.features.selection import choose_features, require_amounts, require_features
from custseg.features.transform import TransformChoice, choose_transform
from custseg.io import write_csv, write_json
from custseg.io.arrow import csv_header
from custseg.io.paths import check_input_exists, table_kind
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
from custseg.segmentation.records import QUANTILES, RunSummary, build_model, feature_record
from custseg.segmentation.small_segments import dissolve_small

__all__ = ["CSV_MAX_ROWS", "SparkResult", "segment_spark"]

#: Up to this many rows the labelled table is written as segments.csv, else Parquet.
CSV_MAX_ROWS = 1_000_000
#: Column roles are decided on this many leading rows.
ROLE_ROWS = 20_000
#: Rows (about) of the seeded sample collected to the driver to choose K and for metrics.
SWEEP_ROWS = 20_000


@dataclass
class SparkResult:
    """What :func:`segment_spark` produced; the labelled table is on disk only."""

    summary: dict[str, Any]
    model: SegmentModel
    paths: dict[str, Path]
    k_selection: pd.DataFrame = field(default_factory=pd.DataFrame)


def _read(spark: Any, path: str) -> tuple[Any, str]:
    local = "://" not in path
    p = check_input_exists(path)
    kind = (
        table_kind(p) if local else ("parquet" if path.rstrip("/").endswith(".parquet") else "csv")
    )
    if kind == "excel":
        raise DataFormatError(f"'{path}' is Excel; --engine spark reads CSV or Parquet")
    try:
        if kind == "parquet":
            return spark.read.parquet(path), kind
        delimiter, encoding = ",", "UTF-8"
        if local and p.is_file():
            _, delimiter, enc = csv_header(p)
            encoding = {"latin-1": "ISO-8859-1"}.get(enc, enc.removesuffix("-sig").upper())
        frame = (
            spark.read.option("header", True)
            .option("inferSchema", False)
            .option("sep", delimiter)
            .option("encoding", encoding)
            .option("multiLine", False)
            .csv(path)
        )
        # Spark keeps a UTF-8 BOM and surrounding spaces in the header; the core does not.
        frame = frame.toDF(*[c.lstrip("\ufeff").strip() or c for c in frame.columns])
        return frame, kind
    except DataFormatError:
        raise
    except Exception as exc:  # Spark's AnalysisException and friends
        raise DataFormatError(
            f"Spark could not read '{path}': {' '.join(str(exc).split())[:200]}; check the file"
        ) from None


def _parsed(frame: Any, names: list[str], source: str) -> Any:
    """Add ``__f{j}`` double columns parsed like the core parser; refuse bad values."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import NumericType, StringType

    tokens = sorted(NA_TOKENS)
    for j, name in enumerate(names):
        dtype = frame.schema[name].dataType
        if isinstance(dtype, NumericType):
            frame = frame.withColumn(f"__f{j}", F.col(f"`{name}`").cast("double"))
            continue
        text = F.trim(F.col(f"`{name}`").cast(StringType()))
        present = F.when(text.isin(tokens) | text.isNull(), None).otherwise(text)
        frame = frame.withColumn(f"__t{j}", present).withColumn(
            f"__f{j}", F.col(f"__t{j}").cast("double")
        )
    checks = []
    for j in range(len(names)):
        if f"__t{j}" in frame.columns:
            checks.append(
                F.sum(
                    (F.col(f"__t{j}").isNotNull() & F.col(f"__f{j}").isNull()).cast("long")
                ).alias(f"bad{j}")
            )
        checks.append(
            F.sum(F.col(f"__f{j}").isin(float("inf"), float("-inf")).cast("long")).alias(f"inf{j}")
        )
    counts = frame.agg(*checks).first().asDict()
    for j, name in enumerate(names):
        bad = int(counts.get(f"bad{j}") or 0)
        inf = int(counts.get(f"inf{j}") or 0)
        if bad or inf:
            flag = (
                (F.col(f"__t{j}").isNotNull() & F.col(f"__f{j}").isNull())
                if bad
                else F.col(f"__f{j}").isin(float("inf"), float("-inf"))
            )
            # Rows of one file keep their order through zipWithIndex: name the first one.
            index = (
                frame.select(flag.alias("bad"), F.col(f"`{name}`").alias("value"))
                .rdd.zipWithIndex()
                .filter(lambda pair: pair[0]["bad"])
                .first()
            )
            value, row = index[0]["value"], index[1] + 1
            if bad:
                raise SchemaError(
                    f"column '{name}' in {source} must be numeric; found {value!r} at row {row} "
                    f"({bad} such value(s)). Clean the value(s), or leave the column out of "
                    "--features"
                )
            raise SchemaError(
                f"column '{name}' in {source} has an infinite value {value!r} at row {row}; "
                "replace it with a finite number or leave it empty"
            )
    return frame.drop(*[f"__t{j}" for j in range(len(names)) if f"__t{j}" in frame.columns])


def _missing_counts(frame: Any, names: list[str], fcols: list[str], policy: str) -> MissingCounts:
    """Missing values per feature and rows with one; the first one located for ``error``."""
    from pyspark.sql import functions as F

    any_missing = F.greatest(*[F.col(c).isNull().cast("int") for c in fcols])
    agg = frame.agg(
        *[F.sum(F.col(c).isNull().cast("long")).alias(f"m{j}") for j, c in enumerate(fcols)],
        F.sum(any_missing.cast("long")).alias("nan_rows"),
    ).first()
    n_nan_rows = int(agg["nan_rows"] or 0)
    first_row = first_feature = None
    if n_nan_rows and policy == "error":
        # Rows of one file keep their order through zipWithIndex: name the first one.
        row, index = (
            frame.select(any_missing.alias("gap"), *fcols)
            .rdd.zipWithIndex()
            .filter(lambda pair: pair[0]["gap"])
            .first()
        )
        first_row = int(index)
        first_feature = next(j for j, c in enumerate(fcols) if row[c] is None)
    return MissingCounts(
        features=tuple(names),
        per_feature=tuple(int(agg[f"m{j}"] or 0) for j in range(len(fcols))),
        rows_with_missing=n_nan_rows,
        first_row=first_row,
        first_feature=first_feature,
    )


def _roles_and_features(
    raw: Any, options: SegmentOptions, source: str
) -> tuple[pd.DataFrame, TableSchema, list[str], list[dict[str, Any]]]:
    """Roles on the first :data:`ROLE_ROWS` rows by the core rules; the shared feature choice."""
    head = raw.limit(ROLE_ROWS).toPandas()
    if not len(head):
        raise EmptyInputError(f"input file '{source}' has a header but no data rows; add rows")
    schema = detect_roles_fast(head, id_column=options.id_column)
    with warnings.catch_warnings():
        # Empty in the first rows is not empty in the table: no warning from a sample.
        warnings.simplefilter("ignore", DataWarning)
        names, skipped = choose_features(head, schema, options.features)
    require_features(names, schema, source)
    require_amounts(names, schema, "spark")
    return head, schema, names, skipped


class _Moments(NamedTuple):
    mean: np.ndarray
    std: np.ndarray  # population standard deviation
    minimum: np.ndarray
    maximum: np.ndarray


def _fit_statistics(fit_frame: Any, fcols: list[str], source: str) -> _Moments:
    """Mean, population std, minimum and maximum of the fitting rows, by Spark."""
    from pyspark.ml.feature import StandardScaler, VectorAssembler
    from pyspark.sql import functions as F

    d = len(fcols)
    vectors = VectorAssembler(inputCols=fcols, outputCol="x").transform(fit_frame)
    stats = fit_frame.agg(
        *[F.min(c).alias(f"min{j}") for j, c in enumerate(fcols)],
        *[F.max(c).alias(f"max{j}") for j, c in enumerate(fcols)],
    ).first()
    mllib = StandardScaler(inputCol="x", outputCol="unused", withMean=True, withStd=True).fit(
        vectors
    )
    n_fit = int(vectors.count())
    require_rows(n_fit, source)
    # MLlib divides by n - 1; scikit-learn (and every custseg model) by n.
    pop_std = np.asarray(mllib.std.toArray(), dtype="float64") * math.sqrt((n_fit - 1) / n_fit)
    return _Moments(
        mean=np.asarray(mllib.mean.toArray(), dtype="float64"),
        std=pop_std,
        minimum=np.array([stats[f"min{j}"] for j in range(d)], dtype="float64"),
        maximum=np.array([stats[f"max{j}"] for j in range(d)], dtype="float64"),
    )


def _logged(fcols: list[str], units: np.ndarray) -> list[Any]:
    """The feature columns on the log scale of :func:`custseg.features.transform.log_transform`,
    ``sign(x) log1p(|x| / u)`` by Spark SQL (a column with ``u = 0`` as it is)."""
    from pyspark.sql import functions as F

    def logged(c: str, unit: float) -> Any:
        return F.signum(F.col(c)) * F.log1p(F.abs(F.col(c)) / unit) if unit > 0 else F.col(c)

    return [logged(c, float(units[j])) for j, c in enumerate(fcols)]


def _scaled(fit_frame: Any, fcols: list[str], scaler: Scaler, fences: OutlierFences) -> Any:
    """The fitting rows inside the outlier fences as one ``z`` vector column,
    ``(t(x) - center) / scale`` by Spark SQL."""
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F

    units = scaler.log_units if scaler.log_units is not None else np.zeros(len(fcols))
    zcols = [
        ((t - float(scaler.center[j])) / float(scaler.scale[j])).alias(f"__z{j}")
        for j, t in enumerate(_logged(fcols, units))
    ]
    scaled = fit_frame.select(*zcols)
    # Outliers take no part in the fit, as in memory (a NaN is never beyond a fence).
    for j in range(len(fcols)):
        if np.isfinite(fences.low[j]):
            scaled = scaled.filter(~(F.col(f"__z{j}") < float(fences.low[j])))
        if np.isfinite(fences.high[j]):
            scaled = scaled.filter(~(F.col(f"__z{j}") > float(fences.high[j])))
    return (
        VectorAssembler(inputCols=[f"__z{j}" for j in range(len(fcols))], outputCol="z")
        .transform(scaled)
        .select("z")
    )


@dataclass
class _Prepared:
    """The prepare stage on Spark: parsed rows, missing values, scaler, a driver sample."""

    source: str
    columns: list[str]
    head: pd.DataFrame
    schema: TableSchema
    features: list[str]
    skipped: list[dict[str, Any]]
    frame: Any  # every row, parsed feature columns ``__f{j}`` added (cached)
    rows: int
    missing: MissingCounts
    fill: np.ndarray
    fit_frame: Any  # the fitting rows (imputed or without the dropped ones)
    moments: _Moments  # of the fitting rows in original units
    log_moments: _Moments  # on the log scale (``moments`` when nothing is transformed)
    transform: TransformChoice
    scaler: Scaler
    fences: OutlierFences
    scaled: Any  # the fitting rows inside the fences as one ``z`` vector column (cached)
    rows_fitted: int
    sample: np.ndarray  # seeded sample of the fitting rows, original units

    @property
    def fcols(self) -> list[str]:
        return [f"__f{j}" for j in range(len(self.features))]


def _prepare(
    spark: Any, source: str, options: SegmentOptions, progress: ProgressFn | None
) -> _Prepared:
    """Read, roles, parse, missing values (shared policy), scaler (shared construction)."""
    emit(progress, "reading", 0)
    raw, _ = _read(spark, source)
    head, schema, names, skipped = _roles_and_features(raw, options, source)
    fcols = [f"__f{j}" for j in range(len(names))]
    frame = _parsed(raw, names, source).cache()
    rows = int(frame.count())
    emit(progress, "reading", rows, rows)
    missing = _missing_counts(frame, names, fcols, options.missing)
    fill = fill_values([m[0] if m else None for m in frame.approxQuantile(fcols, [0.5], 1e-4)])
    output = "segments.csv" if rows <= CSV_MAX_ROWS else "segments.parquet"
    apply_missing_policy(options.missing, missing, source, output=output)
    if missing.rows_with_missing and options.missing == "impute":
        fit_frame = frame.fillna({c: float(v) for c, v in zip(fcols, fill, strict=True)})
    else:
        fit_frame = frame.dropna(subset=fcols)
    moments = _fit_statistics(fit_frame, fcols, source)
    rows_fitted = int(fit_frame.count())
    fraction = min(1.0, SWEEP_ROWS / rows_fitted)
    picked = fit_frame.sample(withReplacement=False, fraction=fraction, seed=options.random_state)
    sample = picked.select(*fcols).toPandas().to_numpy(dtype="float64").reshape(-1, len(names))
    # The in-memory rules on the driver's sample; the scaling exact over every row.
    transform = choose_transform(sample, names, mode=options.transform)
    log_moments = moments
    if transform.any:
        logged = fit_frame.select(
            *[t.alias(c) for t, c in zip(_logged(fcols, transform.units), fcols, strict=True)]
        )
        log_moments = _fit_statistics(logged, fcols, source)
    scaler = scaler_from_statistics(
        options.scaling,
        ColumnStatistics(
            len(names),
            mean=log_moments.mean,
            std=log_moments.std,
            minimum=log_moments.minimum,
            maximum=log_moments.maximum,
        ),
    ).with_log(transform.units)
    fences = fit_fences(scaler.transform(sample))
    scaled = _scaled(fit_frame, fcols, scaler, fences).cache()
    return _Prepared(
        source=source,
        columns=list(raw.columns),
        head=head,
        schema=schema,
        features=names,
        skipped=skipped,
        frame=frame,
        rows=rows,
        missing=missing,
        fill=fill,
        fit_frame=fit_frame,
        moments=moments,
        log_moments=log_moments,
        transform=transform,
        scaler=scaler,
        fences=fences,
        scaled=scaled,
        rows_fitted=rows_fitted,
        sample=sample,
    )


@dataclass
class _Totals:
    """Exact per-segment figures and the inertia, by Spark over every row.

    ``log_means`` are the means on the log scale (``means`` where nothing is
    transformed); ``outliers`` counts the outliers per segment and ``beyond`` the
    customers beyond each feature's fence.
    """

    sizes: np.ndarray
    means: np.ndarray
    log_means: np.ndarray
    outliers: np.ndarray
    beyond: np.ndarray
    inertia: float
    labelled: Any  # every row with ``segment``, ``distance_to_center``, ``outlier``, ``reason``


def _fit(prep: _Prepared, k: int, random_state: int, progress: ProgressFn | None) -> np.ndarray:
    """MLlib K-Means (k-means||, seeded) on every fitting row; centres numbered by size."""
    from pyspark.ml.clustering import KMeans

    emit(progress, "fitting", 0, prep.rows_fitted)
    km = KMeans(
        k=k, seed=random_state, featuresCol="z", initMode="k-means||", maxIter=100, tol=1e-6
    ).fit(prep.scaled)
    emit(progress, "fitting", prep.rows_fitted, prep.rows_fitted)
    centers = np.array([c for c in km.clusterCenters()], dtype="float64")
    counted = km.transform(prep.scaled).groupBy("prediction").count().collect()
    sizes = {int(r["prediction"]): int(r["count"]) for r in counted}
    return centers[size_order({s: sizes.get(s, 0) for s in range(k)}, centers)]


def _model(
    prep: _Prepared, centers: np.ndarray, options: SegmentOptions, spark: Any
) -> SegmentModel:
    quantiles = prep.fit_frame.approxQuantile(prep.fcols, QUANTILES, 1e-4)
    m = prep.moments
    records = [
        feature_record(f, m.minimum[j], m.maximum[j], m.mean[j], m.std[j], quantiles[j])
        for j, f in enumerate(prep.features)
    ]
    identity = {
        "features": prep.features,
        "rows": prep.rows_fitted,
        "mean": m.mean.tolist(),
        "std": m.std.tolist(),
    }
    digest = hashlib.sha256(json.dumps(identity).encode())
    return build_model(
        features=records,
        scaler=prep.scaler,
        missing=options.missing,
        fill=prep.fill,
        algorithm="kmeans",
        centers=centers,
        training={
            "rows": prep.rows_fitted,
            "fingerprint": "spark-sha256:" + digest.hexdigest(),
            "random_state": options.random_state,
            "engine": "spark",
            "spark_version": spark.version,
            "master": spark.sparkContext.master,
        },
        outliers=prep.fences,
    )


def _count(prep: _Prepared, model: SegmentModel, progress: ProgressFn | None) -> _Totals:
    """Label every row on the executors with custseg's own code; exact sizes and means."""
    from pyspark.sql import functions as F

    emit(progress, "labelling", 0, prep.rows)
    labelled = _label(prep.frame, json.dumps(model.to_dict()), prep.fcols)
    filled = [
        F.coalesce(F.col(c), F.lit(float(v))) for c, v in zip(prep.fcols, prep.fill, strict=True)
    ]
    logged = _logged([f"__v{j}" for j in range(len(filled))], prep.transform.units)
    aggregates = (
        labelled.filter(F.col("segment").isNotNull())
        .select(
            "segment",
            "distance_to_center",
            "outlier",
            *[f"__b{j}" for j in range(len(filled))],
            *[v.alias(f"__v{j}") for j, v in enumerate(filled)],
        )
        .groupBy("segment")
        .agg(
            F.count(F.lit(1)).alias("size"),
            F.sum(F.col("distance_to_center") ** 2).alias("inertia"),
            F.sum(F.col("outlier").cast("long")).alias("outliers"),
            *[F.sum(F.col(f"__b{j}").cast("long")).alias(f"beyond{j}") for j in range(len(filled))],
            *[F.avg(F.col(f"__v{j}")).alias(f"mean{j}") for j in range(len(filled))],
            *[F.avg(t).alias(f"log{j}") for j, t in enumerate(logged)],
        )
        .collect()
    )
    emit(progress, "labelling", prep.rows, prep.rows)
    by_segment = {int(r["segment"]): r for r in aggregates}
    k, d = model.centers.shape

    def per_segment(key: str, default: float) -> np.ndarray:
        rows = [by_segment.get(s) for s in range(k)]
        return np.array([[float(r[f"{key}{j}"]) if r else default for j in range(d)] for r in rows])

    def counted(key: str) -> np.ndarray:
        return np.array([int(by_segment[s][key] or 0) if s in by_segment else 0 for s in range(k)])

    return _Totals(
        sizes=counted("size"),
        means=per_segment("mean", np.nan),
        log_means=per_segment("log", np.nan),
        outliers=counted("outliers"),
        beyond=per_segment("beyond", 0.0).sum(axis=0).astype("int64"),
        inertia=float(sum(float(r["inertia"] or 0.0) for r in aggregates)),
        labelled=labelled,
    )


def _write(
    prep: _Prepared,
    labelled: Any,
    names: dict[int, str],
    out: Path,
    *,
    reason: bool,
    random_state: int,
    progress: ProgressFn | None,
) -> Path:
    """``segments.csv`` (collected) up to :data:`CSV_MAX_ROWS` rows, else Parquet by Spark."""
    from pyspark.sql import functions as F

    columns = prep.columns
    name_map = F.create_map(*[F.lit(x) for x in chain.from_iterable(names.items())])
    labelled = labelled.withColumn(
        "segment_name", F.coalesce(name_map[F.col("segment")], F.lit(""))
    )
    emit(progress, "writing", 0, prep.rows)
    out.mkdir(parents=True, exist_ok=True)
    extra = ["segment", "segment_name", "distance_to_center", "outlier"] + (
        ["reason"] if reason else []
    )
    final_cols = [F.col(f"`{c}`") for c in columns] + [
        F.col(f"`{c}`").alias(c if c not in columns else f"{c}_custseg") for c in extra
    ]
    table = labelled.select(*final_cols)
    if prep.rows <= CSV_MAX_ROWS:
        pdf = _as_local_table(table.toPandas(), columns, names, reason)
        path = write_csv(pdf, out / "segments.csv")
    else:
        path = out / "segments.parquet"
        staging = out / f".segments.parquet.{random_state}.tmp"
        table.write.mode("overwrite").parquet(str(staging))
        if path.exists():
            shutil.rmtree(path)
        staging.rename(path)
    emit(progress, "writing", prep.rows, prep.rows)
    return path


def _as_local_table(
    pdf: pd.DataFrame, columns: list[str], names: dict[int, str], reason: bool
) -> pd.DataFrame:
    """The collected table as the local engine writes it: text kept, ``Int64`` segments."""
    for col in columns:
        if pdf[col].dtype == object:
            pdf[col] = pdf[col].where(pdf[col].notna(), "")
    seg_col = "segment" if "segment" not in columns else "segment_custseg"
    pdf[seg_col] = pd.array(pdf[seg_col], dtype="Int64")
    name_col = "segment_name" if "segment_name" not in columns else "segment_name_custseg"
    pdf[name_col] = segment_name_column(pdf[seg_col], names)
    outlier_col = "outlier" if "outlier" not in columns else "outlier_custseg"
    pdf[outlier_col] = pd.array(pdf[outlier_col], dtype="boolean")
    if reason:
        pdf["reason"] = pdf["reason"].fillna("")
    return pdf


def segment_spark(
    path: str | Path,
    out_dir: str | Path,
    options: SegmentOptions | None = None,
    *,
    master: str | None = None,
    progress: ProgressFn | None = None,
    spark: Any = None,
    **params: Any,
) -> SparkResult:
    """Segment a CSV or Parquet table with Apache Spark; see the module docstring.

    Parameters
    ----------
    path : str or Path
        Local path or a URI Spark can read (``hdfs://``, ``s3a://``, ...).
    out_dir : str or Path
        Local folder for ``segments.csv`` (or ``segments.parquet/``),
        ``summary.json``, ``model.json`` and ``k_selection.csv``.
    options : SegmentOptions, optional
        As for :class:`custseg.Segmenter` (K-Means only); ``scaling`` standard
        (MLlib, population std), minmax or none (robust is not offered on Spark).
        Keyword ``params`` are applied on top.
    master : str, optional
        Spark master URL; default ``local[*]`` or the active session's.
    progress : callable, optional
    spark : SparkSession, optional
        Use this session instead of starting one.
    **params
        Options by name (``k``, ``missing``, ...).

    Returns
    -------
    SparkResult

    Raises
    ------
    EngineError
        pyspark or Java missing, bad master URL, Spark failed.
    InputError
        As the local engine.
    """
    options = resolve_options(options, params)
    options.require_kmeans("Spark")
    if options.scaling == "robust":
        raise InputError(
            "scaling='robust' is not offered by the Spark backend; use scaling='standard'"
        )
    spark = spark or spark_session(master)
    out = Path(out_dir)
    with collect_data_warnings() as messages:
        prep = _prepare(spark, str(path), options, progress)
        summary, model, choice, written = _segment(prep, options, spark, out, progress)
    summary.warnings = messages
    summary_dict = summary.to_dict()
    paths = {"segments": written, "summary": write_json(summary_dict, out / "summary.json")}
    paths["model"] = model.save(out / "model.json")
    k_table = choice.table if choice is not None else pd.DataFrame()
    if len(k_table):
        paths["k_selection"] = write_csv(k_table, out / "k_selection.csv")
    prep.frame.unpersist()
    prep.scaled.unpersist()
    return SparkResult(summary=summary_dict, model=model, paths=paths, k_selection=k_table)


def _segment(
    prep: _Prepared,
    options: SegmentOptions,
    spark: Any,
    out: Path,
    progress: ProgressFn | None,
) -> tuple[RunSummary, SegmentModel, KSelection | None, Path]:
    """Choose K, fit, label, describe and write ``segments``: the stages after prepare.

    As in memory, outliers take no part in choosing K or fitting, and a segment
    under ``min_segment_share`` of the customers is dissolved into its nearest
    segments (:func:`custseg.segmentation.small_segments.dissolve_small`).
    """
    Zs = prep.scaler.transform(prep.sample)
    Zs = Zs[~prep.fences.flag(Zs)]
    n_distinct = len(np.unique(Zs, axis=0))
    choice = choose_k(Zs, options, n_distinct=n_distinct, source=prep.source, progress=progress)
    k = int(choice.chosen) if choice is not None else int(options.k or 0)
    centers = _fit(prep, k, options.random_state, progress)
    model = _model(prep, centers, options, spark)
    totals = _count(prep, model, progress)
    sizes = dict(enumerate(int(n) for n in totals.sizes))
    kept, small = dissolve_small(
        sizes, n_customers=prep.rows_fitted, min_share=options.min_segment_share
    )
    order = [s for s in size_order(sizes, centers) if s in set(kept)]
    if order != list(range(k)):  # outliers or a dissolved segment changed the numbering
        model.centers = centers[order]
        totals = _count(prep, model, progress)
    sample = LabelledSample.score(model, prep.sample)
    segments = streamed_profiles(
        prep.features,
        sizes=totals.sizes,
        means=totals.means,
        overall_mean=prep.moments.mean,
        overall_std=prep.moments.std,
        sample=sample,
        rows_fitted=prep.rows_fitted,
        vocabulary=options.vocabulary,
        kinds=column_kinds(model.features),
        z_basis=(totals.log_means, prep.log_moments.mean, prep.log_moments.std),
        outliers=totals.outliers,
    )
    model.segments = [s.model_entry() for s in segments]
    reason = bool(prep.missing.rows_with_missing) and options.missing == "drop"
    written = _write(
        prep,
        totals.labelled,
        model.segment_names,
        out,
        reason=reason,
        random_state=options.random_state,
        progress=progress,
    )
    details = {
        "version": spark.version,
        "master": spark.sparkContext.master,
        "roles_from_rows": len(prep.head),
        "scaler": "MLlib StandardScaler(withMean, withStd), sample std converted to population std",
    }
    run = StreamedRun(
        source=prep.source,
        rows=prep.rows,
        rows_fitted=prep.rows_fitted,
        schema=prep.schema,
        features=prep.features,
        skipped=prep.skipped,
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
            rows=prep.rows_fitted,
            sample_rows=len(prep.sample),
            engine="spark",
        ),
    )
    summary = describe_streamed(run, options, choice, engine="spark", details=details)
    return summary, model, choice, written


def _label(frame: Any, model_json: str, fcols: list[str]) -> Any:
    """Add ``segment``, ``distance_to_center``, ``outlier`` (and ``reason``) by custseg's
    scoring code, and ``__b{j}``: the row lies beyond feature j's outlier fence."""
    from pyspark.sql.types import (
        BooleanType,
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    out_schema = StructType(
        [
            *list(frame.schema.fields),
            StructField("segment", LongType()),
            StructField("distance_to_center", DoubleType()),
            StructField("outlier", BooleanType()),
            StructField("reason", StringType()),
            *[StructField(f"__b{j}", BooleanType()) for j in range(len(fcols))],
        ]
    )

    def score(batches):  # runs on the executors
        model = SegmentModel.from_dict(json.loads(model_json), validate=False)
        for pdf in batches:
            X = pdf[fcols].to_numpy(dtype="float64", na_value=np.nan)
            scored = model.predict_matrix(X)
            pdf["segment"] = scored["segment"].astype("Int64")
            pdf["distance_to_center"] = scored["distance_to_center"].to_numpy()
            pdf["outlier"] = scored["outlier"]
            pdf["reason"] = scored.get("reason", "")
            filled = np.where(np.isnan(X), model.impute_values, X)
            beyond = model.outliers.beyond(model.scaler.transform(filled))
            beyond &= scored["segment"].notna().to_numpy()[:, None]
            for j in range(len(fcols)):
                pdf[f"__b{j}"] = beyond[:, j]
            yield pdf

    return frame.mapInPandas(score, schema=out_schema)
