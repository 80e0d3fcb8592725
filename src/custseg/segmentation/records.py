"""The records every run writes, built once from numbers however they were computed.

The in-memory pipeline computes a feature's range, mean and deciles from the
whole matrix; the chunked and Spark backends from streamed statistics and a
sample. The records themselves — ``model.json`` (:func:`build_model`) and
``summary.json`` (:class:`RunSummary`) — must read the same whichever backend
ran, so they are typed and built here. ``docs/summary.schema.json`` and
``docs/model.schema.json`` publish their shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from custseg._version import __version__
from custseg.features.outliers import OutlierFences
from custseg.features.preprocessing import Scaler
from custseg.features.roles import TableSchema
from custseg.model import SegmentModel, fingerprint

__all__ = [
    "QUANTILES",
    "SUMMARY_SCHEMA_VERSION",
    "MissingRecord",
    "RunSummary",
    "SegmentRecord",
    "build_model",
    "feature_record",
    "feature_summary",
    "json_safe",
    "profile_records",
    "segment_records",
    "training_record",
]

#: The quantiles stored per feature in a model: 0, 10, ..., 100th percentiles.
QUANTILES = [i / 10 for i in range(11)]
#: Version of the layout of ``summary.json``.
SUMMARY_SCHEMA_VERSION = 1


def json_safe(value: Any) -> Any:
    """Replace NaN/inf by None and NumPy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if np.isfinite(value) else None
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# -- the model ------------------------------------------------------------------------
def feature_record(
    name: str,
    minimum: float,
    maximum: float,
    mean: float,
    std: float,
    quantiles: Sequence[float],
) -> dict[str, Any]:
    """The model's record of one numeric feature.

    Parameters
    ----------
    name : str
    minimum, maximum, mean, std : float
        Over the fitting rows; ``std`` is the population standard deviation.
    quantiles : sequence of float, length 11
        The values at :data:`QUANTILES`.

    Returns
    -------
    dict
        ``name``, ``dtype``, ``kind``, ``min``, ``max``, ``mean``, ``std``, ``quantiles``.
    """
    return {
        "name": name,
        "dtype": "float64",
        "kind": "numeric",
        "min": float(minimum),
        "max": float(maximum),
        "mean": float(mean),
        "std": float(std),
        "quantiles": [float(q) for q in quantiles],
    }


def feature_summary(name: str, values: np.ndarray) -> dict[str, Any]:
    """:func:`feature_record` of one feature's fitting values held in memory.

    Parameters
    ----------
    name : str
    values : ndarray of shape (n_rows,)
        The fitting rows' values, without NaN.
    """
    col = np.ascontiguousarray(values)  # one copy; five passes over a column of a wide matrix
    quantiles = np.quantile(col, QUANTILES)
    return feature_record(name, col.min(), col.max(), col.mean(), col.std(), quantiles)


def build_model(
    *,
    features: list[dict[str, Any]],
    scaler: Scaler,
    missing: str,
    fill: np.ndarray,
    algorithm: str,
    centers: np.ndarray,
    training: dict[str, Any],
    engine_state: dict[str, Any] | None = None,
    outliers: OutlierFences | None = None,
) -> SegmentModel:
    """The portable model of a run, before its segments are named.

    Parameters
    ----------
    features : list of dict
        :func:`feature_record` per feature (categorical indicators annotated).
    scaler : Scaler
    missing : str
        The missing-value policy scoring applies.
    fill : ndarray of shape (n_features,)
        Imputation values.
    algorithm : str
    centers : ndarray of shape (n_segments, n_features)
        Scaled space, in segment id order.
    training : dict
        ``rows``, ``fingerprint``, ``random_state`` (and the backend's own facts).
    engine_state : dict, optional
    outliers : OutlierFences, optional
        The outlier fences scoring flags customers by.
    """
    return SegmentModel(
        features=features,
        scaler=scaler,
        missing=missing,
        impute_values=fill,
        algorithm=algorithm,
        centers=centers,
        segments=[],
        training=training,
        engine_state=engine_state or {},
        outliers=outliers,
    )


def training_record(X_fit: np.ndarray, features: list[str], random_state: int) -> dict[str, Any]:
    """The model's ``training`` block for rows held in memory."""
    return {
        "rows": len(X_fit),
        "fingerprint": fingerprint(X_fit, features),
        "random_state": random_state,
    }


# -- the summary ------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentRecord:
    """One segment in ``summary.json``: size, share and per-feature mean, median, z."""

    id: int
    name: str
    size: int
    share: float
    mean: dict[str, float]
    median: dict[str, float]
    z: dict[str, float]
    #: Outliers assigned to the segment (None when the run applied no outlier rule).
    outliers: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "share": self.share,
            "outliers": self.outliers,
            "mean": self.mean,
            "median": self.median,
            "z": self.z,
        }

    def model_entry(self) -> dict[str, Any]:
        """The segment as ``model.json`` lists it."""
        return {"id": self.id, "name": self.name, "size": self.size, "share": self.share}


