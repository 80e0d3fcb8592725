"""``--engine chunked``: streams a table in batches, under a memory limit too."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from tests.conftest import CUSTSEG_BIN, address_space_limit, bare_peak_bytes, lean_env, run_cli

from custseg.backends.chunked import segment_chunked
from custseg.datasets import make_blobs_customers
from custseg.errors import SchemaError
from custseg.io.arrow import write_csv_fast, write_parquet


def _quick() -> dict:
    """Options that skip the bootstrap stability (when this custseg has it): speed only."""
    import inspect

    import custseg

    return (
        {"stability": 0} if "stability" in inspect.signature(custseg.Segmenter).parameters else {}
    )


def _labels(path: Path, column: str = "segment") -> list[str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return [row[column] for row in csv.DictReader(fh)]


@pytest.fixture(scope="module")
def blobs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chunked")
    frame = make_blobs_customers(30_000, 3, 4, random_state=1)
    path = folder / "blobs.csv"
    write_csv_fast(frame, path)
    return path, frame


def test_chunked_segments_in_batches_and_scores_back(blobs, tmp_path):
    path, frame = blobs
    out = tmp_path / "out"
    result = segment_chunked(path, out, k=4, batch_rows=7_000, random_state=0)
    labels = np.array(_labels(out / "segments.csv"), dtype=int)
    assert len(labels) == len(frame)
    assert adjusted_rand_score(frame.attrs["true_labels"], labels) > 0.99
    sizes = [s["size"] for s in result.summary["segments"]]
    assert sizes == sorted(sizes, reverse=True) and sum(sizes) == len(frame)
    # Original columns come back exactly as written, followed by the scoring columns.
    with open(path, encoding="utf-8") as fh:
        head_in = [next(fh) for _ in range(3)]
    with open(out / "segments.csv", encoding="utf-8") as fh:
        head_out = [next(fh) for _ in range(3)]
    assert head_out[0].rstrip("\n") == head_in[0].rstrip("\n") + (
        ",segment,segment_name,distance_to_center,outlier"
    )
    assert head_out[1].startswith(head_in[1].rstrip("\n") + ",")
    # The portable model scores the training rows back to the same segments.
    proc = run_cli("score", out / "model.json", path, "--out", tmp_path / "scored.csv")
    assert proc.returncode == 0, proc.stderr
    assert _labels(tmp_path / "scored.csv") == _labels(out / "segments.csv")


def test_chunked_matches_the_local_engine_on_parquet(blobs, tmp_path):
    import custseg

    _path, frame = blobs
    parquet = tmp_path / "blobs.parquet"
    write_parquet(frame, parquet)
    chunked = segment_chunked(parquet, tmp_path / "out", k=4, batch_rows=5_000, random_state=0)
    local = custseg.segment(frame.drop(columns=[]), k=4, random_state=0, **_quick())
    ours = np.array(_labels(tmp_path / "out" / "segments.csv"), dtype=int)
    assert adjusted_rand_score(local.labels.to_numpy(dtype=int), ours) > 0.99
    # Exact streaming statistics: the scaler equals scikit-learn's on all rows.
    X = frame[[c for c in frame.columns if c != "CustomerID"]].to_numpy()
    np.testing.assert_allclose(chunked.model.scaler.center, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(chunked.model.scaler.scale, X.std(axis=0), rtol=1e-9)
    np.testing.assert_allclose(
        np.sort(chunked.model.centers, axis=0), np.sort(local.model.centers, axis=0), atol=0.02
    )


def test_chunked_fingerprint_equals_the_local_engine(blobs, tmp_path):
    import custseg

    path, _frame = blobs
    chunked = segment_chunked(path, tmp_path / "out", k=3, batch_rows=9_999, random_state=0)
    local = custseg.segment(path, k=3, random_state=0, **_quick())
    assert chunked.model.training["fingerprint"] == local.model.training["fingerprint"]


@pytest.mark.slow
def test_chunked_segments_a_file_that_does_not_fit_under_the_memory_limit(tmp_path):
    # 1.5 million customers: the local engine holds the Arrow text, the numbers, scaled
    # copies and the labelled table at once (several hundred bytes a row); the chunked engine
    # holds one 100,000-row batch and a 100,000-row sample, whatever the file's size.
    frame = make_blobs_customers(1_500_000, 3, 4, random_state=2)
    path = tmp_path / "big.csv"
    write_csv_fast(frame, path)
    del frame
    env = lean_env()
    # The limit: what a bare run needs (what a segment run loads before it reads a row;
    # the CLI itself is lazy) plus 300 MB: the chunked engine needs about 150 MB of it,
    # the local engine several times more.
    limit = bare_peak_bytes(
        "resource, custseg.cli, custseg.segmentation.pipeline,"
        " custseg.backends.chunked, sklearn.cluster, pyarrow.csv"
    ) + (300 << 20)
    # Above 50,000 rows the bootstrap stability is off by default.
    args = ["segment", str(path), "--k", "4", "--quiet", "--no-report"]
    local = subprocess.run(
        [str(CUSTSEG_BIN), *args, "--out", str(tmp_path / "local")],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=address_space_limit(limit),
        timeout=900,
    )
    assert local.returncode != 0, "the limit should be too small to load the table whole"
    assert "Traceback" not in local.stderr
    assert "custseg: error:" in local.stderr
    chunked = subprocess.run(
        [str(CUSTSEG_BIN), *args, "--engine", "chunked", "--out", str(tmp_path / "chunked")],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=address_space_limit(limit),
        timeout=900,
    )
    assert chunked.returncode == 0, chunked.stderr
    summary = json.loads((tmp_path / "chunked" / "summary.json").read_text())
    assert summary["input"]["rows"] == 1_500_000
    assert summary["engine"] == "chunked"
    with open(tmp_path / "chunked" / "segments.csv", "rb") as fh:
        assert sum(1 for _ in fh) == 1_500_001


def test_chunked_missing_drop_keeps_every_row_with_a_reason(tmp_path):
    frame = make_blobs_customers(3_000, 3, 3, random_state=4)
    frame.loc[[5, 700, 2_999], "Age"] = np.nan
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    result = segment_chunked(
        path, tmp_path / "out", k=3, missing="drop", batch_rows=1_000, random_state=0
    )
    assert result.summary["input"]["rows_fitted"] == 2_997
    segments = _labels(tmp_path / "out" / "segments.csv")
    reasons = _labels(tmp_path / "out" / "segments.csv", "reason")
    assert len(segments) == 3_000  # no row silently dropped
    left_out = [i for i, s in enumerate(segments) if s == ""]
    assert left_out == [5, 700, 2_999]
    assert [reasons[i] for i in left_out] == ["missing value in 'Age'"] * 3


def test_same_rows_in_any_order_give_the_same_k_and_segments(tmp_path):
    # Overlapping groups and a sample smaller than the table: which rows are sampled,
    # and the fit, must depend on the rows' values only, never on where they sit.
    frame = make_blobs_customers(6_000, 3, 4, random_state=3, separation=2.5)
    shuffled = frame.sample(frac=1.0, random_state=11).reset_index(drop=True)
    runs = {}
    for name, table in (("as_made", frame), ("shuffled", shuffled)):
        path = tmp_path / f"{name}.csv"
        write_csv_fast(table, path)
        result = segment_chunked(
            path,
            tmp_path / name,
            k_min=2,
            k_max=6,
            batch_rows=1_000,
            sample_rows=2_000,
            random_state=0,
            **_quick(),
        )
        written = tmp_path / name / "segments.csv"
        runs[name] = (
            result,
            dict(zip(_labels(written, "CustomerID"), _labels(written), strict=True)),
        )
    (first, labels_a), (second, labels_b) = runs["as_made"], runs["shuffled"]
    assert first.summary["k"] == second.summary["k"]
    assert labels_a == labels_b
    # Every figure the same to the last bit, the fingerprint included; only the
    # file's name differs.
    for summary in (first.summary, second.summary):
        summary["input"].pop("path")
    assert json.dumps(first.summary) == json.dumps(second.summary)
    models = [run.model.to_dict() for run in (first, second)]
    assert json.dumps(models[0]) == json.dumps(models[1])


def test_a_bad_value_in_a_later_batch_is_named_by_its_row_in_the_table(tmp_path):
    frame = make_blobs_customers(3_000, 2, 2, random_state=4)
    frame.attrs.clear()
    frame = frame.astype(str)
    frame.loc[2_499, "Age"] = "n/a!"  # data row 2,500, in the third batch of 1,000
    path = tmp_path / "customers.parquet"
    write_parquet(frame, path)
    with pytest.raises(SchemaError, match=r"found 'n/a!' at row 2500 \(at least 1 such"):
        segment_chunked(path, tmp_path / "out", k=2, batch_rows=1_000, **_quick())
