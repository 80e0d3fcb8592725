"""The segmentation pipeline: table in, named segments and a scoring model out.

:class:`Segmenter` follows scikit-learn's estimator contract: the constructor
stores options, :meth:`Segmenter.fit` validates the table once and sets
trailing-underscore state, :meth:`Segmenter.predict` scores new rows.
:func:`segment` is the one-shot form used by the CLI.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg._version import __version__
from custseg.backends.large import fit_final
from custseg.engines import get_engine
from custseg.errors import DataWarning, InputError
from custseg.features.encoding import annotate_categoricals, category_words
from custseg.features.kinds import column_kinds
from custseg.features.profiles import name_segments, profile_segments
from custseg.features.roles import TableSchema
from custseg.io import write_csv, write_json
from custseg.io.arrow import write_csv_auto
from custseg.lifecycle.continuity import PreviousRun, link_segments, load_previous
from custseg.lifecycle.drift import training_baseline
from custseg.model import SegmentModel, attach_scores, fingerprint, segment_name_column
from custseg.options import SegmentOptions, resolve_options
from custseg.progress import ProgressFn, emit
from custseg.segmentation.choose_k import describe_k_choice
from custseg.segmentation.k_choice import choose_k
from custseg.segmentation.prepare import prepare, read_input
from custseg.segmentation.quality import clustering_metrics, trust_summary
from custseg.segmentation.records import QUANTILES, feature_record

__all__ = ["SUMMARY_SCHEMA_VERSION", "SegmentationResult", "Segmenter", "segment"]

SUMMARY_SCHEMA_VERSION = 1


@dataclass
class SegmentationResult:
    """The outcome of a segmentation run.

    Attributes
    ----------
    table : DataFrame
        Every input row, original columns unchanged, plus ``segment``,
        ``segment_name``, ``distance_to_center`` (and ``reason`` where a row was
        left out of fitting).
    labels : Series of Int64
        The ``segment`` column; empty (``<NA>``) for rows left out.
    profiles : DataFrame
        One row per segment: ``name``, ``size``, ``share`` and per feature
        ``mean:``, ``median:`` and ``z:`` columns.
    k_selection : DataFrame
        One row per K tried (``k``, ``inertia``, ``silhouette``); empty when K was given.
    summary : dict
        What ``summary.json`` holds.
    model : SegmentModel
    schema : TableSchema
    """

    table: pd.DataFrame
    profiles: pd.DataFrame
    k_selection: pd.DataFrame
    summary: dict[str, Any]
    model: SegmentModel
    schema: TableSchema
    X: np.ndarray = field(repr=False, default=None)  # original-unit features of fitted rows
    #: Old segment × new segment counts when fitted with ``previous``
    #: (custseg.lifecycle.continuity).
    transitions: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    progress: Any = field(default=None, repr=False)  # callback for save(); see custseg.progress

    @property
    def labels(self) -> pd.Series:
        return self.table["segment"]

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``segments.csv``, ``summary.json``, ``model.json`` and ``k_selection.csv``.

        Each file is written atomically; the folder is created if absent.
        """
        out = Path(out_dir)
        paths = {
            "segments": write_csv_auto(self.table, out / "segments.csv", progress=self.progress),
            "summary": write_json(self.summary, out / "summary.json"),
            "model": self.model.save(out / "model.json"),
        }
        if len(self.k_selection):
            paths["k_selection"] = write_csv(self.k_selection, out / "k_selection.csv")
        if self.transitions is not None:
            paths["transitions"] = write_csv(self.transitions, out / "transitions.csv")
        return paths


