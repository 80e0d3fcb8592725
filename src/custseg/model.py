"""The portable segment model: save, load, score.

A model is one JSON document (``model.json``). Loading it reads numbers and
strings only — nothing is unpickled or executed — so a model file from anyone
is safe to open. ``format`` and ``schema_version`` identify it; a file without
them, or with a schema version this custseg does not know, is refused.

Scoring applies the stored imputation values, the log transform of skewed
columns and the scaling, then the engine's prediction rule (for centroid
engines: the nearest centre in the scaled space, ties to the lowest id), and
flags outliers by the stored fences. Training rows are labelled by this same
code, so scoring the training data reproduces the training labels exactly.

Schema version 2 added ``preprocessing.transform`` (the log transform of skewed
columns) and ``preprocessing.outliers`` (the outlier fences): a custseg that
reads only version 1 refuses such a model rather than score it without them.
Version 1 files are still read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg._version import __version__
from custseg.engines import Engine, get_engine
from custseg.engines.base import borderline_flags, nearest_center_margin, own_margin
from custseg.engines.exact_sums import RowSetDigest
from custseg.errors import InputError, ModelError, SchemaError
from custseg.features.encoding import flag_column, indicator_column
from custseg.features.large import feature_matrix as parse_features
from custseg.features.outliers import OutlierFences
from custseg.features.parallel import map_in_order
from custseg.features.preprocessing import Scaler
from custseg.features.roles import match_column
from custseg.features.transform import LOG_TRANSFORM
from custseg.io import read_json, write_json
from custseg.model_checks import check_model

__all__ = [
    "MODEL_FORMAT",
    "SCHEMA_VERSION",
    "ScoreArrays",
    "SegmentModel",
    "attach_scores",
    "fingerprint",
    "load_model",
]

MODEL_FORMAT = "custseg-model"
SCHEMA_VERSION = 2
SUPPORTED_SCHEMA_VERSIONS = (1, 2)
_CHUNK_ROWS = 200_000  # bounds the (rows × segments × features) distance array


def _name_slots(
    segment: pd.api.extensions.ExtensionArray | pd.Series, names: dict[int, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's slot in a table of names, and the table (object; the last slot is ``""``)."""
    if isinstance(segment, pd.Series):
        segment = segment.array
    if not isinstance(segment, pd.arrays.IntegerArray):  # already one: no copy
        segment = pd.array(segment, dtype="Int64")
    present = ~np.asarray(segment.isna())
    values = segment.to_numpy(dtype="int64", na_value=-1)
    low = min(0, int(values.min())) if len(values) else 0
    high = max([0, *names, int(values.max()) if len(values) else 0])
    table = np.full(high - low + 2, "", dtype=object)  # the last slot: empty segment
    for seg, name in names.items():
        table[int(seg) - low] = name
    slots = values - low if low else values
    return (slots if present.all() else np.where(present, slots, len(table) - 1)), table


def segment_name_column(
    segment: pd.api.extensions.ExtensionArray | pd.Series, names: dict[int, str]
) -> np.ndarray:
    """Object array of each row's segment name; ``""`` for an empty segment.

    One table lookup instead of a Python call per row: ten million rows in a
    fraction of a second. An id without a name gives ``""``. Put it in a frame as
    ``pd.Series(..., dtype=object)``: pandas would otherwise inspect every row to
    infer a text type, which costs more than the lookup.
    """
    if not names:  # a model being trained has no names yet
        return np.full(len(segment), "", dtype=object)
    slots, table = _name_slots(segment, names)
    return table[slots]


def segment_name_categories(
    segment: pd.api.extensions.ExtensionArray | pd.Series, names: dict[int, str]
) -> pd.Categorical:
    """:func:`segment_name_column` as a categorical: the same names, each stored once.

    Built from the segment ids, without hashing a row; a CSV writer then formats
    each distinct name once instead of once a row.
    """
    slots, table = _name_slots(segment, names)
    categories = list(dict.fromkeys(table.tolist()))
    code_of = np.array([categories.index(name) for name in table.tolist()], dtype="int64")
    return pd.Categorical.from_codes(code_of[slots], categories=categories)


def fingerprint(X: np.ndarray, features: list[str]) -> str:
    """SHA-256 of the column names and the training rows, whatever their order.

    The same customers in another order are the same training data: they give the
    same fingerprint (:class:`custseg.engines.exact_sums.RowSetDigest`).
    """
    digest = RowSetDigest(json.dumps(features).encode())
    digest.update(X)
    return "sha256:" + digest.hexdigest()


