"""``custseg segment`` with --algorithm, --stability and the K / trust report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.conftest import invoke_cli, run_on_sample


@pytest.fixture(scope="module")
def gmm_run(tmp_path_factory):
    return run_on_sample(
        tmp_path_factory.mktemp("gmm"),
        "segment",
        "--algorithm",
        "gmm",
        "--stability",
        "5",
        "--no-report",
        "--k-max",
        "6",
        in_process=True,
    )


def test_gmm_run_writes_probabilities_confidence_margin(gmm_run):
    out, _ = gmm_run
    table = pd.read_csv(out / "segments.csv", dtype=str)
    summary = json.loads((out / "summary.json").read_text())
    k = summary["k"]
    expected = ["segment", "segment_name", "distance_to_center", "margin", "borderline"]
    expected += ["outlier", *(f"probability_{i}" for i in range(k)), "confidence"]
    assert list(table.columns[5:]) == expected
    assert set(table["borderline"]) <= {"True", "False"}
    probs = table[[f"probability_{i}" for i in range(k)]].astype(float).to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    assert summary["algorithm"] == "gmm"
    assert "bic" in summary["k_selection"]["votes"]
    assert summary["stability"]["resamples"] == 5
    assert len(summary["stability"]["segments"]) == k
    assert set(summary["borderline"]["by_segment"]) == {str(i) for i in range(k)}


def test_terminal_shows_votes_structure_and_stability(gmm_run):
    _, proc = gmm_run
    assert "Votes: elbow" in proc.stdout and "bic" in proc.stdout
    assert "Structure:" in proc.stdout or "WARNING: no real cluster structure" in proc.stdout
    assert "Rows used: K sweep on 200 rows" in proc.stdout
    assert "mean Jaccard over 5 bootstrap refits" in proc.stdout


def test_noise_is_reported_plainly_and_output_still_written(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.uniform(0, 100, size=(250, 3)).round(1), columns=["a", "b", "c"])
    frame.to_csv(tmp_path / "noise.csv", index=False)
    proc = invoke_cli(
        "segment",
        tmp_path / "noise.csv",
        "--out",
        tmp_path / "out",
        "--no-report",
        "--stability",
        "0",
    )
    assert proc.returncode == 0, proc.stderr
    assert "WARNING: no real cluster structure" in proc.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["k_selection"]["structure"] == "none"
    assert summary["stability"]["resamples"] == 0
    assert len(pd.read_csv(tmp_path / "out" / "segments.csv")) == 250


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--algorithm", "kmean"],
            "unknown algorithm 'kmean'; choose from: agglomerative, bisecting-kmeans, gmm",
        ),
        (["--stability", "-1"], "--stability must be 0 (off) or a number of resamples; got -1"),
        (["--stability", "many"], "--stability must be a whole number of resamples"),
    ],
)
def test_bad_options_fail_cleanly(tmp_path, args, message):
    frame = pd.DataFrame({"a": [1, 2, 3, 4, 5, 6], "b": [6, 5, 4, 3, 2, 1]})
    frame.to_csv(tmp_path / "t.csv", index=False)
    proc = invoke_cli("segment", tmp_path / "t.csv", "--out", tmp_path / "out", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()
