"""Exact sums: the same total to the last bit whatever the order and the batches."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from custseg.engines.exact_sums import (
    ExactSums,
    RowSetDigest,
    exact_group_sums,
    exact_mean_std,
    exact_squares,
)


def _values(rng: np.random.Generator, n: int) -> np.ndarray:
    # Magnitudes from 1e-300 to 1e300, both signs, zeros: every rounding case at once.
    return rng.standard_normal((n, 3)) * 10.0 ** rng.integers(-300, 300, size=(n, 3))


def test_sums_are_correctly_rounded_whatever_the_order_and_batches():
    rng = np.random.default_rng(0)
    X = _values(rng, 5_000)
    X[::7, 1] = 0.0
    expected = [math.fsum(X[:, j]) for j in range(3)]  # Shewchuk: exact, rounded once
    for seed in range(3):
        shuffled = X[np.random.default_rng(seed).permutation(len(X))]
        sums = ExactSums(1, 3)
        for batch in np.array_split(shuffled, 1 + seed * 4):
            sums.add(batch)
        assert sums.total()[0].tolist() == expected


def test_grouped_sums_and_exact_moments():
    rng = np.random.default_rng(1)
    X = 1e6 + rng.standard_normal((4_000, 2))  # a large mean: the naive formula cancels
    groups = rng.integers(0, 3, size=len(X))
    sums = ExactSums(3, 2)
    sums.add(X, groups)
    for g in range(3):
        assert sums.total()[g].tolist() == [math.fsum(X[groups == g, j]) for j in range(2)]
    plain, squares = ExactSums(1, 2), ExactSums(1, 2)
    plain.add(X)
    for part in exact_squares(X):
        squares.add(part)
    mean, std = exact_mean_std(plain, squares, len(X))
    np.testing.assert_allclose(mean, X.mean(axis=0), rtol=1e-15)
    # Exact to the last bit against an exact two-pass computation in fractions.
    for j in range(2):
        col = [Fraction(v) for v in X[:, j]]
        m = sum(col) / len(col)
        var = sum((v - m) ** 2 for v in col) / len(col)
        assert mean[j] == float(m)
        assert std[j] == np.sqrt(float(var))


def _money(rng: np.random.Generator, n: int) -> np.ndarray:
    # Quantity x price, as a log values its lines: 0.1 + 0.2 != 0.3, and some returns.
    prices = rng.choice([0.1, 0.2, 0.7, 0.3, 0.145, 0.001, 2.55, 16_950.0], size=n)
    return rng.integers(-2, 400, size=n) * prices


def _spread(rng: np.random.Generator, n: int) -> np.ndarray:
    # Magnitudes 1e-12 to 1e12: several 26-bit slices, all of them needed.
    return rng.standard_normal(n) * 10.0 ** rng.integers(-12, 12, size=n)


@pytest.mark.parametrize("make", [_money, _spread, lambda rng, n: _values(rng, n)[:, 0]])
def test_group_sums_are_the_true_totals_rounded_once_in_any_order(make):
    rng = np.random.default_rng(2)
    values = make(rng, 3_000)
    groups = rng.integers(0, 6, size=len(values))
    groups[groups == 4] = 3  # group 4 has no rows
    # An oracle apart from the function: exact fractions, converted once.
    expected = [
        float(sum(map(Fraction, values[groups == g].tolist()), Fraction(0))) for g in range(6)
    ]
    assert expected[4] == 0.0
    assert np.bincount(groups, weights=values, minlength=6).tolist() != expected  # a plain sum
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(values))
        assert exact_group_sums(groups[order], values[order], 6).tolist() == expected
    assert exact_group_sums(groups[:0], values[:0], 3).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.filterwarnings("error")  # the wrapping sums never warn
def test_a_row_set_digest_ignores_order_and_batches_but_not_values():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 3)) * 1e4

    def digest(*parts):
        d = RowSetDigest(b'["a", "b", "c"]')
        for part in parts:
            d.update(part)
        return d.hexdigest()

    whole = digest(X)
    assert digest(X[rng.permutation(len(X))]) == whole
    assert digest(X[:123], X[123:400], X[400:]) == whole
    changed = X.copy()
    changed[17, 2] = np.nextafter(changed[17, 2], np.inf)  # one value, one bit
    assert digest(changed) != whole
    assert digest(X, X[:1]) != whole  # a repeated customer counts
    assert digest(X[:, [1, 0, 2]]) != whole  # the columns' order is the data's
    assert RowSetDigest(b"other").hexdigest() != RowSetDigest(b'["a", "b", "c"]').hexdigest()