def _is_indicator(feature: dict[str, Any]) -> bool:
    """Whether a model feature is an indicator: a category ("Gender=Female") or a flag."""
    return feature.get("kind") in ("category", "flag")


@dataclass(frozen=True)
class ScoreArrays:
    """The result of :meth:`SegmentModel.score_arrays`, one entry per row.

    Attributes
    ----------
    scored : ndarray of bool, shape (n_rows,)
        False for a row left unscored (a missing value under ``missing="drop"``).
    segment : ndarray of int64, shape (n_rows,)
        Segment id; -1 is noise (density engines); meaningless where not ``scored``.
    distance : ndarray of shape (n_rows,)
        Euclidean distance to the segment's centre in the scaled space (NaN for
        noise and unscored rows).
    columns : dict of str to ndarray
        ``margin`` and the engine's extra columns (e.g. ``probability_<id>``).
    reasons : ndarray of object or None
        Why each unscored row was not scored (``""`` for scored rows); None when
        every row was scored.
    """

    scored: np.ndarray
    segment: np.ndarray
    distance: np.ndarray
    columns: dict[str, np.ndarray]
    reasons: np.ndarray | None

    def take(self, rows: np.ndarray) -> ScoreArrays:
        """The entries of ``rows`` (indices, or a boolean mask), in that order."""
        return self.each(lambda values: values[rows])

    def each(self, fn: Callable[[np.ndarray], np.ndarray]) -> ScoreArrays:
        """These arrays, each replaced by ``fn`` of it (``reasons`` only when present)."""
        return ScoreArrays(
            fn(self.scored),
            fn(self.segment),
            fn(self.distance),
            {key: fn(values) for key, values in self.columns.items()},
            None if self.reasons is None else fn(self.reasons),
        )


