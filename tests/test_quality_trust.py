"""Per-customer margins, borderline flags and bootstrap stability."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from custseg.engines import get_engine
from custseg.engines.base import borderline_flags, margins, own_margin
from custseg.segmentation.quality import (
    bootstrap_stability,
    borderline_summary,
    jaccard_verdict,
    trust_summary,
)
from custseg.verdicts import BORDERLINE_MARGIN


def test_margin_by_hand():
    centers = np.array([[0.0, 0.0], [2.0, 0.0]])
    Z = np.array([[0.5, 0.0], [1.0, 0.0], [0.0, 0.0], [1.9, 0.0]])
    # d1, d2 = (0.5, 1.5), (1, 1), (0, 2), (0.1, 1.9)
    expected = [1 - 0.5 / 1.5, 0.0, 1.0, 1 - 0.1 / 1.9]
    np.testing.assert_allclose(margins(Z, centers), expected)
    np.testing.assert_allclose(own_margin(Z, centers, np.array([0, 0, 0, 1])), expected)


def test_own_margin_is_negative_when_assigned_away_from_the_nearest_centre():
    centers = np.array([[0.0, 0.0], [2.0, 0.0]])
    Z = np.array([[0.5, 0.0]])
    # assigned to segment 1 (a mixture could do this): d_own = 1.5, d_other = 0.5
    np.testing.assert_allclose(own_margin(Z, centers, np.array([1])), [1 - 1.5 / 0.5])
    assert np.isnan(own_margin(Z, centers, np.array([-1]))[0])  # noise: no margin


def test_borderline_threshold_and_shares():
    assert BORDERLINE_MARGIN == 0.1
    flags = borderline_flags(np.array([0.05, 0.1, 0.5, np.nan, -0.2]))
    assert flags.tolist() == [True, False, False, False, True]
    summary = borderline_summary(np.array([0, 0, 1, 1, -1]), np.array([0.05, 0.5, 0.5, 0.5, 0.0]))
    assert summary["by_segment"] == {0: 0.5, 1: 0.0}
    assert summary["share"] == pytest.approx(0.25)


def test_jaccard_verdicts_follow_hennig():
    assert [jaccard_verdict(v) for v in (0.9, 0.75, 0.7, 0.6, 0.59, None)] == [
        "stable",
        "stable",
        "weak",
        "weak",
        "unstable",
        "unknown",
    ]


@pytest.fixture(scope="module")
def kmeans():
    return get_engine("kmeans")


def test_stability_is_high_on_separated_blobs(kmeans):
    X, _ = make_blobs(n_samples=300, centers=4, cluster_std=0.5, random_state=2)
    labels = kmeans.fit(X, 4, random_state=0).labels
    result = bootstrap_stability(X, labels, 4, n_resamples=8, random_state=1)
    assert result["resamples"] == 8 and result["rows_used"] == 300
    assert all(s["jaccard"] > 0.95 and s["verdict"] == "stable" for s in result["segments"])
    assert result["mean_ari"] > 0.95
    assert result["unstable"] == []


def test_stability_is_low_on_noise(kmeans):
    # Round noise: any 4-way cut is as good as its rotation, so refits disagree.
    X = np.random.default_rng(0).standard_normal(size=(300, 2))
    labels = kmeans.fit(X, 4, random_state=0).labels
    result = bootstrap_stability(X, labels, 4, n_resamples=20, random_state=1)
    jaccards = [s["jaccard"] for s in result["segments"]]
    assert max(jaccards) < 0.7 and result["unstable"]
    assert result["mean_ari"] < 0.6


def test_stability_is_seeded_and_samples_large_inputs(kmeans):
    X, _ = make_blobs(n_samples=3000, centers=3, random_state=4)
    labels = kmeans.fit(X, 3, random_state=0).labels
    a = bootstrap_stability(X, labels, 3, n_resamples=3, random_state=5, max_rows=500)
    b = bootstrap_stability(X, labels, 3, n_resamples=3, random_state=5, max_rows=500)
    assert a == b
    assert 500 <= a["rows_used"] <= 600


def test_trust_summary_switches(kmeans):
    X, _ = make_blobs(n_samples=120, centers=2, random_state=4)
    labels = kmeans.fit(X, 2, random_state=0).labels
    margin = own_margin(X, kmeans.fit(X, 2, random_state=0).centers, labels)
    off = trust_summary(X, labels, margin, stability=0)
    assert off["stability"]["resamples"] == 0 and "--stability 0" in off["stability"]["reason"]
    on = trust_summary(X, labels, margin, stability=3)
    assert on["stability"]["resamples"] == 3
    assert set(on["borderline"]) == {"threshold", "share", "by_segment"}


def test_a_segment_of_a_few_customers_is_not_assessable_never_stable(kmeans):
    X, _ = make_blobs(n_samples=200, centers=2, cluster_std=0.5, random_state=2)
    X = np.vstack([X, [[80.0, 80.0]]])  # one far customer: a segment of its own
    labels = kmeans.fit(X, 3, random_state=0).labels
    lone = int(labels[-1])
    assert np.count_nonzero(labels == lone) == 1
    result = bootstrap_stability(X, labels, 3, n_resamples=10, random_state=1)
    entry = next(s for s in result["segments"] if s["id"] == lone)
    assert entry["jaccard"] is None
    assert entry["verdict"] == "not assessable"
    assert entry["reason"].startswith("1 customer(s): too few to resample")
    assert lone not in result["unstable"]
    others = [s for s in result["segments"] if s["id"] != lone]
    assert all(s["verdict"] == "stable" for s in others)
