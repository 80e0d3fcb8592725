"""Choosing K: each criterion, the combining rule, the structure verdict, sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_wine, make_blobs
from sklearn.metrics import adjusted_rand_score

import custseg
from custseg.engines import get_engine
from custseg.segmentation.choose_k import (
    _argrelextrema,
    combine_votes,
    gap_statistic,
    knee_of,
    representative_sample,
    select_k,
)


def _std(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


@pytest.fixture(scope="module")
def four_blobs():
    X, y = make_blobs(n_samples=400, centers=4, n_features=5, cluster_std=1.0, random_state=5)
    return _std(X), y


@pytest.fixture(scope="module")
def blob_choice(four_blobs):
    return select_k(four_blobs[0], list(range(2, 9)), random_state=0)


def test_every_criterion_finds_obvious_blobs(blob_choice):
    criteria = (
        "elbow",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "gap",
        "prediction_strength",
        "subsample_stability",
    )
    # Lange's instability, normalised by that of random labels, may prefer a smaller K
    # whose halves agree as well: it is reported, not trusted alone.
    assert {c: blob_choice.votes[c] for c in criteria} == dict.fromkeys(criteria, 4)
    assert blob_choice.votes["instability"] in (3, 4)
    assert blob_choice.chosen == 4
    assert blob_choice.agreement >= 7 and blob_choice.n_criteria == 8
    assert blob_choice.structure == "clear"
    assert blob_choice.reason.startswith("K=4 has the best separation that comes back")
    assert "criteria vote for it (elbow, silhouette, calinski_harabasz" in blob_choice.reason
    assert blob_choice.stands_out and not blob_choice.notes
    assert blob_choice.equally_supported == [4]
    assert list(blob_choice.table["k"]) == list(range(2, 9))
    assert {
        "inertia",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "gap",
        "gap_se",
        "prediction_strength",
        "instability",
        "subsample_stability",
        "score",
    } <= set(blob_choice.table.columns)
    # Every figure says how many rows it was computed on.
    assert (blob_choice.rows_used, blob_choice.gap_rows, blob_choice.resampling_rows) == (
        400,
        400,
        400,
    )


def test_bic_votes_for_mixtures(four_blobs):
    choice = select_k(four_blobs[0], [2, 3, 4, 5, 6], algorithm="gmm", random_state=0)
    assert "bic" in choice.table.columns
    assert choice.votes["bic"] == 4 and choice.chosen == 4


def test_uniform_noise_has_no_structure():
    X = np.random.default_rng(3).uniform(size=(400, 3))
    choice = select_k(_std(X), list(range(2, 9)), random_state=0)
    assert choice.votes["gap"] == 1
    assert choice.structure == "none"
    assert "no more structure than in uniform random data" in choice.structure_reason


def test_gap_statistic_prefers_one_on_noise_and_three_on_blobs():
    X, _ = make_blobs(n_samples=300, centers=3, n_features=2, cluster_std=0.5, random_state=1)
    gap = gap_statistic(_std(X), [1, 2, 3, 4, 5], random_state=0)
    assert list(gap.columns) == ["k", "gap", "gap_se"]
    assert int(gap.loc[gap["gap"].idxmax(), "k"]) == 3
    noise = gap_statistic(np.random.default_rng(0).uniform(size=(300, 2)), [1, 2, 3, 4])
    assert noise["gap"].abs().max() < 0.15  # uniform data looks like its reference


def test_knee_of_a_hand_made_curve():
    assert knee_of([1, 2, 3, 4, 5, 6], [100, 40, 12, 10, 9, 8]) == 3
    assert knee_of([2, 3], [10, 5]) is None


def test_kneeds_stand_in_for_scipy_finds_the_same_extrema():
    from scipy.signal import argrelextrema

    rng = np.random.default_rng(0)
    for n in range(1, 14):
        for _ in range(40):
            data = rng.integers(0, 4, size=n).astype(float)  # small integers: many ties
            for comparator in (np.greater_equal, np.less_equal, np.greater):
                expected = argrelextrema(data, comparator)[0]
                np.testing.assert_array_equal(_argrelextrema(data, comparator)[0], expected)


def _table(**cols):
    return pd.DataFrame({"k": [2, 3, 4, 5], **cols})


def test_combining_rule_is_a_rank_vote_of_ch_and_db():
    # CH ranks 3,4,5,2; DB ranks 3,4,5,2 too: K=3 has rank sum 0
    table = _table(
        calinski_harabasz=[100, 200, 150, 120],
        davies_bouldin=[0.9, 0.5, 0.6, 0.8],
        silhouette=[0.3, 0.5, 0.4, 0.2],
        gap=[0.1, 0.5, 0.6, 0.4],
    )
    votes = {"elbow": 4, "silhouette": 3, "calinski_harabasz": 3, "davies_bouldin": 3, "gap": 4}
    chosen, agreement, reason = combine_votes(votes, table)
    assert (chosen, agreement) == (3, 3)
    assert reason == (
        "Calinski-Harabasz and Davies-Bouldin together rank K=3 best; 3 of 5 criteria vote "
        "for it (silhouette, calinski_harabasz, davies_bouldin)"
    )


def test_combining_rule_breaks_ties_by_the_gap_then_the_silhouette():
    # CH: 3 best, then 4; DB: 4 best, then 3 -> K=3 and K=4 both have rank sum 1
    ch, db = [100, 200, 150, 120], [0.9, 0.6, 0.5, 0.8]
    votes = {"elbow": 3, "silhouette": 3, "calinski_harabasz": 3, "davies_bouldin": 4, "gap": 4}
    table = _table(
        calinski_harabasz=ch,
        davies_bouldin=db,
        silhouette=[0.3, 0.5, 0.4, 0.2],
        gap=[0.1, 0.5, 0.6, 0.4],
    )
    chosen, agreement, reason = combine_votes(votes, table)
    assert (chosen, agreement) == (4, 2)
    assert "rank K=3 and K=4 equally; the gap statistic prefers K=4" in reason
    no_gap = _table(calinski_harabasz=ch, davies_bouldin=db, silhouette=[0.3, 0.5, 0.4, 0.2])
    chosen, agreement, reason = combine_votes(votes, no_gap)
    assert (chosen, agreement) == (3, 3)
    assert "the silhouette prefers K=3" in reason


def test_wine_standardised_gets_three_segments():
    data = load_wine()
    Z = _std(data.data)
    choice = select_k(Z, list(range(2, 11)), random_state=42)
    assert choice.chosen == 3
    labels = get_engine("kmeans").fit(Z, 3, random_state=42).labels
    assert adjusted_rand_score(data.target, labels) >= 0.85


def test_representative_sample_keeps_a_rare_group():
    rng = np.random.default_rng(0)
    big = rng.normal(0, 1, size=(19_980, 2))
    rare = rng.normal(12, 0.2, size=(20, 2))  # 0.1% of the rows
    X = np.vstack([big, rare])
    rows = representative_sample(X, 1000, random_state=1)
    assert np.array_equal(rows, np.sort(rows)) and len(np.unique(rows)) == len(rows)
    assert 1000 <= len(rows) <= 1500
    assert (rows >= 19_980).sum() >= 10  # a plain 1,000-row sample would hold about 1
    np.testing.assert_array_equal(rows, representative_sample(X, 1000, random_state=1))
    np.testing.assert_array_equal(representative_sample(X[:50], 1000), np.arange(50))


def test_pipeline_summary_has_votes_agreement_reason_structure(four_blobs):
    X, _ = four_blobs
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    result = custseg.segment(frame, k_max=6, stability=0)
    block = result.summary["k_selection"]
    for key in ("table", "chosen", "votes", "agreement", "reason", "structure", "rows_used"):
        assert key in block
    assert block["chosen"] == 4 == result.summary["k"]
    assert block["structure"] == "clear"
    assert block["votes"]["silhouette"] == 4
    assert len(block["table"]) == 5


def test_pipeline_flags_noise_even_when_k_is_given():
    X = np.random.default_rng(1).uniform(size=(300, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    result = custseg.segment(frame, k=4, stability=0)
    block = result.summary["k_selection"]
    assert block["method"] == "given" and block["reason"] == "K=4 was given"
    assert block["structure"] == "none"
    assert result.summary["k"] == 4 and result.table["segment"].notna().all()


def test_sweep_scores_match_scikit_learn_for_every_k():
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

    from custseg.segmentation.choose_k import sweep_k

    X, _ = make_blobs(n_samples=600, centers=5, n_features=3, random_state=8)
    labels = {}
    table = sweep_k(_std(X), [2, 3, 5, 8], random_state=0, gap=False, labels_out=labels)
    for row in table.itertuples():
        lab = labels[row.k]
        assert row.silhouette == pytest.approx(silhouette_score(_std(X), lab), abs=1e-12)
        assert row.calinski_harabasz == pytest.approx(
            calinski_harabasz_score(_std(X), lab), rel=1e-9
        )
        assert row.davies_bouldin == pytest.approx(davies_bouldin_score(_std(X), lab), rel=1e-9)


def test_representative_sample_of_a_million_rows_keeps_a_half_percent_group():
    from custseg.segmentation.choose_k import POOL_FACTOR

    rng = np.random.default_rng(2)
    n, rare = 1_000_000, 5_000  # 0.5% of the rows, far from the rest
    X = rng.normal(0, 1, size=(n, 2))
    X[rng.choice(n, rare, replace=False)] = rng.normal(9, 0.3, size=(rare, 2))
    assert n > POOL_FACTOR * 4000  # drawn within a seeded uniform pool, not over every row
    rows = representative_sample(X, 4000, random_state=3)
    assert np.array_equal(rows, np.sort(rows)) and len(np.unique(rows)) == len(rows)
    assert 4000 <= len(rows) <= 6000 and rows.max() < n
    in_rare = (X[rows, 0] > 5).sum()
    assert in_rare >= 40  # a floor of size // 100 rows; a plain sample would hold about 20
    np.testing.assert_array_equal(rows, representative_sample(X, 4000, random_state=3))
    assert not np.array_equal(rows, representative_sample(X, 4000, random_state=4))
