"""Seeded uniform samples that do not depend on the order of the rows."""

from __future__ import annotations

import numpy as np

from custseg.segmentation.sampling import (
    canonical_order,
    key_order,
    put_rows,
    row_keys,
    take_rows,
    uniform_sample,
)


def _customers(n: int, seed: int = 0) -> np.ndarray:
    """Unequal, overlapping groups on a few whole-number scales, with duplicated rows."""
    rng = np.random.default_rng(seed)
    sizes = [int(n * 0.6), int(n * 0.3), n - int(n * 0.6) - int(n * 0.3)]
    parts = [
        rng.normal(centre, spread, size=(size, 3)).round()
        for size, centre, spread in zip(sizes, [20, 35, 60], [8, 12, 5], strict=True)
    ]
    return np.vstack(parts)


def test_the_same_rows_in_any_order_give_the_same_sample_in_the_same_order():
    X = _customers(3000)
    rng = np.random.default_rng(1)
    for size in (500, 5000):  # a sample, and every row in canonical order
        reference = X[uniform_sample(X, size, random_state=7)]
        for _ in range(3):
            shuffled = X[rng.permutation(len(X))]
            np.testing.assert_array_equal(
                shuffled[uniform_sample(shuffled, size, random_state=7)], reference
            )
        np.testing.assert_array_equal(
            X[::-1][uniform_sample(X[::-1], size, random_state=7)], reference
        )


def test_a_sample_has_the_size_asked_distinct_rows_and_follows_the_seed():
    X = _customers(3000)
    rows = uniform_sample(X, 400, random_state=3)
    assert len(rows) == 400 == len(np.unique(rows))
    assert not np.array_equal(np.sort(rows), np.sort(uniform_sample(X, 400, random_state=4)))
    assert np.array_equal(np.sort(uniform_sample(X, 9999, random_state=3)), np.arange(3000))


def test_the_first_rows_of_a_sample_are_the_smaller_sample():
    X = _customers(3000)
    # Compared by value: duplicated customers may be drawn as either copy.
    np.testing.assert_array_equal(
        X[uniform_sample(X, 1000, random_state=5)[:100]], X[uniform_sample(X, 100, random_state=5)]
    )


def test_the_sample_is_uniform_not_representative():
    # 10% of the rows sit far away; a uniform sample of 1,000 holds about 100 of them.
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(0, 1, (9000, 2)), rng.normal(50, 1, (1000, 2))])
    far = (X[uniform_sample(X, 1000, random_state=0)][:, 0] > 25).sum()
    assert 70 <= far <= 130


def test_keys_depend_on_values_only():
    X = np.array([[0.0, 1.5], [-0.0, 1.5], [2.0, 3.0]])
    keys = row_keys(X, random_state=0)
    assert keys[0] == keys[1] != keys[2]
    assert row_keys(X[::-1], random_state=0)[::-1].tolist() == keys.tolist()


def test_canonical_order_depends_on_the_values_alone():
    X = _customers(2000)
    reference = X[canonical_order(X)]
    rng = np.random.default_rng(3)
    for _ in range(3):
        shuffled = X[rng.permutation(len(X))]
        np.testing.assert_array_equal(shuffled[canonical_order(shuffled)], reference)
    assert sorted(map(tuple, reference)) == sorted(map(tuple, X))  # every row, once


def test_rows_with_gaps_are_keyed_by_their_values_too():
    X = _customers(2000)
    X[::3, 1] = np.nan  # a third of the customers miss one value
    X[::7, 2] = np.nan
    keys = row_keys(X, random_state=0)
    gapped = np.isnan(X).any(axis=1)
    # Rows with a gap are as distinct as their values, not lumped under one key.
    distinct = np.unique(np.nan_to_num(X[gapped], nan=-999.0) + 0.0, axis=0)
    assert len(np.unique(keys[gapped])) == len(distinct)
    reference = X[canonical_order(X)]
    shuffled = X[np.random.default_rng(4).permutation(len(X))]
    np.testing.assert_array_equal(shuffled[canonical_order(shuffled)], reference)


def test_rows_that_share_a_key_are_ordered_by_value():
    # The first column dwarfs the second: the projections, and so the keys, coincide.
    X = np.array([[1e20, 2.0], [1e20, 1.0], [1e20, 3.0], [5.0, 1.0]])
    keys = row_keys(X, random_state=0)
    assert keys[0] == keys[1] == keys[2]
    for order in ([0, 1, 2, 3], [2, 1, 3, 0], [3, 2, 0, 1]):
        rows = X[order]
        ranked = rows[canonical_order(rows)]
        assert ranked[ranked[:, 0] > 1e10][:, 1].tolist() == [1.0, 2.0, 3.0]


def test_take_rows_gives_what_indexing_gives_in_the_same_layout():
    # The stages sum and fit on the gathered rows: values and memory layout must
    # be those of X[rows], or a sum could round differently.
    X = _customers(500)
    rows = np.random.default_rng(2).permutation(len(X))[:300]
    for matrix in (X, np.asfortranarray(X), np.asfortranarray(X > 30)):
        taken = take_rows(matrix, rows)
        np.testing.assert_array_equal(taken, matrix[rows])
        assert taken.dtype == matrix.dtype
        assert taken.flags["C_CONTIGUOUS"] == matrix[rows].flags["C_CONTIGUOUS"] is True


def test_put_rows_moves_each_row_where_its_order_says():
    order = canonical_order(_customers(1000))
    values = np.random.default_rng(3).random((1000, 2))
    placed = put_rows(values, order)
    np.testing.assert_array_equal(placed, values[np.argsort(order)])
    np.testing.assert_array_equal(placed[order], values)
    assert placed.dtype == values.dtype


def test_key_order_is_a_stable_argsort_of_the_keys():
    rng = np.random.default_rng(3)
    for n in (5, 70_000, 300_001):  # below and above the packed sort's threshold
        keys = rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64, endpoint=True)
        keys[rng.random(n) < 0.1] = keys[0]  # equal keys keep the rows' order
        # Keys equal in their high bits but not in their low ones, which the packing drops.
        keys[1::7] = (keys[1::7] >> np.uint64(30)) << np.uint64(30)
        keys[2::7] = keys[1::7][: len(keys[2::7])] | np.uint64(5)
        np.testing.assert_array_equal(key_order(keys), np.argsort(keys, kind="stable"))