@dataclass
class SegmentModel:
    """Everything needed to score new customers into the trained segments.

    Attributes
    ----------
    features : list of dict
        Per feature: ``name``, ``dtype``, ``kind`` and training statistics
        (``min``, ``max``, ``mean``, ``std``, ``quantiles`` at 0, 0.1, ..., 1).
    scaler : Scaler
    missing : str
        ``impute``, ``drop`` or ``error``; how scoring treats a missing value.
    impute_values : ndarray of shape (n_features,)
    algorithm : str
    centers : ndarray of shape (n_segments, n_features)
        In the scaled space.
    segments : list of dict
        ``id``, ``name``, ``size``, ``share`` per segment, in id order.
    training : dict
        ``rows``, ``fingerprint``, ``random_state``.
    engine_state : dict
        Extra state of engines that predict by their own rule.
    extra : dict
        Blocks added by other parts of custseg (drift baselines, ...), kept as is.
    outliers : OutlierFences, optional
        Fences in the scaled space; scoring adds an ``outlier`` column when set.
    """

    features: list[dict[str, Any]]
    scaler: Scaler
    missing: str
    impute_values: np.ndarray
    algorithm: str
    centers: np.ndarray
    segments: list[dict[str, Any]]
    training: dict[str, Any]
    engine_state: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    custseg_version: str = __version__
    outliers: OutlierFences | None = None

    @property
    def feature_names(self) -> list[str]:
        return [f["name"] for f in self.features]

    @property
    def segment_names(self) -> dict[int, str]:
        return {int(s["id"]): str(s["name"]) for s in self.segments}

    @property
    def center_ids(self) -> np.ndarray:
        """Segment id of each centre row: 0..K-1 unless the model file's ``center_ids``
        says otherwise (ids kept across retraining can have gaps; see custseg.lifecycle.continuity).
        """
        ids = self.extra.get("center_ids")
        return np.asarray(range(len(self.centers)) if ids is None else ids, dtype="int64")

    def original_centers(self) -> np.ndarray:
        """The centres in the features' original units, shape (n_centres, n_features).

        Row ``r`` is the centre of segment ``center_ids[r]``.
        """
        return self.scaler.inverse_transform(self.centers)

    def center_index(self, labels: np.ndarray) -> np.ndarray:
        """Centre row of each segment id in ``labels`` (-1, noise, stays -1)."""
        labels = np.asarray(labels, dtype="int64")
        plain = "center_ids" not in self.extra
        if plain and (not len(labels) or (labels.min() >= -1 and labels.max() < len(self.centers))):
            return labels  # ids 0..K-1 are the centre rows themselves, and -1 stays -1
        ids = self.center_ids
        top = int(ids.max(initial=-1))
        lookup = np.full(top + 2, -1, dtype="int64")  # the last slot: not a model id
        lookup[ids] = np.arange(len(ids))
        return lookup[np.where((labels >= 0) & (labels <= top), labels, top + 1)]

    # -- scoring -----------------------------------------------------------------
    def feature_matrix(self, frame: pd.DataFrame, *, source: str = "input") -> np.ndarray:
        """Pick and parse the model's features from ``frame`` (original units, NaN kept).

        Raises
        ------
        SchemaError
            A model feature is missing from ``frame`` or holds a non-numeric value.
        """
        columns = [str(c) for c in frame.columns]
        missing = []
        resolved = []
        # A categorical indicator ("Gender=Female") is computed from its source column.
        for name in (f.get("source", f["name"]) for f in self.features):
            try:
                resolved.append(match_column(name, columns))
            except SchemaError:
                missing.append(name)
        if missing:
            listing = ", ".join(f"'{m}'" for m in missing)
            raise SchemaError(
                f"{source} lacks the model's feature column(s) {listing}; add them "
                f"(the model needs: {', '.join(repr(n) for n in self.feature_names)})"
            )
        if not len(frame):
            return np.empty((0, len(resolved)))
        # Numbers are parsed as the training run parsed them (Arrow kernels on a big
        # table), so scoring the training rows reproduces their labels.
        numeric = [c for c, f in zip(resolved, self.features, strict=True) if not _is_indicator(f)]
        parsed = {}
        if numeric:
            matrix = parse_features(frame, numeric, source=source)
            if numeric == resolved:  # no indicator: the parsed matrix is the answer
                return np.ascontiguousarray(matrix, dtype="float64")
            parsed = dict(zip(numeric, matrix.T, strict=True))
        return np.column_stack(
            [
                _indicator_values(frame, c, f, source) if _is_indicator(f) else parsed[c]
                for c, f in zip(resolved, self.features, strict=True)
            ]
        )

    def score_arrays(self, X: np.ndarray) -> ScoreArrays:
        """Score a matrix of original-unit feature values, as plain arrays.

        :meth:`predict_matrix` puts these arrays into a frame; the scoring service
        reads them directly (a frame costs more than scoring one customer).

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
            NaN marks a missing value.

        Returns
        -------
        ScoreArrays

        Raises
        ------
        SchemaError
            A value is missing and the model was trained with ``missing="error"``.
        """
        X = np.asarray(X, dtype="float64")
        missing = np.isnan(X)
        # A search of every row only when a value is missing at all (one fast pass).
        nan_rows = missing.any(axis=1) if missing.any() else np.zeros(len(X), dtype=bool)
        reasons = None
        if nan_rows.any():
            if self.missing == "impute":
                X = np.where(np.isnan(X), self.impute_values, X)
                nan_rows = np.zeros(len(X), dtype=bool)
            elif self.missing == "error":
                row = int(np.flatnonzero(nan_rows)[0])
                col = self.feature_names[int(np.flatnonzero(np.isnan(X[row]))[0])]
                raise SchemaError(
                    f"column '{col}' has a missing value at row {row + 1} and this model was "
                    "trained with --missing error; fill the value"
                )
            else:
                reasons = np.full(len(X), "", dtype=object)
                for i in np.flatnonzero(nan_rows):
                    cols = [self.feature_names[j] for j in np.flatnonzero(np.isnan(X[i]))]
                    reasons[i] = "missing value in " + ", ".join(f"'{c}'" for c in cols)
        ok = ~nan_rows
        every = bool(ok.all())
        labels, distances, extra = self._predict_rows(X if every else X[ok])
        if "center_ids" in self.extra:  # continuity kept ids with gaps: centre row -> id
            labels = np.where(labels >= 0, self.center_ids[np.maximum(labels, 0)], labels)
        if every:
            return ScoreArrays(ok, labels, distances, extra, reasons)
        segment = np.zeros(len(X), dtype="int64")
        segment[ok] = labels
        distance = np.full(len(X), np.nan)
        distance[ok] = distances
        columns = {}
        for key, values in extra.items():
            columns[key] = np.full(len(X), np.nan)
            columns[key][ok] = values
        return ScoreArrays(ok, segment, distance, columns, reasons)

    def predict_matrix(self, X: np.ndarray) -> pd.DataFrame:
        """Score a matrix of original-unit feature values.

        Parameters
        ----------
        X : ndarray of shape (n_rows, n_features)
            NaN marks a missing value.

        Returns
        -------
        DataFrame of n_rows rows
            ``segment`` (nullable Int64; empty for an unscored row), ``segment_name``,
            ``distance_to_center``, plus engine columns (e.g. probabilities), and
            ``reason`` when some row could not be scored.
        """
        return self.scores_frame(self.score_arrays(X))

    def scores_frame(self, arrays: ScoreArrays) -> pd.DataFrame:
        """The frame :meth:`predict_matrix` gives for :meth:`score_arrays`' result.

        The frame takes the arrays without copying them: pass arrays no other frame holds.
        """
        segment = pd.arrays.IntegerArray(arrays.segment, ~arrays.scored)  # no per-row pd.NA
        names = segment_name_column(segment, self.segment_names)
        columns: dict[str, Any] = {
            "segment": segment,
            "segment_name": pd.Series(names, dtype=object, copy=False),
            "distance_to_center": arrays.distance,
        }
        for key, values in arrays.columns.items():
            columns[key] = values
            if key == "margin":  # borderline right after margin; empty for unscored rows
                flags = borderline_flags(values)
                columns["borderline"] = pd.arrays.BooleanArray(flags, ~arrays.scored)
            if key == "outlier":
                columns[key] = pd.arrays.BooleanArray(values == 1.0, ~arrays.scored)
        if arrays.reasons is not None:
            columns["reason"] = arrays.reasons
        return pd.DataFrame(columns, copy=False)

    def _predict_rows(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        """Scale and score complete rows in chunks: labels, distances, extra columns.

        Each row is scored on its own, so the chunks are scored two at a time
        (:func:`~custseg.features.parallel.map_in_order`) into arrays allocated
        once, with the bits one loop would give.
        """
        labels = np.empty(len(X), dtype="int64")
        distances = np.empty(len(X))
        extra: dict[str, np.ndarray] = {}
        if not len(X):
            return labels, distances, extra

        def score(start: int) -> None:
            lab, dist, columns = self._score_chunk(X[start : start + _CHUNK_ROWS])
            stop = start + len(lab)
            labels[start:stop] = lab
            distances[start:stop] = dist
            for key, values in columns.items():
                if key not in extra:  # the first chunk's columns: filled chunk by chunk
                    extra[key] = np.empty(len(X), dtype=values.dtype)
                extra[key][start:stop] = values

        score(0)  # alone: it sets up the extra columns the others fill
        map_in_order(score, range(_CHUNK_ROWS, len(X), _CHUNK_ROWS))
        return labels, distances, extra

    def _score_chunk(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict]:
        """Labels, distances and the extra columns (``margin`` first) of complete rows."""
        engine = get_engine(self.algorithm)
        # Scaling is element-wise, so scaling a chunk gives the same bits as
        # scaling the whole table, without a second full-size copy.
        part = self.scaler.transform(X)
        # Nearest-centre engines get label, distance and margin from one distance pass.
        if type(engine).predict is Engine.predict:
            lab, dist, margin = nearest_center_margin(part, self.centers)
            cols: dict[str, np.ndarray] = {}
        else:
            lab, cols = engine.predict(part, self.centers, self.engine_state)
            assigned = lab >= 0
            dist = np.full(len(part), np.nan)
            if assigned.any():
                diff = part[assigned] - self.centers[lab[assigned]]
                dist[assigned] = np.sqrt((diff**2).sum(axis=1))
            margin = own_margin(part, self.centers, lab)
        if self.outliers is not None:
            cols = {"outlier": self.outliers.flag(part).astype("float64"), **cols}
        return lab, dist, {"margin": margin, **cols}

    def predict(self, frame: pd.DataFrame, *, source: str = "input") -> pd.DataFrame:
        """Score the customers in ``frame``; see :meth:`predict_matrix` for the columns."""
        return self.predict_matrix(self.feature_matrix(frame, source=source))

    # -- persistence -------------------------------------------------------------
    def _preprocessing(self) -> dict[str, Any]:
        """The ``preprocessing`` block: missing values, transform, scaling, outlier fences."""
        block: dict[str, Any] = {
            "missing": self.missing,
            "impute_values": [float(v) for v in self.impute_values],
            "scaling": self.scaler.to_dict(),
        }
        units = self.scaler.log_units
        if units is not None and self.scaler.has_log:
            block["transform"] = {
                "method": LOG_TRANSFORM,
                "unit": [float(u) if u > 0 else None for u in units],
            }
        if self.outliers is not None:
            block["outliers"] = self.outliers.to_dict()
        return block

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "schema_version": SCHEMA_VERSION,
            "custseg_version": self.custseg_version,
            "features": self.features,
            "preprocessing": self._preprocessing(),
            "algorithm": self.algorithm,
            "centers": [[float(v) for v in row] for row in self.centers],
            "engine_state": self.engine_state,
            "segments": self.segments,
            "training": self.training,
            **self.extra,
        }

    @classmethod
    def from_dict(
        cls, data: object, *, source: str = "model", validate: bool = True
    ) -> SegmentModel:
        """Build a model from its JSON content (see :meth:`to_dict`).

        Parameters
        ----------
        data : object
            Parsed JSON; anything but a custseg model's dict is refused.
        source : str, default="model"
            The file's name in messages.
        validate : bool, default=True
            Check every field first (:func:`custseg.model_checks.check_model`);
            False only for a model this process has just built and serialised.

        Raises
        ------
        ModelError
            Not a custseg model, an unknown schema version, or a field that
            breaks its rule (the message names it).
        """
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ModelError(
                f'\'{source}\' is not a custseg model (no "format": "{MODEL_FORMAT}"); '
                "pass the model.json written by custseg segment"
            )
        version = data.get("schema_version")
        if version not in SUPPORTED_SCHEMA_VERSIONS:
            raise ModelError(
                f"'{source}' has model schema version {version!r}, which this custseg "
                f"{__version__} cannot read (it reads {list(SUPPORTED_SCHEMA_VERSIONS)}); "
                "upgrade custseg or retrain the model"
            )
        if validate:
            check_model(data, source=source)
        known = {
            "format",
            "schema_version",
            "custseg_version",
            "features",
            "preprocessing",
            "algorithm",
            "centers",
            "engine_state",
            "segments",
            "training",
        }
        try:
            pre = data["preprocessing"]
            model = cls(
                features=list(data["features"]),
                scaler=Scaler.from_dict(pre["scaling"], _log_units(pre.get("transform"))),
                outliers=OutlierFences.from_dict(pre["outliers"]) if "outliers" in pre else None,
                missing=str(pre["missing"]),
                impute_values=np.asarray(pre["impute_values"], dtype="float64"),
                algorithm=str(data["algorithm"]),
                centers=np.asarray(data["centers"], dtype="float64"),
                segments=list(data["segments"]),
                training=dict(data["training"]),
                engine_state=dict(data.get("engine_state") or {}),
                extra={k: v for k, v in data.items() if k not in known},
                custseg_version=str(data.get("custseg_version", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(
                f"'{source}' is a damaged custseg model ({type(exc).__name__}: {exc}); "
                "retrain it with custseg segment"
            ) from None
        return model

    def save(self, path: str | Path) -> Path:
        """Write the model as JSON, atomically."""
        return write_json(self.to_dict(), path)


def _log_units(block: dict[str, Any] | None) -> np.ndarray | None:
    """The transform block of a model file as units (0 = not transformed)."""
    if block is None:
        return None
    if block.get("method") != LOG_TRANSFORM:
        raise ValueError(f"unknown transform {block.get('method')!r}")
    return np.array([0.0 if u is None else float(u) for u in block["unit"]], dtype="float64")


def _indicator_values(frame: pd.DataFrame, column: str, feature: dict, source: str) -> np.ndarray:
    """An indicator feature from its input column: 1/0 for a category or a flag."""
    if feature.get("kind") == "flag":
        return flag_column(frame, column, where=source)
    return indicator_column(frame, column, feature["category"])


def attach_scores(frame: pd.DataFrame, scored: pd.DataFrame) -> pd.DataFrame:
    """``frame``'s columns unchanged, followed by the scoring columns.

    A scoring column whose name the input already uses gets a ``_custseg`` suffix,
    so no input value is ever overwritten.
    """
    # A shallow copy: the new columns go into the copy only, and the input's columns
    # (gigabytes of text on a big table) are shared, not duplicated.
    table = frame.reset_index(drop=True).copy(deep=False)
    for col in scored.columns:
        target = col if col not in frame.columns else f"{col}_custseg"
        # As a Series on the same index: keeps its dtype (no per-row inference of text).
        table[target] = scored[col].set_axis(table.index)
    return table


def load_model(path: str | Path) -> SegmentModel:
    """Load a model saved by :meth:`SegmentModel.save`.

    Parameters
    ----------
    path : str or Path
        ``model.json``, or a run folder that holds one.

    Raises
    ------
    ModelError
        Not a custseg model, damaged, or of an unknown schema version.
    InputError
        The file does not exist.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "model.json"
    if not path.exists():
        raise InputError(f"model file '{path}' does not exist; check the path")
    data = read_json(path, what="model")
    if data is None:
        raise ModelError(
            f"'{path}' is not a custseg model (not JSON); pass the model.json written by "
            "custseg segment"
        )
    return SegmentModel.from_dict(data, source=str(path))
