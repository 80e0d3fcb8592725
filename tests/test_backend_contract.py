"""The backend contract: every backend runs the same stages on the same table.

In memory, large table (Arrow parsing and the big-table K-Means scheme), chunked
and Spark must give the same K (chosen by the one rule), labels that agree
(ARI >= 0.99), the same ``summary.json`` keys apart from the block that says how
the backend ran, files that match the published JSON Schemas, and a model that
scores the table back to its own labels.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from tests.helpers import assert_published_shape

import custseg
from custseg.backends.chunked import segment_chunked
from custseg.datasets import WHOLESALE_SPEND, make_blobs_customers, make_wholesale_customers
from custseg.engines.kmeans import KMeansEngine
from custseg.io.arrow import read_table_fast, write_csv_fast
from custseg.options import SegmentOptions

OPTIONS = SegmentOptions(k_min=2, k_max=6, stability=0, random_state=0)
#: Keys that say how a backend ran: its name and own block, how a big fit was done.
OWN_BLOCKS = {"engine", "chunked", "spark", "final_fit"}
BACKENDS = ["local", "large", "chunked", "spark"]


@pytest.fixture(scope="module")
def table(tmp_path_factory) -> tuple[Path, np.ndarray]:
    frame = make_blobs_customers(3_000, 3, 4, random_state=5)
    path = tmp_path_factory.mktemp("contract") / "customers.csv"
    write_csv_fast(frame, path)
    return path, np.asarray(frame.attrs["true_labels"])


def _labels(path: Path) -> np.ndarray:
    with open(path, newline="", encoding="utf-8") as fh:
        return np.array([int(row["segment"]) for row in csv.DictReader(fh)])


def _local(path: Path, out: Path) -> dict[str, Any]:
    result = custseg.segment(path, OPTIONS)
    result.save(out)
    return result.summary


def _large(path: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    # The Arrow-read table takes the big-table roles and parsing; a lowered threshold
    # sends K-Means down its big-table scheme (sample restarts, one full Lloyd run).
    monkeypatch.setattr(KMeansEngine, "large_fit_rows", 1_000)
    frame = read_table_fast(path)
    result = custseg.segment(frame, OPTIONS)
    assert result.summary["final_fit"]["rows"] == 3_000
    result.save(out)
    return result.summary


def _spark(
    path: Path, out: Path, request: pytest.FixtureRequest, options: SegmentOptions = OPTIONS
) -> dict[str, Any]:
    # The session fixture is asked for here only: the other backends never start a JVM.
    session = request.getfixturevalue("spark")
    from custseg.backends.spark import segment_spark

    return segment_spark(path, out, options, spark=session).summary


@pytest.fixture(scope="module")
def reference(table, tmp_path_factory) -> tuple[dict[str, Any], np.ndarray]:
    path, _ = table
    out = tmp_path_factory.mktemp("reference")
    return _local(path, out), _labels(out / "segments.csv")


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_gives_the_same_segments(
    backend, table, reference, tmp_path, monkeypatch, request
):
    path, truth = table
    local_summary, local_labels = reference
    out = tmp_path / backend
    if backend == "local":
        summary = _local(path, out)
    elif backend == "large":
        summary = _large(path, out, monkeypatch)
    elif backend == "chunked":
        summary = segment_chunked(path, out, OPTIONS, batch_rows=700).summary
    else:
        summary = _spark(path, out, request)
    labels = _labels(out / "segments.csv")

    # The same K, by the one rule, and segments that agree (numbered alike by size).
    assert summary["k"] == local_summary["k"] == 4
    assert summary["k_selection"]["method"] == "auto"
    assert adjusted_rand_score(local_labels, labels) >= 0.99
    assert adjusted_rand_score(truth, labels) >= 0.99
    assert [s["size"] for s in summary["segments"]] == sorted(
        (s["size"] for s in summary["segments"]), reverse=True
    )
    # The same summary.json, apart from the block that says how the backend ran.
    assert set(summary) - OWN_BLOCKS == set(local_summary) - OWN_BLOCKS
    assert set(summary["k_selection"]) - {"sample_rows"} == set(local_summary["k_selection"])
    for key in ("missing", "input", "stability", "borderline"):
        assert set(summary[key]) == set(local_summary[key]), key
    assert set(summary["segments"][0]) == set(local_summary["segments"][0])
    # Both files match the schemas published for users who parse them.
    assert_published_shape(out)

    # The model scores the table back to the labels written.
    model = custseg.load_model(out / "model.json")
    scored = model.predict(custseg.read_table(path))
    np.testing.assert_array_equal(scored["segment"].to_numpy(dtype=int), labels)


# -- a skewed table: the same prepare rules on every backend ------------------------------
SKEWED_OPTIONS = SegmentOptions(stability=0, random_state=0)


@pytest.fixture(scope="module")
def skewed(tmp_path_factory) -> tuple[Path, dict[str, Any], list[str]]:
    """Wholesale clients (log-normal spend, three extreme clients) and the local run."""
    frame = make_wholesale_customers(440, random_state=0)
    frame.insert(0, "ClientID", [f"C{i:04d}" for i in range(len(frame))])
    path = tmp_path_factory.mktemp("skewed") / "wholesale.csv"
    frame.to_csv(path, index=False)
    out = tmp_path_factory.mktemp("skewed-local")
    custseg.segment(path, SKEWED_OPTIONS).save(out)
    summary = json.loads((out / "summary.json").read_text())
    return path, summary, _column(out / "segments.csv", "outlier")


def _column(path: Path, name: str) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [row[name] for row in csv.DictReader(fh)]


def _decisions(summary: dict[str, Any]) -> dict[str, tuple[str, float | None]]:
    return {d["feature"]: (d["transform"], d["unit"]) for d in summary["transform"]["columns"]}


@pytest.mark.parametrize("backend", ["chunked", "spark"])
def test_every_backend_applies_the_transform_fences_and_minimum_share(
    backend, skewed, tmp_path, request
):
    path, local, local_outliers = skewed
    out = tmp_path / backend
    if backend == "chunked":
        summary = segment_chunked(path, out, SKEWED_OPTIONS, batch_rows=100).summary
    else:
        summary = _spark(path, out, request, SKEWED_OPTIONS)

    # The same columns on a log scale, with the same units (the sample is the whole table).
    decisions = _decisions(summary)
    assert decisions == _decisions(local)
    assert {f for f, (t, _) in decisions.items() if t == "log"} == set(WHOLESALE_SPEND)
    assert custseg.load_model(out / "model.json").scaler.has_log
    # The same customers flagged outliers, each in a segment; none is a segment of its own.
    outliers = _column(out / "segments.csv", "outlier")
    assert outliers == local_outliers and outliers[0] == outliers[2] == "True"
    assert summary["outliers"]["count"] == local["outliers"]["count"] == outliers.count("True")
    assert summary["outliers"]["by_feature"] == local["outliers"]["by_feature"]
    assert sum(s["outliers"] for s in summary["segments"]) == summary["outliers"]["count"]
    assert summary["min_segment_share"]["share"] == 0.01
    assert min(s["share"] for s in summary["segments"]) >= 0.01
    assert summary["k"] == local["k"]
    assert_published_shape(out)
