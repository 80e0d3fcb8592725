"""Resampling criteria for K: each statistic on a hand-computed case, then the experiments."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs

from custseg.segmentation.resampling import (
    batch_kmeans,
    contingency,
    instability_of,
    normalised_instability,
    pair_jaccard,
    prediction_strength,
    prediction_strength_of,
    random_instability,
    resampling_scores,
    subsample_stability,
)


def test_contingency_counts_label_pairs_per_problem():
    a = np.array([[0, 0, 1, 1], [1, 1, 1, 0]])
    b = np.array([[0, 1, 1, 1], [0, 0, 1, 1]])
    tables = contingency(a, b, 2)
    np.testing.assert_array_equal(tables[0], [[1, 1], [0, 2]])
    np.testing.assert_array_equal(tables[1], [[0, 1], [2, 1]])


def test_prediction_strength_is_the_worst_segments_share_of_pairs_kept():
    # Test segment 0 has 3 customers, 2 of them under training centre 0: of its 3·2
    # ordered pairs, 2·1 stay together → 1/3. Segment 1 keeps all 3·2 → 1.
    assert prediction_strength_of(np.array([[2, 1], [0, 3]])) == pytest.approx(1 / 3)
    # A segment of one customer has no pairs and is left out.
    assert prediction_strength_of(np.array([[1, 0], [0, 4]])) == 1.0
    assert np.isnan(prediction_strength_of(np.array([[1, 0], [0, 1]])))


def test_instability_uses_the_best_matching_not_the_greedy_one():
    # 7 of 8 on the diagonal → 1/8, whatever the order of the labels.
    assert instability_of(np.array([[3, 1], [0, 4]])) == pytest.approx(1 / 8)
    assert instability_of(np.array([[1, 3], [4, 0]])) == pytest.approx(1 / 8)
    # Greedy would take the 5 and end with 5 + 0 + 3 = 8 of 16; the best matching
    # pairs 0-1, 1-0, 2-2 for 4 + 4 + 3 = 11 → 5/16.
    assert instability_of(np.array([[5, 4, 0], [4, 0, 0], [0, 0, 3]])) == pytest.approx(5 / 16)


def test_pair_jaccard_counts_pairs_together_in_both_labellings():
    # a = [0,0,0,1,1], b = [0,0,1,1,1]: pairs together in a {01,02,12,34}, in b
    # {01,23,24,34}, in both {01,34} → 2 / (4 + 4 - 2) = 1/3.
    table = contingency(np.array([[0, 0, 0, 1, 1]]), np.array([[0, 0, 1, 1, 1]]), 2)[0]
    assert pair_jaccard(table) == pytest.approx(1 / 3)
    assert pair_jaccard(np.array([[3, 0], [0, 2]])) == 1.0
    assert pair_jaccard(np.array([[1, 0], [0, 1]])) == 1.0  # no pair anywhere


def test_random_instability_approaches_one_minus_one_over_k():
    # Two independent fair labellings agree on half the customers, a little more after
    # the better of the two matchings: about 0.5 - 0.4 / sqrt(n).
    assert random_instability(10_000, 2) == pytest.approx(0.5, abs=0.01)
    assert random_instability(10_000, 5) == pytest.approx(0.8, abs=0.02)
    assert random_instability(100, 5) < random_instability(10_000, 5)
    assert random_instability(300, 4) == random_instability(300, 4)


def test_batch_kmeans_finds_two_obvious_groups():
    X = np.array([[0.0], [0.1], [0.2], [10.0], [10.1], [10.2]])
    labels, centres = batch_kmeans(X[None], 2, random_state=0)
    assert len(set(labels[0][:3])) == 1 and len(set(labels[0][3:])) == 1
    assert labels[0][0] != labels[0][3]
    np.testing.assert_allclose(np.sort(centres[0][:, 0]), [0.1, 10.1])


def test_batch_kmeans_matches_scikit_learn_inertia_and_is_seeded():
    X, _ = make_blobs(n_samples=300, centers=5, n_features=3, random_state=3)
    labels, centres = batch_kmeans(np.stack([X, X[::-1]]), 5, random_state=1, n_init=5)
    reference = KMeans(5, n_init=10, random_state=0).fit(X).inertia_
    for p, rows in enumerate((X, X[::-1])):
        inertia = ((rows - centres[p][labels[p]]) ** 2).sum()
        assert inertia == pytest.approx(reference, rel=1e-9)
    again = batch_kmeans(np.stack([X, X[::-1]]), 5, random_state=1, n_init=5)
    np.testing.assert_array_equal(again[0], labels)
    np.testing.assert_array_equal(again[1], centres)


@pytest.fixture(scope="module")
def three_blobs():
    X, _ = make_blobs(
        n_samples=300, centers=[[0, 0], [8, 0], [0, 8]], cluster_std=1.0, random_state=2
    )
    return X


def test_resampling_scores_prefer_the_true_k_on_separated_blobs(three_blobs):
    scores = resampling_scores(three_blobs, [2, 3, 4, 5], n_repeats=6, random_state=0)
    table = scores.table.set_index("k")
    assert scores.rows_used == 300
    assert table.loc[3, "prediction_strength"] > 0.95
    assert table.loc[3, "instability"] < 0.05
    assert table.loc[3, "subsample_stability"] > 0.95
    for k in (4, 5):  # splitting a round group is neither predictable nor stable
        assert table.loc[k, "prediction_strength"] < table.loc[3, "prediction_strength"] - 0.1
        assert table.loc[k, "instability"] > table.loc[3, "instability"]
    assert {f"{c}_se" for c in ("prediction_strength", "instability")} <= set(table.columns)
    # Per draw: both directions of 6 pairs of halves, 6 pairs of subsamples.
    assert scores.draws["prediction_strength"].shape == (4, 12)
    assert scores.draws["subsample_stability"].shape == (4, 6)
    np.testing.assert_allclose(
        scores.draws["instability"].mean(axis=1), table["instability"].to_numpy()
    )


def test_resampling_scores_are_pure_functions_of_rows_and_seed(three_blobs):
    first = resampling_scores(three_blobs, [2, 3, 4], n_repeats=4, random_state=5).table
    again = resampling_scores(three_blobs, [2, 3, 4], n_repeats=4, random_state=5).table
    assert first.equals(again)
    only_three = resampling_scores(three_blobs, [3], n_repeats=4, random_state=5).table
    # The draws and each K's fits do not depend on which other K are tried.
    assert only_three.iloc[0].equals(first.iloc[1].rename(0))


def test_single_criterion_functions_read_the_shared_table(three_blobs):
    table = resampling_scores(three_blobs, [2, 3], n_repeats=3, random_state=4).table
    kwargs = {"n_repeats": 3, "random_state": 4}
    np.testing.assert_array_equal(
        prediction_strength(three_blobs, [2, 3], **kwargs), table["prediction_strength"]
    )
    np.testing.assert_array_equal(
        normalised_instability(three_blobs, [2, 3], **kwargs), table["instability"]
    )
    np.testing.assert_array_equal(
        subsample_stability(three_blobs, [2, 3], **kwargs), table["subsample_stability"]
    )
