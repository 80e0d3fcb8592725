"""The one K rule end to end: row order, seeds, the range the table supports."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from tests.conftest import shared_file

import custseg
from custseg.datasets import make_wholesale_customers
from custseg.errors import DataWarning
from custseg.options import SegmentOptions
from custseg.segmentation.choose_k import select_k
from custseg.segmentation.compare import compare_algorithms
from custseg.segmentation.k_choice import candidate_ks

MALL_FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]


@pytest.fixture(scope="module")
def mall() -> pd.DataFrame:
    return pd.read_csv(shared_file("mall_customers.csv"), dtype={"CustomerID": str})


def _outputs(result: custseg.SegmentationResult, id_column: str) -> dict:
    """Everything a run writes, with the rows in customer order."""
    summary = {k: v for k, v in result.summary.items() if k != "input"}
    model = result.model.to_dict()
    model["training"] = {k: v for k, v in model["training"].items() if k != "fingerprint"}
    table = result.table.sort_values(id_column).reset_index(drop=True)
    return {
        "summary": json.dumps(summary, sort_keys=True),
        "model": json.dumps(model, sort_keys=True),
        "table": table.to_csv(index=False),
        "k_table": result.k_selection.to_csv(index=False),
    }


def test_the_same_customers_in_any_order_give_identical_outputs(mall):
    # The Mall table: unequal, overlapping groups, two of them of equal size at K=7.
    reference = _outputs(custseg.segment(mall, stability=5), "CustomerID")
    for order in (np.arange(len(mall))[::-1], np.random.default_rng(5).permutation(len(mall))):
        shuffled = custseg.segment(mall.iloc[order].reset_index(drop=True), stability=5)
        assert _outputs(shuffled, "CustomerID") == reference


def test_given_k_with_equal_sizes_keeps_ids_in_any_order(mall):
    # Ties in size are broken by the centres, not by where the rows sit.
    reference = custseg.segment(mall, k=7, stability=0)
    sizes = [s["size"] for s in reference.summary["segments"]]
    assert len(set(sizes)) < len(sizes)  # the tie this test is about
    shuffled = custseg.segment(mall.iloc[::-1].reset_index(drop=True), k=7, stability=0)
    assert _outputs(shuffled, "CustomerID") == _outputs(reference, "CustomerID")


@pytest.mark.parametrize(
    "columns",
    [MALL_FEATURES, MALL_FEATURES[1:], "sample"],
    ids=["mall-three-features", "mall-income-spending", "bundled-sample"],
)
def test_five_seeds_choose_one_k(mall, columns):
    frame = custseg.make_customers() if columns == "sample" else mall
    X = frame[MALL_FEATURES if columns == "sample" else columns].to_numpy(dtype=float)
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    chosen = {select_k(Z, list(range(2, 11)), random_state=s).chosen for s in (0, 1, 7, 42, 2024)}
    assert len(chosen) == 1, chosen


def test_mall_defaults_choose_four_segments_in_any_order_and_seed(mall):
    # K=4's prediction strength is 0.797 with a standard error of 0.014: it comes back
    # within the noise, so neither the draws nor the seed push the answer to K=2.
    shuffled = mall.iloc[np.random.default_rng(3).permutation(len(mall))].reset_index(drop=True)
    runs = [custseg.segment(mall, stability=0, random_state=s) for s in (0, 1, 42, 2024)]
    runs.append(custseg.segment(shuffled, stability=0))
    assert {run.summary["k"] for run in runs} == {4}
    reason = runs[0].summary["k_selection"]["reason"]
    assert "prediction strength 0.80 ± 0.01, 0.8 within the noise" in reason


def test_income_and_spending_find_the_five_mall_groups(mall):
    X = mall[MALL_FEATURES[1:]].to_numpy(dtype=float)
    choice = select_k((X - X.mean(axis=0)) / X.std(axis=0), list(range(2, 11)))
    assert choice.chosen == 5 and choice.stands_out


def test_k_max_beyond_the_rows_is_clipped_with_one_warning():
    options = SegmentOptions(k_max=300)
    with pytest.warns(DataWarning) as caught:
        ks = candidate_ks(options, n_distinct=440, n_rows=440, source="wholesale.csv")
    assert ks == list(range(2, 45))
    assert len(caught) == 1
    assert str(caught[0].message) == (
        "k_max=300 is larger than wholesale.csv supports: 440 rows support at most 44 "
        "segments, one per 10 rows; K was tried from 2 to 44"
    )


def test_k_max_beyond_the_distinct_profiles_names_them():
    with pytest.warns(DataWarning, match="6 distinct customer profiles allow at most 5 segments"):
        assert candidate_ks(SegmentOptions(k_max=10), 6, 400, "t.csv") == [2, 3, 4, 5]


def test_k_max_within_the_limit_is_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert candidate_ks(SegmentOptions(k_max=10), 200, 200, "t.csv") == list(range(2, 11))


def test_the_k_table_tells_the_truth_about_all_rows_of_a_large_table():
    # 10,127 credit-card customers: the sweep runs on a 4,000-row sample.
    result = custseg.segment(shared_file("bank_churners.csv"), stability=0)
    block = result.summary["k_selection"]
    assert block["rows_used"] == 4000 < block["rows_total"]
    listed = next(row for row in block["table"] if row["k"] == block["chosen"])
    final = result.summary["metrics"]
    assert listed["silhouette"] == pytest.approx(final["silhouette"], abs=0.03)
    assert listed["davies_bouldin"] == pytest.approx(final["davies_bouldin"], rel=0.05)
    # Calinski-Harabasz grows with the rows: the table scales the sample's to all rows.
    assert listed["calinski_harabasz"] == pytest.approx(final["calinski_harabasz"], rel=0.1)


def test_compare_says_what_segment_chooses_in_any_row_order():
    # Skewed spend with extreme clients: both commands leave the outliers out.
    frame = make_wholesale_customers(440, random_state=0)
    chosen = custseg.segment(frame, k_max=6, stability=0).summary["k"]
    for rows in (frame, frame.iloc[::-1].reset_index(drop=True)):
        comparison = compare_algorithms(rows, algorithms=["kmeans"], k_max=6, stability=0)
        assert comparison.segment_k == chosen
        assert "custseg segment choose" in comparison.reason and f"K={chosen}" in comparison.reason
