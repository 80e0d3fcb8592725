"""The rule that picks K from the criteria: each piece on a hand-made table."""

from __future__ import annotations

import numpy as np
import pytest

from custseg.segmentation.k_rule import (
    KPick,
    paired_standard_errors,
    pick_k,
    strength_standard_errors,
)

KS = [2, 3, 4]


def _draws(*means: float, spread: float = 0.0, n: int = 20) -> np.ndarray:
    """Prediction strength draws per K: the same wobble on every K (shared halves)."""
    wobble = spread * np.sin(np.arange(n))
    return np.stack([np.full(n, m) + wobble for m in means])


def _pick(silhouette, draws, **kwargs) -> KPick:
    return pick_k(KS, np.array(silhouette, dtype=float), draws, **kwargs)


def test_the_best_separation_that_comes_back_wins():
    # K=4 separates best but does not come back (prediction strength 0.3).
    draws = np.vstack([_draws(0.95, 0.9, 0.3), _draws(0.3)])
    pick = pick_k(
        [2, 3, 4, 5],
        np.array([0.5, 0.7, 0.9, 0.6]),
        draws,
        calinski_harabasz=np.array([4, 3, 2, 1]),
    )
    assert pick.k == 3 == pick.best
    np.testing.assert_allclose(pick.scores, [0.5, 0.7, np.nan, np.nan])
    assert pick.equally_supported == [3]
    assert pick.stands_out and not pick.at_edge and pick.notes == []
    assert pick.reason == (
        "K=3 has the best separation that comes back (silhouette 0.70, prediction strength 0.90)"
    )


def test_coming_back_is_a_threshold_not_a_weight():
    # Silhouette × strength would prefer K=2 (0.59 against 0.53); both come back, and
    # K=3 is the better separated.
    pick = _pick([0.6, 0.65, 0.2], _draws(0.99, 0.81, 0.5))
    assert pick.k == 3 and pick.stands_out


def _noisy(mean: float, se: float, n: int = 20) -> np.ndarray:
    """Draws of one K with exactly this mean and standard error."""
    wobble = np.sin(np.arange(n) + 0.5)
    wobble = (wobble - wobble.mean()) / wobble.std(ddof=1)
    return mean + se * np.sqrt(n) * wobble


def test_coming_back_is_read_within_the_noise_of_the_draws():
    # K=4 separates best; its strength is under 0.8, by less or more than its noise.
    ks, silhouette = [2, 3, 4, 5], np.array([0.34, 0.36, 0.40, 0.38])

    def pick(k4: np.ndarray) -> KPick:
        return pick_k(ks, silhouette, np.vstack([_draws(0.91, 0.58), k4, _draws(0.52)]))

    near = pick(_noisy(0.797, 0.014))
    assert near.k == 4 == near.best and near.stands_out and near.notes == []
    assert near.reason == (
        "K=4 has the best separation that comes back (silhouette 0.40, prediction strength "
        "0.80 ± 0.01, 0.8 within the noise)"
    )
    short = pick(_noisy(0.78, 0.005))
    assert short.k == 2 and np.isnan(short.scores[2])
    assert "within the noise" not in short.reason


def test_a_k_chosen_as_the_simpler_says_when_it_comes_back_only_within_the_noise():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.8, 400)
    per_row = np.stack([base, base + rng.normal(0.005, 0.1, 400), base - 0.3])
    draws = np.vstack([_noisy(0.79, 0.02), _draws(0.9, 0.9)])
    pick = _pick(per_row.mean(axis=1), draws, silhouette_per_row=per_row)
    assert pick.k == 2 and pick.best == 3
    assert pick.notes == [
        "K=2 comes back only within the noise: prediction strength 0.79 ± 0.02, 0.8 within "
        "the noise"
    ]


def test_a_smaller_k_within_one_standard_error_is_chosen_and_said():
    # K=3's silhouette is 0.005 higher, but customer by customer the two differ by
    # far more than that.
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.8, 400)
    per_row = np.stack([base, base + rng.normal(0.005, 0.1, 400), base - 0.3])
    pick = _pick(per_row.mean(axis=1), _draws(0.9, 0.85, 0.9), silhouette_per_row=per_row)
    assert pick.best == 3 and pick.k == 2
    assert pick.standard_errors[0] > pick.scores[1] - pick.scores[0]
    assert pick.equally_supported == [2, 3]
    assert pick.reason.endswith("K=2 and K=3 are about equally supported; 2 chosen as the simpler")


def test_a_smaller_k_that_does_not_come_back_is_never_preferred():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.8, 400)
    per_row = np.stack([base, base + rng.normal(0.005, 0.1, 400), base - 0.3])
    pick = _pick(per_row.mean(axis=1), _draws(0.7, 0.85, 0.9), silhouette_per_row=per_row)
    assert pick.k == 3 and pick.equally_supported == [3]