def _json_safe(value: Any) -> Any:
    """Replace NaN/inf by None and NumPy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if np.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


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
        )

    # -- fitting -------------------------------------------------------------------
    def fit(self, data: pd.DataFrame | str | Path) -> Segmenter:
        """Segment ``data`` (a DataFrame or a path readable by :func:`custseg.io.read_table`).

        Sets ``result_``, ``model_``, ``labels_`` and ``k_``; returns ``self``.
        """
        options = self.get_options()
        frame, source = read_input(data, self.progress)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            result = _fit_frame(frame, source, options, self.progress, self.previous)
        for w in caught:
            if issubclass(w.category, DataWarning):
                result.warnings.append(str(w.message))
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        result.summary["warnings"] = list(result.warnings)
        result.progress = self.progress
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


def _fit_frame(
    frame: pd.DataFrame,
    source: str,
    options: SegmentOptions,
    progress: ProgressFn | None,
    previous_run: str | Path | SegmentModel | PreviousRun | None,
) -> SegmentationResult:
    previous = load_previous(previous_run) if previous_run is not None else None
    prep = prepare(
        frame,
        options,
        source=source,
        default_features=previous.features if previous is not None else None,
    )
    schema, features, skipped = prep.schema, prep.features, prep.skipped
    categories = prep.categories
    X_all, X_fit, fit_rows, fill = prep.X_all, prep.X_fit, prep.fit_rows, prep.fill
    scaler, Z = prep.scaler, prep.Z
    id_col = schema.id_column
    if previous is not None:  # fail before fitting: same features, an ID to follow
        previous.check_compatible(features, id_col, source)
    k_table = pd.DataFrame(columns=["k", "inertia", "silhouette"])
    choice = choose_k(Z, options, n_distinct=prep.n_distinct, source=source, progress=progress)
    k = options.k
    if choice is not None:
        k_table = choice.table
        k = choice.chosen

    engine = get_engine(options.algorithm)
    emit(progress, "fitting", 0, len(Z))
    fit_info: dict[str, Any] = {}
    # A big table's K-Means: float32, k-means++ restarts on a sample, Lloyd on all rows.
    fitted = fit_final(
        Z, k, algorithm=options.algorithm, random_state=options.random_state, info=fit_info
    )
    emit(progress, "fitting", len(Z), len(Z))
    # Number segments by size, largest first; ties keep the engine's order.
    ids = [s for s in np.unique(fitted.labels) if s >= 0]
    sizes = {s: int((fitted.labels == s).sum()) for s in ids}
    order = sorted(ids, key=lambda s: (-sizes[s], s))
    link = None
    if previous is not None:  # keep the previous run's ids instead of size order
        fitted, link = link_segments(
            previous, engine, Z, fitted, scaler=scaler, random_state=options.random_state
        )
        order = link.order
    centers = fitted.centers[order]
    state = engine.reorder(fitted.state, order)
    k = len(order)  # what was found: density engines choose, an empty segment is dropped

    feature_meta = [feature_summary(f, X_fit[:, j]) for j, f in enumerate(features)]
    annotate_categoricals(feature_meta, categories)
    model = SegmentModel(
        features=feature_meta,
        scaler=scaler,
        missing=options.missing,
        impute_values=fill,
        algorithm=options.algorithm,
        centers=centers,
        segments=[],
        training={
            "rows": len(X_fit),
            "fingerprint": fingerprint(X_fit, features),
            "random_state": options.random_state,
        },
        engine_state=state,
    )
    if link is not None:
        model.extra.update(link.model_extra())
    # Label the training rows with the model's own scoring rule, so that scoring
    # the training data later reproduces these labels exactly.
    emit(progress, "labelling", 0, len(X_all))
    scored = model.predict_matrix(X_all)
    emit(progress, "labelling", len(X_all), len(X_all))
    # Every fitting row is scored, so their labels are never empty.
    labels_fit = _fitting_rows(scored["segment"].to_numpy(dtype="int64", na_value=-1), fit_rows)

    profiles = profile_segments(X_fit, labels_fit, features)
    seg_ids = [int(s) for s in profiles.index if s >= 0]
    z = profiles.loc[seg_ids, [f"z:{f}" for f in features]].to_numpy()
    vocabulary = {**category_words(categories), **(options.vocabulary or {})}
    kinds = column_kinds(feature_meta, {c.name: c.role for c in schema.columns})
    names = dict(
        zip(
            seg_ids,
            name_segments(
                z,
                features,
                vocabulary=vocabulary,
                kinds=kinds,
                means=profiles.loc[seg_ids, [f"mean:{f}" for f in features]].to_numpy(),
                overall=np.array([m["mean"] for m in feature_meta]),
            ),
            strict=True,
        )
    )
    if link is not None:
        names = link.final_names(
            names,
            dict(zip(seg_ids, z, strict=True)),
            features,
            vocabulary=vocabulary,
            kinds=kinds,
        )
    if -1 in profiles.index:
        names[-1] = "Unassigned"
    profiles.insert(0, "name", [names[int(s)] for s in profiles.index])
    model.segments = [
        {
            "id": int(s),
            "name": names[int(s)],
            "size": int(profiles.loc[s, "size"]),
            "share": float(profiles.loc[s, "share"]),
        }
        for s in profiles.index
    ]
    model.extra["baseline"] = training_baseline(  # for custseg drift
        model,
        X_fit,
        scored=scored if fit_rows.all() else scored.loc[fit_rows].reset_index(drop=True),
        deciles=[m["quantiles"] for m in feature_meta],
    )
    scored["segment_name"] = pd.Series(
        segment_name_column(scored["segment"], names), index=scored.index, dtype=object
    )
    if options.missing == "drop" and prep.missing.rows_with_missing:
        scored.loc[fit_rows, "reason"] = ""
    table = attach_scores(frame, scored)

    metrics = clustering_metrics(Z, model.center_index(labels_fit), centers)
    summary = {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "custseg_version": __version__,
        "input": {"path": source, "rows": len(frame), "rows_fitted": len(X_fit)},
        "columns": schema.to_dict(),
        "id_column": id_col,
        "features": features,
        "skipped": skipped,
        "scaling": options.scaling,
        "missing": {
            "handling": options.missing,
            "counts": prep.missing.as_dict(),
            "rows_with_missing": prep.missing.rows_with_missing,
            "rows_left_out": int((~fit_rows).sum()),
        },
        "algorithm": options.algorithm,
        "random_state": options.random_state,
        "k": int(k),
        "k_selection": describe_k_choice(
            choice,
            Z,
            labels_fit,
            k_min=options.k_min,
            k_max=options.k_max,
            given_k=options.k,
            algorithm=options.algorithm,
            random_state=options.random_state,
        ),
        **trust_summary(
            Z,
            labels_fit,
            _fitting_rows(scored["margin"].to_numpy(dtype="float64"), fit_rows),
            algorithm=options.algorithm,
            stability=options.stability,
            random_state=options.random_state,
        ),
        "metrics": metrics,
        "segments": [
            {
                "id": int(s),
                "name": names[int(s)],
                "size": int(profiles.loc[s, "size"]),
                "share": float(profiles.loc[s, "share"]),
                "mean": {f: float(profiles.loc[s, f"mean:{f}"]) for f in features},
                "median": {f: float(profiles.loc[s, f"median:{f}"]) for f in features},
                "z": {f: float(profiles.loc[s, f"z:{f}"]) for f in features},
            }
            for s in profiles.index
        ],
    }
    if fit_info.get("method") != "engine":  # big tables: say how the final fit was done
        summary["final_fit"] = fit_info
    transitions = None
    if link is not None:
        transitions, summary["continuity"] = link.report(
            table, id_col, names, {int(s): int(profiles.loc[s, "size"]) for s in seg_ids}
        )
    return SegmentationResult(
        table=table,
        profiles=profiles,
        k_selection=k_table,
        summary=_json_safe(summary),
        model=model,
        schema=schema,
        X=X_fit,
        transitions=transitions,
    )


def _fitting_rows(values: np.ndarray, fit_rows: np.ndarray) -> np.ndarray:
    """``values[fit_rows]``, without a copy when every row was fitted (the usual case)."""
    return values if fit_rows.all() else values[fit_rows]


def feature_summary(name: str, values: np.ndarray) -> dict[str, Any]:
    """The model's record of one numeric feature: range, mean, std and deciles.

    Parameters
    ----------
    name : str
    values : ndarray of shape (n_rows,)
        The fitting rows' values, without NaN.

    Returns
    -------
    dict
        ``name``, ``dtype``, ``kind``, ``min``, ``max``, ``mean``, ``std`` and
        ``quantiles`` (the 0, 10, ..., 100th percentiles).
    """
    col = np.ascontiguousarray(values)  # one copy; five passes over a column of a wide matrix
    quantiles = np.quantile(col, QUANTILES)
    return feature_record(name, col.min(), col.max(), col.mean(), col.std(), quantiles)


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
