"""The skew rule and the log transform (custseg.features.transform), the outlier fences
(custseg.features.outliers)."""

from __future__ import annotations

import numpy as np
import pytest

from custseg.features.outliers import MAX_OUTLIER_SHARE, OutlierFences, fit_fences
from custseg.features.transform import (
    choose_transform,
    log_transform,
    log_untransform,
    quantile_skewness,
)

RNG = np.random.default_rng(0)
N = 2000
SPEND = np.exp(7 + RNG.standard_normal(N))  # log-normal money, sigma 1
AGE = RNG.normal(45, 12, N)
COUNTS = RNG.integers(0, 6, N).astype(float)  # a count from 0 to 5
INCOME = np.append(RNG.normal(52_000, 20_000, N - 1).clip(1000), 666_666)


def test_quantile_skewness_of_known_shapes():
    assert quantile_skewness(np.linspace(0, 1, 1001)) == pytest.approx(0.0)
    assert quantile_skewness(RNG.exponential(size=200_000)) == pytest.approx(0.465, abs=0.01)
    assert quantile_skewness(np.r_[np.zeros(95), np.arange(1, 6)]) == pytest.approx(1.0)
    assert quantile_skewness(np.zeros(100)) is None


def test_auto_transforms_money_but_not_age_counts_or_one_extreme_income():
    X = np.column_stack([SPEND, AGE, COUNTS, INCOME])
    choice = choose_transform(X, ["spend", "age", "count", "income"])
    assert choice.transformed == ["spend"]
    assert choice.units[0] == pytest.approx(np.median(SPEND))
    reasons = {d["feature"]: d["reason"] for d in choice.decisions}
    assert reasons["spend"].startswith("right-skewed (quantile skewness 0.5")
    assert reasons["age"].startswith("not strongly skewed")


def test_negative_values_rule_and_the_modes():
    refunds = SPEND.copy()
    refunds[:10] = -50.0  # 0.5% refunds: still money
    balance = SPEND - np.median(SPEND)  # half negative: not a magnitude
    X = np.column_stack([refunds, balance, AGE])
    names = ["spend", "balance", "age"]
    assert choose_transform(X, names).transformed == ["spend"]
    assert choose_transform(X, names, mode="log").transformed == ["spend", "age"]
    assert choose_transform(X, names, mode="none").transformed == []
    skip = choose_transform(X, names, eligible=[False, True, True])
    assert skip.transformed == []


def test_the_transform_does_not_depend_on_the_unit_and_inverts():
    X = np.column_stack([SPEND, SPEND / 1000])  # the same money in units and thousands
    choice = choose_transform(X, ["spend", "spend_k"])
    T = log_transform(X, choice.units)
    np.testing.assert_allclose(T[:, 0], T[:, 1])
    np.testing.assert_allclose(log_untransform(T, choice.units), X, rtol=1e-12)
    signed = log_transform(np.array([[-10.0], [0.0], [10.0]]), np.array([10.0]))
    np.testing.assert_allclose(signed[:, 0], [-np.log(2), 0, np.log(2)])


def test_fences_flag_isolated_extremes_only():
    X = np.column_stack([SPEND, AGE, INCOME])
    choice = choose_transform(X, ["spend", "age", "income"])
    T = log_transform(X, choice.units)
    Z = (T - T.mean(axis=0)) / T.std(axis=0)
    fences = fit_fences(Z)
    flagged = np.flatnonzero(fences.flag(Z))
    assert N - 1 in flagged  # the income of 666,666
    assert len(flagged) <= MAX_OUTLIER_SHARE * N
    # A plain normal sample has no far-out customer at all.
    assert not fit_fences(RNG.standard_normal((N, 2))).flag(RNG.standard_normal((N, 2))).any()


def test_a_tail_group_larger_than_one_percent_is_not_outliers():
    bimodal = np.r_[RNG.normal(0, 1, 930), RNG.normal(30, 1, 70)]  # 7% far out: a group
    lone = np.r_[RNG.normal(0, 1, 999), 30.0]
    assert not fit_fences(bimodal[:, None]).flag(bimodal[:, None]).any()
    assert np.flatnonzero(fit_fences(lone[:, None]).flag(lone[:, None])).tolist() == [999]


def test_fences_of_a_mostly_zero_column_come_from_the_customers_above_zero():
    cash = np.r_[np.zeros(800), RNG.exponential(1.0, 199), 60.0]  # 80% never take cash
    fences = fit_fences(cash[:, None], eligible=[True])
    flagged = np.flatnonzero(fences.flag(cash[:, None]))
    assert 999 in flagged and len(flagged) <= MAX_OUTLIER_SHARE * len(cash)
    assert flagged.min() >= 800  # no customer without cash advance is an outlier
    assert fences.low[0] == -np.inf
    again = OutlierFences.from_dict(fences.to_dict())
    np.testing.assert_array_equal(again.high, fences.high)
    assert fit_fences(cash[:, None], eligible=[False]).any is False


def test_a_whole_number_exactly_on_the_fence_is_not_beyond_it():
    # Quartiles 2 and 3: the upper fence is exactly 6, the largest count (as in real contact
    # counts); scaling must not round 6 to just beyond it.
    counts = np.repeat([0, 1, 2, 3, 4, 5, 6], [399, 1499, 3227, 3380, 1392, 176, 54]).astype(float)
    Z = ((counts - counts.mean()) / counts.std())[:, None]
    assert not fit_fences(Z).flag(Z).any()
