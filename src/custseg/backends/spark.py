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
4. **K**: given, or chosen on a seeded sample (at most 20,000 rows) from MLlib
   K-Means (k-means||, best of 3 seeded runs) fits for every K: the cost curve's elbow (kneedle) and
   MLlib's ``ClusteringEvaluator`` silhouette, combined by the rule of the
   original core: the elbow unless its silhouette is below 90% of the best, then
   the best-silhouette K.
5. **final fit**: MLlib K-Means (k-means||, seeded) on every row.
6. **label**: every row is scored on the executors by
   :meth:`custseg.model.SegmentModel.predict_matrix` (``mapInPandas``) — the code
   ``custseg score`` runs — so scoring the training rows later reproduces the
   labels exactly. Segments are numbered by size, largest first.
7. **write**: ``segments.csv`` (collected and written like the local engine)
   for up to :data:`CSV_MAX_ROWS` rows, else ``segments.parquet/`` written by
   Spark; ``summary.json`` and the portable ``model.json`` as the local engine.

Exact over all rows: scaling, sizes, shares, segment means, inertia. From the
sample or approximate: the imputation medians and feature quantiles
(``approxQuantile``, relative error 1e-4), segment medians, and the silhouette,
Calinski-Harabasz and Davies-Bouldin indices (on the K sample). On a real
cluster custseg must be installed on the executors (``pip install custseg`` on
every node, or ship it with ``--py-files``); see ``docs/scale.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.backends.large import detect_roles_fast
from custseg.backends.spark_session import spark_session
from custseg.errors import DataFormatError, DataWarning, EmptyInputError, SchemaError
from custseg.features.preprocessing import MISSING_POLICIES, SCALINGS, Scaler, check_choice
from custseg.features.profiles import name_segments, summary_segments
from custseg.features.roles import NA_TOKENS
from custseg.io import write_csv, write_json
from custseg.io.arrow import csv_header
from custseg.io.readers import _kind
from custseg.model import SegmentModel, segment_name_column
from custseg.progress import ProgressFn, emit
from custseg.segmentation.choose_k import knee_of
from custseg.segmentation.quality import clustering_metrics
from custseg.segmentation.records import QUANTILES, feature_record, run_summary

__all__ = ["CSV_MAX_ROWS", "SparkResult", "segment_spark"]

#: Up to this many rows the labelled table is written as segments.csv, else Parquet.
CSV_MAX_ROWS = 1_000_000
ROLE_ROWS = 20_000
SWEEP_ROWS = 20_000
SWEEP_RESTARTS = 3
ELBOW_TOLERANCE = 0.9


@dataclass
class SparkResult:
    """What :func:`segment_spark` produced; the labelled table is on disk only."""

    summary: dict[str, Any]
    model: SegmentModel
    paths: dict[str, Path]
    k_selection: pd.DataFrame = field(default_factory=pd.DataFrame)


def _read(spark: Any, path: str) -> tuple[Any, str]:
    local = "://" not in path
    p = Path(path)
    if local and not p.exists():
        raise DataFormatError(f"input file '{path}' does not exist; check the path")
    kind = _kind(p) if local else ("parquet" if path.rstrip("/").endswith(".parquet") else "csv")
    if kind == "excel":
        raise DataFormatError(f"'{path}' is Excel; --engine spark reads CSV or Parquet")
    try:
        if kind == "parquet":
            return spark.read.parquet(path), kind
        delimiter, encoding = ",", "UTF-8"
        if local and p.is_file():
            _, delimiter, enc = csv_header(p)
            encoding = "UTF-8" if enc == "utf-8-sig" else "ISO-8859-1"
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


