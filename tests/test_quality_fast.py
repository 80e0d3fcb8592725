"""The fast validity metrics agree with scikit-learn's definitions; margins keep their bits."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_samples,
    silhouette_score,
)

from custseg.engines.base import margins, own_margin
from custseg.segmentation.quality import (
    SILHOUETTE_SAMPLE,
    adjusted_rand_index,
    borderline_summary,
    clustering_metrics,
    resample_agreement,
    segment_ids,
    silhouette_rows,
    silhouettes,
    validity_scores,
)


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(0)
    return rng.normal(size=(900, 4)) * [1.0, 2.0, 0.5, 3.0] + 5.0


def _labelings(n, rng):
    labelings = [rng.integers(0, k, n) for k in (2, 3, 7)]
    with_singletons = rng.integers(0, 4, n)
    with_singletons[[3, 10]] = [9, 11]  # two segments of one customer each
    labelings.append(with_singletons)
    labelings.append(np.where(rng.uniform(size=n) > 0.97, 40, -5))  # any label values
    return labelings


def test_silhouettes_match_scikit_learn_for_every_labelling(rows):
    labelings = _labelings(len(rows), np.random.default_rng(1))
    ours = silhouettes(rows, labelings, block_rows=100)
    expected = [silhouette_score(rows, lab) for lab in labelings]
    np.testing.assert_allclose(ours, expected, rtol=0, atol=1e-12)
    assert silhouettes(rows, labelings[1:2]) == pytest.approx(ours[1:2], abs=1e-15)


def test_per_row_silhouettes_match_scikit_learn(rows):
    labelings = _labelings(len(rows), np.random.default_rng(3))
    per_row = silhouette_rows(rows, labelings, block_rows=64)
    assert per_row.shape == (len(labelings), len(rows))
    for ours, lab in zip(per_row, labelings, strict=True):
        np.testing.assert_allclose(ours, silhouette_samples(rows, lab), rtol=0, atol=1e-12)


def test_silhouettes_refuse_a_single_segment(rows):
    with pytest.raises(ValueError, match="between 2 and n_rows - 1 = 899 segments; got 1"):
        silhouettes(rows, [np.zeros(len(rows))])


def test_validity_scores_match_scikit_learn(rows):
    for lab in _labelings(len(rows), np.random.default_rng(2)):
        ch, db = validity_scores(rows, lab)
        assert ch == pytest.approx(calinski_harabasz_score(rows, lab), rel=1e-9)
        assert db == pytest.approx(davies_bouldin_score(rows, lab), rel=1e-9)


def _reference_metrics(Z, labels, centers, random_state=0):
    keep = labels >= 0
    Z, labels = Z[keep], labels[keep]
    sample = SILHOUETTE_SAMPLE if len(Z) > SILHOUETTE_SAMPLE else None
    return {
        "inertia": float(((Z - centers[labels]) ** 2).sum()),
        "silhouette": silhouette_score(Z, labels, sample_size=sample, random_state=random_state),
        "calinski_harabasz": calinski_harabasz_score(Z, labels),
        "davies_bouldin": davies_bouldin_score(Z, labels),
    }


@pytest.mark.parametrize("n_rows", [3000, 120_000])
def test_clustering_metrics_match_scikit_learn_with_noise_rows(n_rows):
    rng = np.random.default_rng(n_rows)
    Z = rng.normal(size=(n_rows, 3)) + rng.integers(0, 4, size=(n_rows, 1)) * 3.0
    labels = np.argmin(((Z[:, None, :] - [[0.0], [3.0], [6.0], [9.0]]) ** 2).sum(axis=2), axis=1)
    centers = np.array([Z[labels == s].mean(axis=0) + 0.05 for s in range(4)])
    labels[:7] = -1  # noise rows are left out
    ours = clustering_metrics(Z, labels, centers, random_state=3)
    expected = _reference_metrics(Z, labels, centers, random_state=3)
    # Above 5,000 rows the silhouette is on the same seeded sample as scikit-learn's.
    assert ours == pytest.approx(expected, rel=1e-9)


def test_clustering_metrics_sample_rows_on_very_large_tables(monkeypatch):
    import custseg.segmentation.quality as quality

    monkeypatch.setattr(quality, "SILHOUETTE_PERMUTATION_MAX_ROWS", 10_000)
    rng = np.random.default_rng(4)
    Z = np.vstack([rng.normal(0, 1, (6000, 2)), rng.normal(3, 1, (6000, 2))])
    labels = np.repeat([0, 1], 6000)
    centers = np.array([[0.0, 0.0], [3.0, 3.0]])
    a = clustering_metrics(Z, labels, centers, random_state=5)
    assert a == clustering_metrics(Z, labels, centers, random_state=5)  # seeded
    # Above the permutation limit: a seeded draw of 5,000 rows, O(sample) work.
    rows = np.random.default_rng(5).choice(len(Z), SILHOUETTE_SAMPLE, replace=False)
    assert a["silhouette"] == pytest.approx(silhouette_score(Z[rows], labels[rows]), abs=1e-12)
    assert a["silhouette"] != clustering_metrics(Z, labels, centers, random_state=6)["silhouette"]


def test_clustering_metrics_without_two_segments():
    Z = np.arange(12.0).reshape(6, 2)
    out = clustering_metrics(Z, np.zeros(6, dtype=int), np.array([[5.0, 6.0]]))
    assert out["inertia"] == pytest.approx(((Z - [5.0, 6.0]) ** 2).sum())
    assert out["silhouette"] is out["calinski_harabasz"] is out["davies_bouldin"] is None
    assert clustering_metrics(Z[:0], np.zeros(0, dtype=int), Z[:1])["inertia"] == 0.0


def _old_margins(Z, centers, labels):
    d = np.sqrt(((Z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    rows = np.arange(len(Z))
    d_own = d[rows, labels]
    two = np.partition(d, 1, axis=1)[:, :2]
    d[rows, labels] = np.inf
    d_other = d.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = (d_other - d_own) / d_other
        nearest = (two[:, 1] - two[:, 0]) / two[:, 1]
    return np.where(np.isnan(nearest), 0.0, nearest), np.where(np.isnan(own), 0.0, own)


@pytest.mark.parametrize("n_features", [1, 3, 7, 8, 12])
def test_margins_keep_the_bits_of_the_plain_formula(n_features):
    rng = np.random.default_rng(n_features)
    Z = rng.normal(size=(4000, n_features))
    centers = rng.normal(size=(5, n_features))
    labels = rng.integers(0, 5, len(Z))
    nearest, own = _old_margins(Z, centers, labels)
    assert np.array_equal(margins(Z, centers), nearest)
    assert np.array_equal(own_margin(Z, centers, labels), own)
    Z32 = Z.astype(np.float32)  # float32 rows, float64 centres: same promotion as before
    assert np.array_equal(own_margin(Z32, centers, labels), _old_margins(Z32, centers, labels)[1])
    noisy = labels.copy()
    noisy[::9] = -1
    got = own_margin(Z, centers, noisy)
    assert np.isnan(got[::9]).all()
    keep = noisy >= 0
    assert np.array_equal(got[keep], own[keep])


def test_borderline_summary_and_segment_ids_by_counting():
    labels = np.array([3, 3, 0, 0, 0, -1, 7])
    margin = np.array([0.05, 0.5, 0.01, 0.02, 0.9, 0.0, np.nan])
    summary = borderline_summary(labels, margin)
    assert summary["by_segment"] == {0: 2 / 3, 3: 0.5, 7: 0.0}
    assert summary["share"] == pytest.approx(3 / 6)
    assert segment_ids(labels).tolist() == [0, 3, 7]
    assert segment_ids(np.array([-1, -1])).tolist() == []
    assert segment_ids(np.array([10**12, -1, 5])).tolist() == [5, 10**12]


def _brute_force_agreement(labels, draw, boot_labels):
    """Per segment its best-match Jaccard on the distinct drawn rows, and scikit-learn's ARI."""
    uniq, first = np.unique(draw, return_index=True)
    orig, boot = labels[uniq], boot_labels[first]
    best = {}
    for s in (int(s) for s in np.unique(orig) if s >= 0):
        in_s = orig == s
        jaccards = [
            np.count_nonzero(in_s & (boot == b)) / np.count_nonzero(in_s | (boot == b))
            for b in np.unique(boot)
            if b >= 0
        ]
        best[s] = max([0.0, *jaccards])
    return best, adjusted_rand_score(orig, boot)


