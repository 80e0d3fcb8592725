"""The records every run writes, built from numbers however they were computed.

The local engine computes a feature's range, mean and deciles from the whole
matrix in memory; the chunked and Spark engines from streamed statistics and a
sample. The records themselves (``model.json``'s ``features``, ``summary.json``)
must read the same whichever engine ran, so they are built here, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from custseg._version import __version__
from custseg.features.roles import TableSchema

__all__ = ["QUANTILES", "feature_record", "run_summary"]

#: The quantiles stored per feature in a model: 0, 10, ..., 100th percentiles.
QUANTILES = [i / 10 for i in range(11)]


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


def run_summary(
    engine: str,
    *,
    source: str,
    rows: int,
    rows_fitted: int,
    schema: TableSchema,
    features: list[str],
    skipped: Any,
    scaling: str,
    missing: str,
    missing_counts: dict[str, int],
    rows_with_missing: int,
    random_state: int,
    k: int,
    k_selection: dict[str, Any],
    metrics: dict[str, Any],
    segments: list[dict[str, Any]],
    details: dict[str, Any],
) -> dict[str, Any]:
    """``summary.json`` of a k-means run by a streaming engine (chunked, spark).

    Parameters
    ----------
    engine : str
        Also the key of ``details``, the engine's own block at the end.
    source : str
        The input path.
    rows, rows_fitted : int
        Rows read, and rows the model was fitted on.
    schema : TableSchema
    features : list of str
    skipped
        The columns not used as features and why, as the feature chooser gives them.
    scaling, missing : str
        The options.
    missing_counts : dict of str to int
        Missing values per feature.
    rows_with_missing : int
    random_state, k : int
    k_selection, metrics : dict
    segments : list of dict
    details : dict

    Returns
    -------
    dict
        JSON-safe (NaN and infinities as ``null``).
    """
    from custseg.segmentation.pipeline import _json_safe

    return _json_safe(
        {
            "schema_version": 1,
            "custseg_version": __version__,
            "engine": engine,
            "input": {"path": source, "rows": int(rows), "rows_fitted": int(rows_fitted)},
            "columns": schema.to_dict(),
            "id_column": schema.id_column,
            "features": features,
            "skipped": skipped,
            "scaling": scaling,
            "missing": {
                "handling": missing,
                "counts": {f: int(n) for f, n in missing_counts.items()},
                "rows_with_missing": int(rows_with_missing),
                "rows_left_out": int(rows_with_missing if missing == "drop" else 0),
            },
            "algorithm": "kmeans",
            "random_state": random_state,
            "k": int(k),
            "k_selection": k_selection,
            "metrics": metrics,
            "segments": segments,
            engine: details,
        }
    )