def _choose_k(sample: Any, k_values: list[int], seed: int) -> tuple[int, str, pd.DataFrame]:
    """MLlib cost curve + ClusteringEvaluator silhouette on the sample; the core's rule."""
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.evaluation import ClusteringEvaluator

    evaluator = ClusteringEvaluator(featuresCol="z", predictionCol="prediction")
    rows = []
    for k in k_values:
        # MLlib has no n_init: a few seeded k-means|| runs, the lowest cost kept, so that
        # one unlucky start does not bend the cost curve.
        fits = [
            KMeans(k=k, seed=seed + r, featuresCol="z", initMode="k-means||").fit(sample)
            for r in range(SWEEP_RESTARTS)
        ]
        model = min(fits, key=lambda m: m.summary.trainingCost)
        predictions = model.transform(sample)
        n_found = predictions.select("prediction").distinct().count()
        silhouette = float(evaluator.evaluate(predictions)) if n_found > 1 else float("nan")
        rows.append(
            {"k": k, "inertia": float(model.summary.trainingCost), "silhouette": silhouette}
        )
    table = pd.DataFrame(rows)
    ks = table["k"].tolist()
    sil = table["silhouette"].to_numpy(dtype=float)
    best = ks[int(np.nanargmax(sil))] if not np.isnan(sil).all() else ks[0]
    best_sil = float(np.nanmax(sil)) if not np.isnan(sil).all() else float("nan")
    elbow = knee_of(ks, table["inertia"].tolist())
    if elbow is None:
        return best, f"no clear elbow in the cost curve; K={best} has the best silhouette", table
    elbow_sil = float(sil[ks.index(elbow)])
    if elbow == best:
        return (
            elbow,
            f"the elbow of the cost curve and the best silhouette both point to K={elbow}",
            table,
        )
    if elbow_sil >= ELBOW_TOLERANCE * best_sil:
        return (
            elbow,
            (
                f"the elbow is at K={elbow}, and its silhouette ({elbow_sil:.2f}) is within 10% of "
                f"the best (K={best}, {best_sil:.2f})"
            ),
            table,
        )
    return (
        best,
        (
            f"the elbow (K={elbow}) has a clearly lower silhouette ({elbow_sil:.2f}) than K={best} "
            f"({best_sil:.2f})"
        ),
        table,
    )


