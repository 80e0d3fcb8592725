"""What the scoring service and the dashboard need on top of :class:`SegmentModel`.

Both delivery layers score with :meth:`SegmentModel.predict_matrix` (the same
call as ``custseg score``, so results are identical) and add what is kept here so
that it exists once:

* :func:`score_records` gives one plain record per customer, with warnings for
  values filled in or far outside the training range (the rules of
  :mod:`custseg.input_checks`, shared with ``custseg score`` and ``drift``).
* :func:`model_card` describes a model for people: features with their ranges,
  segments with their centres in original units, the training fingerprint.
* :func:`score_file` scores a file of customers into a file (``custseg score``):
  read whole when it fits in memory, else in batches.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.engines import Engine, get_engine
from custseg.errors import InputError, TableTooLargeError, shift_rows
from custseg.explain import explain_customers
from custseg.features.transform import log_transform
from custseg.input_checks import (
    RANGE_TOLERANCE,
    InputCheck,
    check_inputs,
    far_outside_warning,
    filled_warning,
    range_limits,
    training_range,
    value_warnings,
)
from custseg.io.arrow import FAST_WRITE_ROWS, table_appender, write_csv_pieces, write_table_auto
from custseg.io.paths import table_kind
from custseg.io.tables import iter_table, read_table
from custseg.io.writers import table_format
from custseg.model import (
    SCHEMA_VERSION,
    ScoreArrays,
    SegmentModel,
    attach_scores,
    segment_name_categories,
)

__all__ = [
    "PLAIN_MAX_ROWS",
    "SCORE_BATCH_ROWS",
    "SCORE_COLUMNS",
    "ScoredFile",
    "SegmentMap",
    "model_card",
    "model_sha256",
    "numpy_sum",
    "probability_columns",
    "score_file",
    "score_records",
]

#: The columns every model's scoring returns; engines may add probability columns.
SCORE_COLUMNS = ("segment", "segment_name", "distance_to_center")
#: Rows read at a time by :func:`score_file` when a table is too big to read whole.
SCORE_BATCH_ROWS = 100_000


def probability_columns(scored: pd.DataFrame) -> list[str]:
    """The engine's probability columns in a :meth:`SegmentModel.predict_matrix` result.

    Mixture engines add one float column per segment whose name starts with
    ``prob``; centroid engines add none.
    """
    return [c for c in scored.columns if str(c).lower().startswith("prob")]


def model_sha256(model: SegmentModel) -> str:
    """SHA-256 of the model's canonical JSON: changes whenever anything in the model does."""
    text = json.dumps(model.to_dict(), sort_keys=True, ensure_ascii=False, allow_nan=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def model_card(model: SegmentModel) -> dict[str, Any]:
    """A plain description of ``model``: features, segments and provenance.

    Returns
    -------
    dict
        ``model_version`` (:func:`model_sha256`), ``schema_version``,
        ``custseg_version``, ``algorithm``, ``training`` (``rows``,
        ``fingerprint``, ``random_state``), ``has_probabilities``, ``features``
        (``name``, ``dtype``, ``kind``, ``min``, ``max``, ``mean``, ``std``,
        ``quantiles``) and ``segments`` (``id``, ``name``, ``size``, ``share``,
        ``center`` in original units and ``z``, the centre's z-score per feature
        against the training population).
    """
    names = model.feature_names
    centers = model.original_centers()
    mean = np.array([float(f.get("mean", np.nan)) for f in model.features])
    std = np.array([float(f.get("std", np.nan)) for f in model.features])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (centers - mean) / std
    probe = model.predict_matrix(centers[:1]) if len(centers) else pd.DataFrame()
    # Centre rows are segments 0..K-1 unless the model keeps ids across retraining.
    row_of = {int(sid): r for r, sid in enumerate(model.center_ids)}
    segments = []
    for seg in model.segments:
        sid = int(seg["id"])
        entry = {
            "id": sid,
            "name": str(seg["name"]),
            "size": int(seg.get("size", 0)),
            "share": float(seg.get("share", 0.0)),
            "center": None,
            "z": None,
        }
        if sid in row_of:
            row = row_of[sid]
            entry["center"] = {n: float(v) for n, v in zip(names, centers[row], strict=True)}
            entry["z"] = {
                n: (float(v) if np.isfinite(v) else None)
                for n, v in zip(names, z[row], strict=True)
            }
        segments.append(entry)
    features = [
        {
            "name": str(f["name"]),
            "dtype": str(f.get("dtype", "float64")),
            "kind": str(f.get("kind", "numeric")),
            "min": float(f["min"]),
            "max": float(f["max"]),
            "mean": _finite(f.get("mean")),
            "std": _finite(f.get("std")),
            "quantiles": [float(q) for q in f.get("quantiles", [])],
        }
        for f in model.features
    ]
    training = model.training
    return {
        "model_version": model_sha256(model),
        "schema_version": int(SCHEMA_VERSION),
        "custseg_version": model.custseg_version,
        "algorithm": model.algorithm,
        "training": {
            "rows": int(training.get("rows", 0)),
            "fingerprint": str(training.get("fingerprint", "")),
            "random_state": training.get("random_state"),
        },
        "has_probabilities": bool(probability_columns(probe)),
        "features": features,
        "segments": segments,
    }


def _segment_key(column: str) -> str:
    """``probability_3`` → ``"3"``: probabilities are keyed by segment id."""
    return column.removeprefix("probability_")


def _nullable(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def _finite_or_none(values: np.ndarray) -> list[float | None]:
    """Plain floats, None where not finite (JSON has no NaN)."""
    return [v if math.isfinite(v) else None for v in values.tolist()]


def _probabilities(arrays: ScoreArrays) -> list[dict[str, float | None]] | None:
    keys = [k for k in arrays.columns if k.lower().startswith("prob")]
    if not keys:
        return None
    columns = [_finite_or_none(arrays.columns[k]) for k in keys]
    ids = [_segment_key(k) for k in keys]
    return [dict(zip(ids, row, strict=True)) for row in zip(*columns, strict=True)]


def _outlier_flags(arrays: ScoreArrays) -> list[bool | None]:
    """Each row's outlier flag; None everywhere for a model without fences."""
    if "outlier" not in arrays.columns:
        return [None] * len(arrays.scored)
    return [v == 1.0 for v in arrays.columns["outlier"].tolist()]


def score_records(
    model: SegmentModel,
    X: np.ndarray,
    *,
    tolerance: float = RANGE_TOLERANCE,
    explain: bool = False,
    ids: Sequence[Any] | None = None,
) -> list[dict[str, Any]]:
    """Score rows and return one plain record per row.

    The scoring call is :meth:`SegmentModel.score_arrays`, the one behind ``custseg
    score``, so the segments and distances are identical to its output.

    Parameters
    ----------
    model : SegmentModel
    X : ndarray of shape (n_rows, n_features)
        Original units, columns in ``model.feature_names`` order; NaN = unknown.
    tolerance : float, default=0.5
        The range rule of :func:`custseg.input_checks.far_outside`.
    explain : bool, default=False
        Add why each customer is in their segment (:func:`custseg.explain.explain_customers`).
    ids : sequence of length n_rows, optional
        Each record then starts with the row's ``index`` (from 0) and ``id`` (this
        value), as the scoring service answers.

    Returns
    -------
    list of dict, length n_rows
        ``segment`` (int or None), ``segment_name`` (str or None),
        ``distance_to_center`` (float or None), ``outlier`` (bool, or None for a
        model without fences or an unscored row), ``probabilities`` (dict of
        segment id as text → probability, or None when the model has none), ``warnings``
        (values filled in or far outside the training range, see
        :func:`custseg.input_checks.value_warnings`), ``explanation`` (None unless
        ``explain``) and ``reason`` (None unless unscored).

    Raises
    ------
    SchemaError
        A value is missing and the model was trained with ``missing="error"``.
    """
    X = np.asarray(X, dtype="float64")
    arrays = model.score_arrays(X)
    n = len(X)
    explanations: list[Any] = [None] * n
    if explain:
        chosen = np.where(arrays.scored, arrays.segment, -1)
        explanations = explain_customers(model, X, chosen)
    names = model.segment_names
    segments: list[Any] = arrays.segment.tolist()
    probabilities: list[Any] = _probabilities(arrays) or [None] * n
    names_of: list[Any] = [names.get(seg, "") for seg in segments]
    outliers = _outlier_flags(arrays)
    if not arrays.scored.all():  # an unscored row has no segment, name or outlier flag
        for i in np.flatnonzero(~arrays.scored).tolist():
            segments[i] = names_of[i] = outliers[i] = None
    columns = [segments, names_of, _finite_or_none(arrays.distance), outliers]
    reasons = [r or None for r in arrays.reasons.tolist()] if arrays.reasons is not None else None
    rows = zip(
        *columns,
        probabilities,
        value_warnings(model, X, tolerance=tolerance),
        explanations,
        reasons or [None] * n,
        strict=True,
    )
    # Dict literals in one pass: the service scores up to 10,000 customers a request,
    # and building the records is most of its scoring time.
    if ids is None:
        return [
            {"segment": seg, "segment_name": name, "distance_to_center": dist, "outlier": out,
             "probabilities": prob, "warnings": warn, "explanation": why, "reason": reason}
            for seg, name, dist, out, prob, warn, why, reason in rows
        ]  # fmt: skip
    return [
        {"index": i, "id": key, "segment": seg, "segment_name": name, "distance_to_center": dist,
         "outlier": out, "probabilities": prob, "warnings": warn, "explanation": why,
         "reason": reason}
        for i, key, (seg, name, dist, out, prob, warn, why, reason)
        in zip(range(n), ids, rows, strict=True)
    ]  # fmt: skip


def numpy_sum(terms: Sequence[float]) -> float:
    """The sum NumPy's pairwise summation gives for ``terms``, bit for bit.

    ``np.add.reduce`` of a contiguous run starts from 0 and adds up to 7 terms left
    to right; from 8 terms on it keeps 8 running sums (blocks of up to 128 terms,
    halves of longer runs) and adds the rest left to right.
    """
    n = len(terms)
    if n < 8:
        total = 0.0
        for term in terms:
            total += term
        return total
    if n > 128:
        half = n // 2
        half -= half % 8
        return numpy_sum(terms[:half]) + numpy_sum(terms[half:])
    sums = list(terms[:8])
    end = n - n % 8
    for start in range(8, end, 8):
        sums = [a + b for a, b in zip(sums, terms[start : start + 8], strict=True)]
    a, b, c, d, e, f, g, h = sums
    total = ((a + b) + (c + d)) + ((e + f) + (g + h))
    for term in terms[end:]:
        total += term
    return total


#: Most rows :class:`RowScorer` scores in plain floats: from about a dozen rows on,
#: NumPy's fixed cost per call is repaid.
PLAIN_MAX_ROWS = 8


class RowScorer:
    """:func:`score_records` for rows of plain numbers, as a request sends them.

    Scoring one customer in NumPy is a dozen calls on arrays of a few numbers, each
    costing more than its arithmetic. Up to :data:`PLAIN_MAX_ROWS` rows are scored in
    plain Python floats instead (:meth:`plain_records`): the same operations in the
    same order (IEEE arithmetic rounds each one alike, and :func:`numpy_sum` adds as
    NumPy does), so each record is the one :func:`score_records` gives, to the last
    bit, warnings included. That covers models whose engine assigns the nearest
    centre, with rows whose nulls the model fills (``missing="impute"``). Anything
    else (a null the model refuses or leaves unscored, a mixture or density model,
    an explanation, more rows) is scored by :func:`score_records`.

    Parameters
    ----------
    model : SegmentModel
    tolerance : float, default=0.5
        The range rule of :func:`custseg.input_checks.far_outside`.
    """

    def __init__(self, model: SegmentModel, *, tolerance: float = RANGE_TOLERANCE) -> None:
        self.model = model
        self.tolerance = tolerance
        engine = get_engine(model.algorithm)
        self._plain = type(engine).predict is Engine.predict and len(model.centers) > 0
        scaler = model.scaler
        self._log_units = scaler.log_units if scaler.has_log else None
        self._offset = scaler.center.tolist()
        self._scale = scaler.scale.tolist()
        self._centers = model.centers.tolist()
        ids = model.center_ids.tolist()
        names = model.segment_names
        self._segments = [(int(i), names.get(int(i), "")) for i in ids]
        fences = model.outliers
        self._fences = None if fences is None else (fences.low.tolist(), fences.high.tolist())
        self._limits = list(zip(*(a.tolist() for a in range_limits(model, tolerance)), strict=True))
        self._fill = model.impute_values.tolist() if model.missing == "impute" else None
        low, high = training_range(model)
        self._features = (model.feature_names, low.tolist(), high.tolist())

    def records(
        self, rows: Sequence[Sequence[Any]], ids: Sequence[Any], *, explain: bool = False
    ) -> list[dict[str, Any]]:
        """:func:`score_records` of ``rows`` with ``ids``.

        Parameters
        ----------
        rows : sequence of sequences of numbers (None = unknown)
            Original units, in ``model.feature_names`` order.
        ids : sequence, one per row
        explain : bool, default=False

        Returns
        -------
        list of dict
            See :func:`score_records`.
        """
        if not explain and len(rows) <= PLAIN_MAX_ROWS:
            plain = self.plain_records(rows, ids)
            if plain is not None:
                return plain
        # NumPy turns None into NaN when asked for floats.
        X = np.array(rows, dtype="float64").reshape(len(rows), len(self._offset))
        return score_records(self.model, X, tolerance=self.tolerance, explain=explain, ids=ids)

    def plain_records(
        self, rows: Sequence[Sequence[Any]], ids: Sequence[Any]
    ) -> list[dict[str, Any]] | None:
        """:meth:`records` in plain floats, or None where they do not cover the model or a row."""
        if not self._plain:
            return None
        checked = self._plain_values(rows)
        if checked is None:
            return None
        values, warnings = checked
        if self._log_units is not None:  # NumPy's logarithm, on the matrix score_records takes
            values = log_transform(np.array(values), self._log_units).tolist()
        out = []
        for index, (row, key, warn) in enumerate(zip(values, ids, warnings, strict=True)):
            scored = self._score(row)
            if scored is None:
                return None
            segment, name, distance, outlier = scored
            out.append(
                {"index": index, "id": key, "segment": segment, "segment_name": name,
                 "distance_to_center": distance, "outlier": outlier, "probabilities": None,
                 "warnings": warn, "explanation": None, "reason": None}
            )  # fmt: skip
        return out

    def _plain_values(
        self, rows: Sequence[Sequence[Any]]
    ) -> tuple[list[list[float]], list[list[dict[str, Any]]]] | None:
        """The rows as floats, nulls filled, and each row's warnings (as
        :func:`~custseg.input_checks.value_warnings` gives them); None if the model
        does not fill a null."""
        limits = self._limits
        values = []
        warnings = []
        for row in rows:
            filled: list[int] = []
            try:
                floats = [float(v) for v in row]
            except TypeError:  # a null: only a model that imputes scores it
                if self._fill is None:
                    return None
                filled = [j for j, v in enumerate(row) if v is None]
                floats = [self._fill[j] if v is None else float(v) for j, v in enumerate(row)]
            far = [
                j
                for j, (value, (low, high, tiny)) in enumerate(zip(floats, limits, strict=True))
                if (value < low or value > high or 0 < value < tiny) and j not in filled
            ]
            values.append(floats)
            warnings.append(self._warnings(floats, filled, far) if filled or far else [])
        return values, warnings

    def _warnings(
        self, floats: list[float], filled: list[int], far: list[int]
    ) -> list[dict[str, Any]]:
        """One row's warnings: the values filled in, then those far outside."""
        names, low, high = self._features
        out = [filled_warning(names[j], floats[j], low[j], high[j]) for j in filled]
        out += [
            far_outside_warning(names[j], floats[j], low[j], high[j], self.tolerance) for j in far
        ]
        return out

    def _score(self, values: list[float]) -> tuple[int, str, float | None, bool | None] | None:
        """Segment, name, distance and outlier flag of one row (after any log transform)."""
        scaled = [(v - c) / s for v, c, s in zip(values, self._offset, self._scale, strict=True)]
        best = -1
        nearest = math.inf
        short = len(scaled) < 8
        for k, center in enumerate(self._centers):
            if short:  # numpy_sum's first case, inline: the common few features
                d2 = 0.0
                for z, c in zip(scaled, center, strict=True):
                    d2 += (z - c) * (z - c)
            else:
                d2 = numpy_sum([(z - c) * (z - c) for z, c in zip(scaled, center, strict=True)])
            if math.isnan(d2):  # NumPy's argmin would pick it: leave such a row to NumPy
                return None
            if d2 < nearest or best < 0:
                best, nearest = k, d2
        distance = math.sqrt(nearest)
        outlier = None
        if self._fences is not None:
            low, high = self._fences
            outlier = any(z < lo or z > hi for z, lo, hi in zip(scaled, low, high, strict=True))
        segment, name = self._segments[best]
        return segment, name, distance if math.isfinite(distance) else None, outlier


class SegmentMap:
    """A 2-D map of customers in which new customers can be placed.

    The axes are the first two principal components of the training customers'
    features, imputed and scaled exactly as the model scores them (the same
    projection as the report's segment map). A model with a single feature is
    drawn on that feature's scaled axis, with every ``y`` equal to 0.

    Parameters
    ----------
    model : SegmentModel

    Attributes
    ----------
    explained_ : tuple of float
        Share of the scaled variance on each axis (after :meth:`fit`).
    """

    def __init__(self, model: SegmentModel) -> None:
        self.model = model

    def _scaled(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype="float64")
        X = np.where(np.isnan(X), self.model.impute_values, X)
        return self.model.scaler.transform(X)

    def fit(self, X: np.ndarray) -> SegmentMap:
        """Learn the axes from training rows ``X`` (n_rows, n_features), original units."""
        Z = self._scaled(X)
        if Z.shape[1] >= 2 and len(Z) >= 3:
            from sklearn.decomposition import PCA

            self._pca = PCA(n_components=2, svd_solver="full").fit(Z)
            ratio = self._pca.explained_variance_ratio_
            self.explained_ = (float(ratio[0]), float(ratio[1]))
        else:
            self._pca = None
            self.explained_ = (1.0, 0.0)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Map coordinates, shape (n_rows, 2), of rows ``X`` in original units."""
        Z = self._scaled(X)
        if self._pca is None:
            return np.column_stack([Z[:, 0], np.zeros(len(Z))])
        return self._pca.transform(Z)

    def centers(self) -> np.ndarray:
        """Map coordinates, shape (n_centres, 2), of the model's segment centres.

        Row ``r`` is the centre of segment ``model.center_ids[r]``.
        """
        return self.transform(self.model.original_centers())


# -- scoring a file ----------------------------------------------------------------------
@dataclass
class ScoredFile:
    """What :func:`score_file` wrote.

    Attributes
    ----------
    path : Path
    rows : int
    sizes : dict of int to int
        Customers per segment id, ascending id.
    unscored : int
        Rows that could not be scored (see their ``reason``).
    outliers : int
        Customers beyond the model's outlier fences.
    check : InputCheck
        Values filled in and values far outside the training range.
    batches : int
        Pieces the table was read in; 0 when it was read whole.
    """

    path: Path
    rows: int
    sizes: dict[int, int]
    unscored: int
    outliers: int
    check: InputCheck
    batches: int = 0

    def add(self, scored: pd.DataFrame) -> None:
        """Count the segments, unscored rows and outliers of one piece."""
        for seg, n in scored["segment"].value_counts().items():
            self.sizes[int(seg)] = self.sizes.get(int(seg), 0) + int(n)
        self.sizes = dict(sorted(self.sizes.items()))
        self.unscored += int(scored["segment"].isna().sum())
        if "outlier" in scored:
            self.outliers += int(scored["outlier"].sum())


def score_file(
    model: SegmentModel,
    path: str | Path,
    out: str | Path,
    *,
    strict: bool = False,
    batch_rows: int | None = None,
) -> ScoredFile:
    """Score the customers of a file and write them, with their segments, to ``out``.

    A table that fits in memory is read whole; a bigger one (a compressed file
    that inflates to gigabytes) is read twice in batches of ``batch_rows`` rows,
    never whole: a first pass counts what scoring fills in and what lies far
    outside the training range (so that ``strict`` refuses before anything is
    written), the second scores and appends each batch. The output appears
    atomically, complete or not at all, and holds the same rows and columns
    either way.

    Parameters
    ----------
    model : SegmentModel
    path : str or Path
        CSV (optionally gzipped), Parquet or Excel (read whole only).
    out : str or Path
        ``.csv``, ``.csv.gz`` or ``.parquet``.
    strict : bool, default=False
        Refuse a value scoring would fill in or one far outside the training range.
    batch_rows : int, optional
        Read in batches of this many rows even if the table fits in memory;
        default: whole when it fits, else :data:`SCORE_BATCH_ROWS`.

    Returns
    -------
    ScoredFile

    Raises
    ------
    InputError
        Unreadable input, a missing feature column, a value that is not a number,
        or (``strict``) a filled or far-outside value: nothing is written.
    """
    if batch_rows is None:
        try:
            frame = read_table(path)
        except TableTooLargeError:
            if table_kind(Path(path)) == "excel":
                raise
            batch_rows = SCORE_BATCH_ROWS
        else:
            return _score_whole(model, frame, Path(path), Path(out), strict=strict)
    return _score_batches(model, Path(path), Path(out), strict=strict, batch_rows=batch_rows)


def _score_whole(
    model: SegmentModel, frame: pd.DataFrame, path: Path, out: Path, *, strict: bool
) -> ScoredFile:
    X = model.feature_matrix(frame, source=str(path))
    if _streams(frame, X, out):
        return _score_streamed(model, frame, X, out, strict=strict)
    # Scoring and counting read the same matrix and release the GIL in NumPy: one
    # runs beside the other. A strict refusal still comes first, before any output.
    with ThreadPoolExecutor(max_workers=1) as pool:
        scoring = pool.submit(model.predict_matrix, X)
        check = check_inputs(model, X)
        if strict:
            check.refuse()
        scored = scoring.result()
    write_table_auto(attach_scores(frame, _names_as_categories(model, scored, out)), out)
    result = ScoredFile(out, len(frame), {}, 0, 0, check)
    result.add(scored)
    return result


def _streams(frame: pd.DataFrame, X: np.ndarray, out: Path) -> bool:
    """Whether the table is scored piece by piece as its CSV is written.

    Only for a big plain CSV without a missing value: a row that cannot be scored
    adds a ``reason`` column to every row, known only once all are scored.
    """
    big = len(frame) >= FAST_WRITE_ROWS and table_format(out) == "csv"
    return big and not bool(np.isnan(X).any())


def _score_streamed(
    model: SegmentModel, frame: pd.DataFrame, X: np.ndarray, out: Path, *, strict: bool
) -> ScoredFile:
    """:func:`_score_whole`'s output, each piece scored in the threads that format it.

    Scoring then overlaps formatting and writing instead of coming before them; each
    row's scores are the same whatever piece it is scored in.
    """
    pieces: dict[int, pd.DataFrame] = {}

    def piece(start: int, stop: int) -> pd.DataFrame:
        scored = model.predict_matrix(X[start:stop])
        pieces[start] = scored
        return attach_scores(frame.iloc[start:stop], _names_as_categories(model, scored, out))

    columns = list(attach_scores(frame.iloc[:1], model.predict_matrix(X[:1])).columns)
    with ThreadPoolExecutor(max_workers=1) as pool:
        counting = pool.submit(check_inputs, model, X)
        if strict:
            counting.result().refuse()  # before anything is written
        write_csv_pieces(columns, len(frame), piece, out)
        check = counting.result()
    result = ScoredFile(out, len(frame), {}, 0, 0, check)
    for start in sorted(pieces):
        result.add(pieces[start])
    return result


def _names_as_categories(model: SegmentModel, scored: pd.DataFrame, out: Path) -> pd.DataFrame:
    """``scored``, its segment names as categories when ``out`` is a CSV (the same text).

    The CSV writer then formats each name once instead of once a row; a Parquet
    file keeps plain text columns.
    """
    if table_format(out) != "parquet":
        scored["segment_name"] = segment_name_categories(scored["segment"], model.segment_names)
    return scored


def _batch_features(
    model: SegmentModel, frame: pd.DataFrame, path: Path, offset: int
) -> tuple[np.ndarray, bool]:
    """The model's features of one batch, and whether a row of it cannot be scored.

    An error (a value that is not a number, a missing one the model refuses)
    names the row of the whole table.
    """
    try:
        X = model.feature_matrix(frame, source=str(path))
        # Only a missing value leaves a row unscored or is refused: a batch without
        # one needs no scoring in this pass.
        return X, bool(np.isnan(X).any()) and model.score_arrays(X).reasons is not None
    except InputError as exc:
        raise shift_rows(exc, offset) from None


def _score_batches(
    model: SegmentModel, path: Path, out: Path, *, strict: bool, batch_rows: int
) -> ScoredFile:
    # Pass 1: the checks over every row, and whether some row cannot be scored (the
    # output then has a reason column, in every batch).
    check: InputCheck | None = None
    with_reason = False
    for frame in iter_table(path, batch_rows=batch_rows):
        X, unscored = _batch_features(model, frame, path, check.rows if check else 0)
        part = check_inputs(model, X)
        check = part if check is None else check.then(part)
        with_reason = with_reason or unscored
    assert check is not None  # iter_table refuses a table without rows
    if strict:
        check.refuse()
    # Pass 2: score and append, batch by batch.
    result = ScoredFile(out, check.rows, {}, 0, 0, check)
    appender = None
    try:
        for frame in iter_table(path, batch_rows=batch_rows):
            scored = model.predict_matrix(model.feature_matrix(frame, source=str(path)))
            if with_reason and "reason" not in scored:
                scored["reason"] = pd.Series("", index=scored.index, dtype=object)
            table = attach_scores(frame, _names_as_categories(model, scored, out))
            if appender is None:
                appender = table_appender(out, [str(c) for c in table.columns])
            appender.write(table)
            result.add(scored)
            result.batches += 1
        if appender is not None:
            appender.close()
    except BaseException:
        if appender is not None:
            appender.abort()
        raise
    return result
