"""Skewed money, outliers and small segments, end to end (library and CLI)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import custseg
from custseg.datasets import WHOLESALE_SPEND, make_wholesale_customers
from custseg.segmentation.small_segments import dissolve_small

QUICK = {"stability": 0}


@pytest.fixture(scope="module")
def wholesale():
    frame = make_wholesale_customers(440, random_state=0)
    frame.insert(0, "ClientID", [f"C{i:04d}" for i in range(len(frame))])
    return frame


@pytest.fixture(scope="module")
def result(wholesale):
    return custseg.segment(wholesale, **QUICK)


def test_skewed_spend_is_log_transformed_and_profiles_stay_in_money(result, wholesale):
    decisions = {d["feature"]: d for d in result.summary["transform"]["columns"]}
    assert {f for f, d in decisions.items() if d["transform"] == "log"} == set(WHOLESALE_SPEND)
    assert decisions["Fresh"]["reason"].startswith("right-skewed (quantile skewness")
    assert result.summary["features"] == WHOLESALE_SPEND  # Channel and Region are codes
    table = result.table
    for seg in result.summary["segments"]:
        rows = wholesale[table["segment"] == seg["id"]]
        assert seg["size"] == len(rows)
        # Means and medians are the money the customers spent, not log units.
        assert seg["mean"]["Grocery"] == pytest.approx(rows["Grocery"].mean())
        assert seg["median"]["Fresh"] == pytest.approx(rows["Fresh"].median())
    unit = result.model.scaler.log_units
    assert unit[0] == pytest.approx(np.median(wholesale["Fresh"]))


def test_the_extreme_clients_are_flagged_assigned_and_never_a_segment(result):
    table = result.table
    assert table["outlier"].dtype == "boolean"
    assert table.loc[[0, 2], "outlier"].tolist() == [True, True]  # Fresh x12, Delicassen x40
    assert table.loc[table["outlier"], "segment"].notna().all()  # assigned, not dropped
    block = result.summary["outliers"]
    assert block["count"] == int(table["outlier"].sum()) <= 0.01 * len(table)
    assert sum(block["by_segment"].values()) == block["count"]
    assert min(s["share"] for s in result.summary["segments"]) >= 0.01
    assert result.summary["input"]["rows_fitted"] == len(table)
    assert sum(s["outliers"] for s in result.summary["segments"]) == block["count"]


def test_scoring_applies_the_same_transform_and_fences(result, wholesale, tmp_path):
    result.save(tmp_path)
    model = json.loads((tmp_path / "model.json").read_text())
    pre = model["preprocessing"]
    assert model["schema_version"] == 2
    assert pre["transform"]["unit"][0] == pytest.approx(np.median(wholesale["Fresh"]))
    assert len(pre["outliers"]["high"]) == len(WHOLESALE_SPEND)
    again = custseg.load_model(tmp_path / "model.json").predict(wholesale)
    assert again["segment"].tolist() == result.table["segment"].tolist()
    assert again["outlier"].tolist() == result.table["outlier"].tolist()


def test_same_segments_whatever_the_row_order(result, wholesale):
    order = np.random.default_rng(3).permutation(len(wholesale))
    shuffled = custseg.segment(wholesale.iloc[order].reset_index(drop=True), **QUICK)
    mine = result.table.set_index("ClientID")[["segment", "outlier"]]
    theirs = shuffled.table.set_index("ClientID")[["segment", "outlier"]].loc[mine.index]
    pd.testing.assert_frame_equal(mine, theirs)
    for a, b in zip(shuffled.summary["segments"], result.summary["segments"], strict=True):
        assert (a["name"], a["size"], a["outliers"]) == (b["name"], b["size"], b["outliers"])
        assert a["mean"] == pytest.approx(b["mean"], rel=1e-12)
        assert a["median"] == b["median"]


def test_without_the_transform_nothing_is_logged(wholesale):
    plain = custseg.segment(wholesale, transform="none", k=3, **QUICK)
    assert all(d["transform"] == "none" for d in plain.summary["transform"]["columns"])
    assert plain.model.scaler.log_units is None


def test_an_income_typo_is_an_outlier_not_a_segment_of_one():
    rng = np.random.default_rng(5)
    n = 600
    frame = pd.DataFrame(
        {
            "Income": rng.normal(52_000, 20_000, n).clip(2_000).round(),
            "MntWines": np.exp(rng.normal(5, 1.2, n)).round(),
            "NumWebPurchases": rng.poisson(4, n),
            "AcceptedCmp5": rng.integers(0, 2, n),
        }
    )
    frame.loc[17, "Income"] = 666_666
    result = custseg.segment(frame, k=4, **QUICK)
    assert result.summary["features"] == ["Income", "MntWines", "NumWebPurchases"]
    assert bool(result.table.loc[17, "outlier"]) is True
    assert min(s["size"] for s in result.summary["segments"]) >= 0.01 * n
    income = {d["feature"]: d["transform"] for d in result.summary["transform"]["columns"]}
    assert income == {"Income": "none", "MntWines": "log", "NumWebPurchases": "none"}


def test_segments_under_the_minimum_share_are_dissolved_largest_kept_first():
    keep, record = dissolve_small({0: 50, 1: 3, 2: 45, 3: 2}, n_customers=100, min_share=0.05)
    assert keep == [0, 2]
    assert record["dissolved"] == [3, 2]
    assert record["reason"] == (
        "2 segment(s) of 3, 2 customer(s), under 5% of 100, dissolved into their nearest "
        "segments: 2 segment(s) kept"
    )
    assert dissolve_small({0: 3, 1: 1}, n_customers=4, min_share=0.49)[0] == [0]
    assert dissolve_small({0: 99, 1: 1}, n_customers=100, min_share=0)[0] == [0, 1]


def test_cli_options_transform_and_min_segment_share(tmp_path, cli):
    rng = np.random.default_rng(2)
    sizes = [200, 150, 100, 12]  # the last group is 2.6% of 462 customers
    centers = [(0, 0), (8, 0), (0, 8), (8, 8)]
    rows = [rng.normal(c, 1.0, size=(n, 2)) for c, n in zip(centers, sizes, strict=True)]
    X = np.vstack(rows) + 20
    path = tmp_path / "groups.csv"
    pd.DataFrame(X.round(3), columns=["a", "b"]).to_csv(path, index=False)
    out = tmp_path / "out"
    proc = cli(
        "segment", path, "--out", out, "--k", "4", "--stability", "0", "--no-report",
        "--transform", "none", "--min-segment-share", "0.05",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["k"] == 3
    assert summary["min_segment_share"]["dissolved"] == [12]
    sizes = [s["size"] for s in summary["segments"]]
    assert sum(sizes) == 462 and sizes[0] == 200 and min(sizes) >= 100  # the 12 went elsewhere
    assert "1 segment(s) of 12 customer(s), under 5% of 462, dissolved" in proc.stdout
    bad = cli("segment", path, "--out", out, "--transform", "sqrt")
    assert bad.returncode == 2 and "--transform must be one of auto, log, none" in bad.stderr


def test_outlier_flags_and_counts_are_numpys_any_and_sum():
    from custseg.features.outliers import any_beyond, beyond_counts

    rng = np.random.default_rng(5)
    for beyond in (rng.random((5000, 3)) > 0.97, np.zeros((10, 0), dtype=bool)):
        for layout in (np.ascontiguousarray, np.asfortranarray):
            b = layout(beyond)
            np.testing.assert_array_equal(any_beyond(b), b.any(axis=1))
            counts = beyond_counts(b)
            np.testing.assert_array_equal(counts, b.sum(axis=0))
            assert counts.dtype == b.sum(axis=0).dtype