def test_without_a_k_that_comes_back_the_product_decides_within_its_noise():
    # K=3 scores 0.01 more than K=2, but the draws disagree by far more than that.
    draws = np.stack([np.full(20, 0.7), 0.7 + 0.2 * np.sin(np.arange(20)), np.full(20, 0.2)])
    silhouette = [0.50, 0.511, 0.1]
    pick = _pick(silhouette, draws)
    assert pick.best == 3 and pick.k == 2 and not pick.stands_out
    assert pick.standard_errors[0] > pick.scores[1] - pick.scores[0]
    assert pick.reason.startswith(
        "K=3 has the best separation as far as it comes back (silhouette 0.51 × prediction "
        "strength 0.70 = 0.36)"
    )
    assert pick.reason.endswith("K=2 and K=3 are about equally supported; 2 chosen as the simpler")
    # The same gap with steady draws is real: K=3 stays.
    assert _pick(silhouette, _draws(0.7, 0.7, 0.2)).k == 3


def test_the_silhouettes_own_noise_counts_customer_by_customer():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.8, 400)
    noisy = np.stack([base, base + rng.normal(0.005, 0.1, 400), base - 0.3])
    steady = np.stack([base, base + 0.005, base - 0.3])
    draws = _draws(0.9, 0.9, 0.9)
    assert _pick(noisy.mean(axis=1), draws, silhouette_per_row=noisy).k == 2
    assert _pick(steady.mean(axis=1), draws, silhouette_per_row=steady).k == 3


def test_no_k_comes_back_is_said_and_the_best_score_still_chosen():
    pick = _pick([0.3, 0.5, 0.4], _draws(0.62, 0.70, 0.55))
    assert pick.k == 3 and not pick.stands_out
    assert pick.notes[0].startswith(
        "no K comes back reliably: every prediction strength is below 0.8 by more than its "
        "noise (the highest, 0.70, at K=3)"
    )


def test_the_edge_of_the_range_is_never_presented_as_a_finding():
    pick = _pick([0.3, 0.4, 0.6], _draws(0.95, 0.95, 0.95))
    assert pick.k == 4 and pick.at_edge and not pick.stands_out
    assert "no K in 2..4 stands out" in pick.notes[0]
    assert "--algorithm hdbscan" in pick.notes[0] and "custseg compare" in pick.notes[0]
    # The silhouette still rising at the largest K, even when a smaller K is chosen.
    rising = _pick([0.3, 0.4, 0.6], _draws(0.95, 0.95, 0.3))
    assert rising.k == 3 and rising.at_edge
    ch_rising = _pick(
        [0.3, 0.5, 0.4], _draws(0.95, 0.95, 0.95), calinski_harabasz=np.array([1, 2, 3])
    )
    assert ch_rising.k == 3 and ch_rising.at_edge
    # The note names the rising curve and never says that the chosen K does not stand out.
    assert rising.notes[-1].startswith("K=3 is the best separation that comes back, but the sil")
    assert ch_rising.notes[-1].startswith(
        "K=3 is the best separation that comes back, but the Calinski-Harabasz index keeps "
        "improving up to K=4"
    )
    assert "--algorithm hdbscan" in ch_rising.notes[-1]


def test_a_negative_silhouette_scores_zero():
    pick = _pick([-0.2, 0.05, 0.3], _draws(0.99, 0.9, 0.5))
    np.testing.assert_allclose(pick.scores, [0.0, 0.05, np.nan])
    assert pick.k == 3
    # Without a K that comes back: silhouette × prediction strength.
    fallback = _pick([-0.2, -0.1, 0.05], _draws(0.7, 0.7, 0.5))
    np.testing.assert_allclose(fallback.scores, [0.0, 0.0, 0.025])
    assert fallback.best == 4


def test_paired_standard_error_of_differences():
    values = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [1.0, 2.0, 3.0]])
    # Row 1 differs from row 0 by [0, 1, 2]: sd 1 over sqrt(3) pairs.
    assert paired_standard_errors(values, 0) == pytest.approx([0.0, 1 / np.sqrt(3), 0.0])
    assert paired_standard_errors(values[:, :1], 0).tolist() == [0.0, 0.0, 0.0]


def test_strength_standard_error_over_the_draws():
    draws = np.array([[0.7, 0.8, 0.9], [0.5, 0.5, np.nan], [0.6, np.nan, np.nan]])
    # sd 0.1 over sqrt(3) draws; no spread; a single draw has no error to speak of.
    assert strength_standard_errors(draws, 3) == pytest.approx([0.1 / np.sqrt(3), 0.0, 0.0])
    assert strength_standard_errors(np.empty((0, 0)), 2).tolist() == [0.0, 0.0]