@pytest.mark.parametrize("noise", [False, True])
def test_resample_agreement_keeps_the_bits_of_the_plain_count(noise):
    rng = np.random.default_rng(4)
    for trial in range(300):
        n = int(rng.integers(1, 120))
        labels = rng.integers(-1 if noise else 0, int(rng.integers(1, 6)), n)
        draw = rng.integers(0, n, n)
        if trial % 3 == 0:  # a refit that agrees, up to the names of its segments
            boot = rng.permutation(6)[np.maximum(labels[draw], 0)]
        else:
            boot = rng.integers(-1 if noise else 0, int(rng.integers(1, 6)), n)
        best, ari = resample_agreement(labels, draw, boot)
        expected_best, expected_ari = _brute_force_agreement(labels, draw, boot)
        assert best == expected_best
        assert ari == expected_ari  # to the last bit
        assert type(ari) is float


def test_adjusted_rand_index_of_a_contingency_table():
    assert adjusted_rand_index(np.array([[2, 0], [0, 2]])) == 1.0  # [0, 0, 1, 1] vs itself
    assert adjusted_rand_index(np.array([[1, 1], [1, 1]])) == -0.5  # [0, 0, 1, 1] vs [0, 1, 0, 1]
    assert adjusted_rand_index(np.array([[4]])) == 1.0  # one segment in both
