"""``--engine spark`` in local mode: same segments as the local engine, same portable model.

One SparkSession (``local[2]``, the ``spark`` fixture of ``conftest.py``) serves every
test: the JVM takes long to start.
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

pytest.importorskip(
    "pyspark", reason="the spark extra is not installed: pip install 'custseg[spark]'"
)
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed; Spark needs Java 17+", allow_module_level=True)

from tests.conftest import run_cli

import custseg
from custseg.backends.spark import segment_spark
from custseg.datasets import make_blobs_customers
from custseg.io.arrow import write_csv_fast


def _quick() -> dict:
    """Options that skip the bootstrap stability (when this custseg has it): speed only."""
    import inspect

    import custseg

    return (
        {"stability": 0} if "stability" in inspect.signature(custseg.Segmenter).parameters else {}
    )


def _column(path: Path, name: str) -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [row[name] for row in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spark")
    frame = make_blobs_customers(3_000, 3, 4, random_state=5)
    path = folder / "blobs.csv"
    write_csv_fast(frame, path)
    return path, frame


@pytest.fixture(scope="module")
def spark_run(spark, blobs, tmp_path_factory):
    path, _ = blobs
    out = tmp_path_factory.mktemp("spark-out")
    return segment_spark(path, out, k=4, random_state=0, spark=spark), out


def test_spark_agrees_with_the_local_engine(blobs, spark_run):
    path, _frame = blobs
    result, out = spark_run
    local = custseg.segment(path, k=4, random_state=0, **_quick())
    labels = np.array(_column(out / "segments.csv", "segment"), dtype=int)
    assert adjusted_rand_score(local.labels.to_numpy(dtype=int), labels) >= 0.99
    # Segments are numbered by size on both sides, so the centres line up one to one.
    np.testing.assert_allclose(result.model.centers, local.model.centers, atol=0.02)
    assert [s["size"] for s in result.summary["segments"]] == [
        s["size"] for s in local.summary["segments"]
    ]


def test_spark_scaler_uses_the_population_std_like_scikit_learn(blobs, spark_run):
    _, frame = blobs
    result, _ = spark_run
    X = frame.drop(columns="CustomerID").to_numpy()
    np.testing.assert_allclose(result.model.scaler.center, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(result.model.scaler.scale, X.std(axis=0, ddof=0), rtol=1e-10)


def test_spark_model_scores_the_training_rows_identically(blobs, spark_run, tmp_path):
    path, _ = blobs
    _, out = spark_run
    proc = run_cli("score", out / "model.json", path, "--out", tmp_path / "scored.csv")
    assert proc.returncode == 0, proc.stderr
    for column in ("segment", "segment_name", "distance_to_center"):
        assert _column(tmp_path / "scored.csv", column) == _column(out / "segments.csv", column)
    # The original columns come back exactly as written.
    assert _column(out / "segments.csv", "CustomerID")[:3] == ["0001", "0002", "0003"]


def test_spark_chooses_k_by_the_local_rule_on_a_sample(spark, blobs, tmp_path):
    path, _ = blobs
    result = segment_spark(path, tmp_path, k_min=2, k_max=5, random_state=0, spark=spark)
    local = custseg.segment(path, k_min=2, k_max=5, random_state=0, stability=0)
    assert result.summary["k"] == local.summary["k"] == 4
    block = result.summary["k_selection"]
    assert block["method"] == "auto"
    # The one rule's record: its votes and verdict, and the rows it ran on.
    assert block["votes"] == local.summary["k_selection"]["votes"]
    assert block["structure"] == local.summary["k_selection"]["structure"]
    assert block["sample_rows"] == 3_000
    assert (tmp_path / "k_selection.csv").exists()


def test_bad_spark_master_is_one_clean_line(blobs, tmp_path):
    path, _ = blobs
    proc = run_cli(
        "segment",
        path,
        "--engine",
        "spark",
        "--spark-master",
        "nowhere://x:1",
        "--out",
        tmp_path / "out",
        "--k",
        "3",
    )
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad Spark master URL 'nowhere://x:1'" in lines[0]
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "out" / "segments.csv").exists()


@pytest.mark.parametrize(
    ("java_home", "expected"),
    [("/nonexistent/jdk", "JAVA_HOME is '/nonexistent/jdk'"), (None, "Java was not found")],
)
def test_missing_java_is_one_clean_line(blobs, tmp_path, java_home, expected):
    path, _ = blobs
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "PYSPARK_PYTHON")}
    env["PATH"] = str(tmp_path)  # no java here
    if java_home:
        env["JAVA_HOME"] = java_home
    proc = run_cli(
        "segment", path, "--engine", "spark", "--out", tmp_path / "out", "--k", "3", env=env
    )
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_cli_engine_spark_end_to_end(tmp_path):
    frame = make_blobs_customers(400, 2, 3, random_state=9)
    path = tmp_path / "c.csv"
    write_csv_fast(frame, path)
    proc = run_cli(
        "segment",
        path,
        "--engine",
        "spark",
        "--spark-master",
        "local[1]",
        "--k",
        "3",
        "--out",
        tmp_path / "out",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out" / "model.json").exists()
    assert len(_column(tmp_path / "out" / "segments.csv", "segment")) == 400