def segment_records(
    ids: Sequence[int],
    names: Mapping[int, str],
    features: Sequence[str],
    *,
    sizes: Sequence[int],
    shares: Sequence[float],
    means: np.ndarray,
    medians: np.ndarray,
    z: np.ndarray,
) -> list[SegmentRecord]:
    """One :class:`SegmentRecord` per segment id, from per-segment arrays.

    Parameters
    ----------
    ids : sequence of int
    names : mapping of int to str
    features : sequence of str
    sizes, shares : sequence, one per id
    means, medians, z : ndarray of shape (n_segments, n_features)
        Rows in ``ids`` order.
    """
    return [
        SegmentRecord(
            id=int(s),
            name=names[int(s)],
            size=int(sizes[i]),
            share=float(shares[i]),
            mean={f: float(means[i, j]) for j, f in enumerate(features)},
            median={f: float(medians[i, j]) for j, f in enumerate(features)},
            z={f: float(z[i, j]) for j, f in enumerate(features)},
        )
        for i, s in enumerate(ids)
    ]


def profile_records(
    profiles: pd.DataFrame, names: Mapping[int, str], features: Sequence[str]
) -> list[SegmentRecord]:
    """:func:`segment_records` from a profiles table.

    ``profiles`` as :func:`custseg.features.profiles.profile_segments` gives it.
    """

    def block(prefix: str) -> np.ndarray:
        return profiles[[f"{prefix}:{f}" for f in features]].to_numpy(dtype="float64")

    return segment_records(
        [int(s) for s in profiles.index],
        names,
        features,
        sizes=[int(v) for v in profiles["size"]],
        shares=[float(v) for v in profiles["share"]],
        means=block("mean"),
        medians=block("median"),
        z=block("z"),
    )


@dataclass(frozen=True)
class MissingRecord:
    """The ``missing`` block: the policy and what it met."""

    handling: str
    counts: dict[str, int]
    rows_with_missing: int
    rows_left_out: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "handling": self.handling,
            "counts": dict(self.counts),
            "rows_with_missing": int(self.rows_with_missing),
            "rows_left_out": int(self.rows_left_out),
        }


@dataclass
class RunSummary:
    """What ``summary.json`` holds, whichever backend ran.

    :meth:`to_dict` gives the file's layout (keys in this order; optional blocks
    only when set), JSON-safe. ``docs/summary.schema.json`` publishes it.
    """

    source: str
    rows: int
    rows_fitted: int
    schema: TableSchema
    features: list[str]
    skipped: list[dict[str, Any]]
    scaling: str
    missing: MissingRecord
    algorithm: str
    random_state: int
    k: int
    k_selection: dict[str, Any]
    metrics: dict[str, Any]
    segments: list[SegmentRecord]
    stability: dict[str, Any] | None = None
    borderline: dict[str, Any] | None = None
    #: The backend that ran, when not in memory, and its own block.
    engine: str | None = None
    engine_details: dict[str, Any] | None = None
    final_fit: dict[str, Any] | None = None
    continuity: dict[str, Any] | None = None
    warnings: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: ``transform``, ``outliers`` and ``min_segment_share``: how the customers were
    #: shaped before fitting, placed after ``scaling``.
    shaping: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``summary.json`` mapping."""
        out: dict[str, Any] = {
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "custseg_version": __version__,
        }
        if self.engine is not None:
            out["engine"] = self.engine
        out.update(
            input={"path": self.source, "rows": self.rows, "rows_fitted": self.rows_fitted},
            columns=self.schema.to_dict(),
            id_column=self.schema.id_column,
            features=list(self.features),
            skipped=self.skipped,
            scaling=self.scaling,
            **(self.shaping or {}),
            missing=self.missing.to_dict(),
            algorithm=self.algorithm,
            random_state=self.random_state,
            k=int(self.k),
            k_selection=self.k_selection,
        )
        if self.stability is not None:
            out["stability"] = self.stability
        if self.borderline is not None:
            out["borderline"] = self.borderline
        out["metrics"] = self.metrics
        out["segments"] = [s.to_dict() for s in self.segments]
        for key, block in (("final_fit", self.final_fit), ("continuity", self.continuity)):
            if block is not None:
                out[key] = block
        if self.engine is not None and self.engine_details is not None:
            out[self.engine] = self.engine_details
        if self.warnings is not None:
            out["warnings"] = list(self.warnings)
        out.update(self.extra)
        return json_safe(out)