def segment_spark(
    path: str | Path,
    out_dir: str | Path,
    *,
    master: str | None = None,
    features: list[str] | None = None,
    id_column: str | None = None,
    k: int | None = None,
    k_min: int = 2,
    k_max: int = 10,
    scaling: str = "standard",
    missing: str = "impute",
    random_state: int = 42,
    progress: ProgressFn | None = None,
    spark: Any = None,
) -> SparkResult:
    """Segment a CSV or Parquet table with Apache Spark; see the module docstring.

    Parameters
    ----------
    path : str or Path
        Local path or a URI Spark can read (``hdfs://``, ``s3a://``, ...).
    out_dir : str or Path
        Local folder for ``segments.csv`` (or ``segments.parquet/``),
        ``summary.json``, ``model.json`` and ``k_selection.csv``.
    master : str, optional
        Spark master URL; default ``local[*]`` or the active session's.
    features, id_column, k, k_min, k_max, scaling, missing, random_state
        As for :class:`custseg.Segmenter`; ``scaling`` standard (MLlib, population
        std), minmax or none (robust is not offered on Spark).
    progress : callable, optional
    spark : SparkSession, optional
        Use this session instead of starting one.

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
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.feature import StandardScaler, VectorAssembler
    from pyspark.sql import functions as F

    from custseg.segmentation.pipeline import Segmenter

    check_choice(missing, MISSING_POLICIES, "--missing")
    check_choice(scaling, SCALINGS, "--scaling")
    if scaling == "robust":
        raise SchemaError("--scaling robust is not offered with --engine spark; use standard")
    source, out = str(path), Path(out_dir)
    spark = spark or spark_session(master)
    emit(progress, "reading", 0)
    raw, _ = _read(spark, source)
    columns = list(raw.columns)

    head = raw.limit(ROLE_ROWS).toPandas()
    if not len(head):
        raise EmptyInputError(f"input file '{path}' has a header but no data rows; add rows")
    schema = detect_roles_fast(head, id_column=id_column)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        names, skipped = Segmenter(features=features, id_column=id_column)._choose_features(
            head, schema
        )
    if not names:
        raise SchemaError(f"no usable numeric feature in {source}; name them with --features")
    d = len(names)
    fcols = [f"__f{j}" for j in range(d)]
    frame = _parsed(raw, names, source).cache()

    # -- missing values ---------------------------------------------------------------
    agg = frame.agg(
        F.count(F.lit(1)).alias("n"),
        *[F.sum(F.col(c).isNull().cast("long")).alias(f"m{j}") for j, c in enumerate(fcols)],
        F.sum(F.greatest(*[F.col(c).isNull().cast("int") for c in fcols]).cast("long")).alias(
            "nan_rows"
        ),
    ).first()
    n_rows, n_nan_rows = int(agg["n"]), int(agg["nan_rows"] or 0)
    emit(progress, "reading", n_rows, n_rows)
    missing_counts = {f: int(agg[f"m{j}"] or 0) for j, f in enumerate(names)}
    medians = frame.approxQuantile(fcols, [0.5], 1e-4)
    fill = np.array([m[0] if m else 0.0 for m in medians], dtype="float64")
    if n_nan_rows and missing == "error":
        first = frame.filter(F.greatest(*[F.col(c).isNull() for c in fcols])).first()
        col = next(names[j] for j, c in enumerate(fcols) if first[c] is None)
        raise SchemaError(
            f"column '{col}' in {source} has a missing value ({n_nan_rows} row(s) affected); "
            "fill it, or pass --missing impute or --missing drop"
        )
    if n_nan_rows and missing == "impute":
        warnings.warn(
            "missing values imputed with the column median ("
            + ", ".join(f"'{f}': {n}" for f, n in missing_counts.items() if n)
            + ")",
            DataWarning,
            stacklevel=2,
        )
        fit_frame = frame.fillna({c: float(v) for c, v in zip(fcols, fill, strict=True)})
    else:
        fit_frame = frame.dropna(subset=fcols)
        if n_nan_rows:
            warnings.warn(
                f"{n_nan_rows} row(s) with missing values left out of fitting; they appear in "
                "the output with an empty segment and a reason",
                DataWarning,
                stacklevel=2,
            )
    vectors = VectorAssembler(inputCols=fcols, outputCol="x").transform(fit_frame)

    # -- scaling: MLlib statistics, population std as in scikit-learn ----------------------
    stats = fit_frame.agg(
        *[F.min(c).alias(f"min{j}") for j, c in enumerate(fcols)],
        *[F.max(c).alias(f"max{j}") for j, c in enumerate(fcols)],
    ).first()
    mins = np.array([stats[f"min{j}"] for j in range(d)], dtype="float64")
    maxs = np.array([stats[f"max{j}"] for j in range(d)], dtype="float64")
    mllib = StandardScaler(inputCol="x", outputCol="unused", withMean=True, withStd=True).fit(
        vectors
    )
    n_fit = int(vectors.count())
    if n_fit < 3:
        raise EmptyInputError(
            f"only {n_fit} usable row(s) in {source}; segmentation needs at least 3"
        )
    mean = np.asarray(mllib.mean.toArray(), dtype="float64")
    # MLlib divides by n - 1; scikit-learn (and every custseg model) by n.
    pop_std = np.asarray(mllib.std.toArray(), dtype="float64") * math.sqrt((n_fit - 1) / n_fit)
    if scaling == "standard":
        center, scale = mean, pop_std
    elif scaling == "minmax":
        center, scale = mins, maxs - mins
    else:
        center, scale = np.zeros(d), np.ones(d)
    scale = np.where(scale == 0, 1.0, scale)
    scaler = Scaler(scaling, center, scale)
    zcols = [
        ((F.col(c) - float(center[j])) / float(scale[j])).alias(f"__z{j}")
        for j, c in enumerate(fcols)
    ]
    scaled = (
        VectorAssembler(inputCols=[f"__z{j}" for j in range(d)], outputCol="z")
        .transform(fit_frame.select(*zcols))
        .select("z")
        .cache()
    )

    # -- K ------------------------------------------------------------------------------
    k_table = pd.DataFrame()
    fraction = min(1.0, SWEEP_ROWS / n_fit)
    sample = scaled.sample(withReplacement=False, fraction=fraction, seed=random_state).cache()
    if k is None:
        emit(progress, "choosing K", 0, None)
        n_sample = sample.count()
        k_hi = min(k_max, n_sample - 1)
        if k_hi < k_min:
            raise EmptyInputError(f"{source} has too few rows to try K from {k_min}")
        k, k_reason, k_table = _choose_k(sample, list(range(k_min, k_hi + 1)), random_state)
        emit(progress, "choosing K", n_sample, n_sample)
        k_summary: dict[str, Any] = {
            "method": "auto",
            "k_min": k_min,
            "k_max": k_max,
            "table": k_table.to_dict(orient="records"),
            "chosen": int(k),
            "reason": k_reason,
            "rows_used": int(n_sample),
            "rule": "elbow of the MLlib cost curve unless its ClusteringEvaluator silhouette "
            "is below 90% of the best",
        }
    else:
        k_summary = {"method": "given", "chosen": int(k), "reason": f"K={k} was given"}

    # -- final fit on every row ------------------------------------------------------
    emit(progress, "fitting", 0, n_fit)
    km = KMeans(
        k=k, seed=random_state, featuresCol="z", initMode="k-means||", maxIter=100, tol=1e-6
    ).fit(scaled)
    emit(progress, "fitting", n_fit, n_fit)
    raw_centers = np.array([c for c in km.clusterCenters()], dtype="float64")
    sizes = {
        int(r["prediction"]): int(r["count"])
        for r in km.transform(scaled).groupBy("prediction").count().collect()
    }
    order = sorted(range(k), key=lambda s: (-sizes.get(s, 0), s))
    centers = raw_centers[order]

    model = SegmentModel(
        features=[{"name": f, "dtype": "float64", "kind": "numeric"} for f in names],
        scaler=scaler,
        missing=missing,
        impute_values=fill,
        algorithm="kmeans",
        centers=centers,
        segments=[],
        training={},
    )

    # -- label every row with custseg's own scoring code, on the executors ------------
    emit(progress, "labelling", 0, n_rows)
    model_json = json.dumps(model.to_dict())
    labelled = _label(frame, model_json, fcols)
    seg = labelled.filter(F.col("segment").isNotNull())
    by_segment = {
        int(r["segment"]): r
        for r in seg.groupBy("segment")
        .agg(
            F.count(F.lit(1)).alias("size"),
            F.sum(F.col("distance_to_center") ** 2).alias("inertia"),
            *[
                F.avg(F.coalesce(F.col(c), F.lit(float(fill[j])))).alias(f"mean{j}")
                for j, c in enumerate(fcols)
            ],
        )
        .collect()
    }
    emit(progress, "labelling", n_rows, n_rows)
    overall = fit_frame.agg(*[F.avg(c).alias(f"a{j}") for j, c in enumerate(fcols)]).first()
    overall_mean = np.array([overall[f"a{j}"] for j in range(d)], dtype="float64")
    overall_std = np.where(pop_std == 0, 1.0, pop_std)
    sizes_arr = np.array([int(by_segment[s]["size"]) if s in by_segment else 0 for s in range(k)])
    means = np.array(
        [
            [float(by_segment[s][f"mean{j}"]) if s in by_segment else np.nan for j in range(d)]
            for s in range(k)
        ]
    )
    z = (means - overall_mean) / overall_std
    seg_names = name_segments(np.nan_to_num(z), names)
    quant = fit_frame.approxQuantile(fcols, QUANTILES, 1e-4)
    sample_pd = sample.select(*[F.col("z")]).toPandas()
    Zs = np.array([v.toArray() for v in sample_pd["z"]], dtype="float64").reshape(-1, d)
    sample_model = model.predict_matrix(scaler.inverse_transform(Zs)) if len(Zs) else None
    labels_s = (
        sample_model["segment"].to_numpy(dtype="int64", na_value=-1)
        if sample_model is not None
        else np.empty(0, dtype="int64")
    )
    Xs = scaler.inverse_transform(Zs)
    segments = summary_segments(names, seg_names, sizes_arr, means, z, Xs, labels_s, n_fit)
    model.features = [
        feature_record(f, mins[j], maxs[j], mean[j], pop_std[j], quant[j])
        for j, f in enumerate(names)
    ]
    model.segments = [{k_: s[k_] for k_ in ("id", "name", "size", "share")} for s in segments]
    digest = hashlib.sha256(
        json.dumps(
            {"features": names, "rows": n_fit, "mean": mean.tolist(), "std": pop_std.tolist()}
        ).encode()
    )
    model.training = {
        "rows": n_fit,
        "fingerprint": "spark-sha256:" + digest.hexdigest(),
        "random_state": random_state,
        "engine": "spark",
        "spark_version": spark.version,
        "master": spark.sparkContext.master,
    }
    inertia = float(sum(float(r["inertia"] or 0.0) for r in by_segment.values()))
    metrics = {
        **(
            clustering_metrics(Zs, labels_s, centers, random_state=random_state)
            if len(Zs) > k
            else {}
        ),
        "inertia": inertia,
        "inertia_rows": n_fit,
        "other_metrics_rows": len(Zs),
    }

    # -- write ------------------------------------------------------------------------
    names_lookup = model.segment_names
    from itertools import chain

    name_map = F.create_map(*[F.lit(x) for x in chain.from_iterable(names_lookup.items())])
    labelled = labelled.withColumn(
        "segment_name", F.coalesce(name_map[F.col("segment")], F.lit(""))
    )
    emit(progress, "writing", 0, n_rows)
    out.mkdir(parents=True, exist_ok=True)
    extra = ["segment", "segment_name", "distance_to_center"]
    if n_nan_rows and missing == "drop":
        extra.append("reason")
    final_cols = [F.col(f"`{c}`") for c in columns] + [
        F.col(f"`{c}`").alias(c if c not in columns else f"{c}_custseg") for c in extra
    ]
    table = labelled.select(*final_cols)
    paths: dict[str, Path] = {}
    if n_rows <= CSV_MAX_ROWS:
        pdf = table.toPandas()
        for col in columns:
            if pdf[col].dtype == object:
                pdf[col] = pdf[col].where(pdf[col].notna(), "")
        seg_col = "segment" if "segment" not in columns else "segment_custseg"
        pdf[seg_col] = pd.array(pdf[seg_col], dtype="Int64")
        name_col = "segment_name" if "segment_name" not in columns else "segment_name_custseg"
        pdf[name_col] = segment_name_column(pdf[seg_col], names_lookup)
        if "reason" in extra:
            pdf["reason"] = pdf["reason"].fillna("")
        paths["segments"] = write_csv(pdf, out / "segments.csv")
    else:
        target = out / "segments.parquet"
        staging = out / f".segments.parquet.{random_state}.tmp"
        table.write.mode("overwrite").parquet(str(staging))
        if target.exists():
            import shutil

            shutil.rmtree(target)
        staging.rename(target)
        paths["segments"] = target
    emit(progress, "writing", n_rows, n_rows)

    summary = run_summary(
        "spark",
        source=source,
        rows=n_rows,
        rows_fitted=n_fit,
        schema=schema,
        features=names,
        skipped=skipped,
        scaling=scaling,
        missing=missing,
        missing_counts=missing_counts,
        rows_with_missing=n_nan_rows,
        random_state=random_state,
        k=k,
        k_selection=k_summary,
        metrics=metrics,
        segments=segments,
        details={
            "version": spark.version,
            "master": spark.sparkContext.master,
            "roles_from_rows": len(head),
            "scaler": "MLlib StandardScaler(withMean, withStd), sample std converted "
            "to population std",
        },
    )
    paths["summary"] = write_json(summary, out / "summary.json")
    paths["model"] = model.save(out / "model.json")
    if len(k_table):
        paths["k_selection"] = write_csv(k_table, out / "k_selection.csv")
    frame.unpersist()
    scaled.unpersist()
    sample.unpersist()
    return SparkResult(summary=summary, model=model, paths=paths, k_selection=k_table)


def _label(frame: Any, model_json: str, fcols: list[str]) -> Any:
    """Add ``segment``, ``distance_to_center`` (and ``reason``) by custseg's scoring code."""
    from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType

    out_schema = StructType(
        [
            *list(frame.schema.fields),
            StructField("segment", LongType()),
            StructField("distance_to_center", DoubleType()),
            StructField("reason", StringType()),
        ]
    )

    def score(batches):  # runs on the executors
        from custseg.model import SegmentModel

        model = SegmentModel.from_dict(json.loads(model_json))
        for pdf in batches:
            X = pdf[fcols].to_numpy(dtype="float64", na_value=np.nan)
            scored = model.predict_matrix(X)
            pdf["segment"] = scored["segment"].astype("Int64")
            pdf["distance_to_center"] = scored["distance_to_center"].to_numpy()
            pdf["reason"] = scored.get("reason", "")
            yield pdf

    return frame.mapInPandas(score, schema=out_schema)
