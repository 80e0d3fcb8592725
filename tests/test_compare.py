"""``custseg compare`` on the sample data, and the recommendation rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import run_cli, run_on_sample

from custseg.segmentation.compare import _recommend


@pytest.fixture(scope="module")
def compare_run(tmp_path_factory):
    return run_on_sample(
        tmp_path_factory.mktemp("compare"),
        "compare",
        "--algorithms",
        "kmeans,hdbscan",
        "--k-max",
        "5",
        "--stability",
        "4",
    )


def test_compare_writes_the_table_and_marks_one_recommendation(compare_run):
    out, proc = compare_run
    table = pd.read_csv(out / "compare.csv")
    assert list(table.columns) == [
        "algorithm",
        "k",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "stability_mean_jaccard",
        "stability_min_jaccard",
        "stability_mean_ari",
        "unassigned_share",
        "sizes",
        "recommended",
    ]
    assert table["algorithm"].tolist()[:4] == ["kmeans"] * 4
    assert table.loc[table["algorithm"] == "kmeans", "k"].tolist() == [2, 3, 4, 5]
    assert (table["algorithm"] == "hdbscan").sum() == 1
    assert table["recommended"].sum() == 1
    sizes = table.loc[table["algorithm"] == "kmeans", "sizes"]
    assert all(sum(map(int, s.split("/"))) == 200 for s in sizes)
    rec = table[table["recommended"]].iloc[0]
    assert f"Recommended (*): {rec['algorithm']} with K={rec['k']}:" in proc.stdout
    assert str(out / "compare.csv") in proc.stdout


def test_recommendation_prefers_stable_then_silhouette():
    table = pd.DataFrame(
        {
            "algorithm": ["a", "a", "b"],
            "k": [2, 3, 4],
            "silhouette": [0.40, 0.55, 0.60],
            "stability_mean_jaccard": [0.9, 0.8, 0.7],
            "stability_min_jaccard": [0.85, 0.65, 0.4],  # b/4 has an unstable segment
            "unassigned_share": [0.0, 0.0, 0.0],
        }
    )
    pick, reason = _recommend(table, resamples=10)
    assert pick == 1 and "highest silhouette (0.550)" in reason
    table["stability_min_jaccard"] = [0.5, 0.5, 0.4]
    pick, reason = _recommend(table, resamples=10)
    assert pick == 0 and reason.startswith("no combination has every segment")
    assert np.isfinite(table["silhouette"]).all()


def test_compare_rejects_an_unknown_algorithm(tmp_path):
    pd.DataFrame({"a": range(10), "b": range(10, 0, -1)}).to_csv(tmp_path / "t.csv", index=False)
    proc = run_cli(
        "compare", tmp_path / "t.csv", "--out", tmp_path / "o", "--algorithms", "kmeans,gmx"
    )
    assert proc.returncode == 2
    assert "unknown algorithm 'gmx'; choose from:" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_stability_is_one_pass_shared_by_every_combination(compare_run):
    _, proc = compare_run
    assert "Compared on 200 rows" in proc.stdout
    assert (
        "Stability: 4 bootstrap resamples of 200 of those rows, the same for every combination."
        in proc.stdout
    )


def test_results_do_not_depend_on_the_cpu_count(monkeypatch, sample_frame):
    import os

    from custseg.segmentation.compare import compare_algorithms

    def run(cpus):
        monkeypatch.setattr(os, "cpu_count", lambda: cpus)
        return compare_algorithms(
            sample_frame, algorithms=["kmeans", "gmm"], k_max=3, stability=2, random_state=3
        )

    one, two = run(1), run(2)
    pd.testing.assert_frame_equal(one.table, two.table)
    assert (one.stability_rows, one.resamples) == (200, 2)
