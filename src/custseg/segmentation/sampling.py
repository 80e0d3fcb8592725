"""Seeded uniform samples that do not depend on the order of the rows.

Every stochastic step that must give the same answer for the same customers in
any order (choosing K first) works on rows drawn and ordered by
:func:`uniform_sample`: each row gets a pseudo-random key computed from its own
values and the seed, the rows with the smallest keys form the sample, and the
sample is ordered by key (ties by value). Shuffling the table changes neither
which rows are drawn nor their order, and the first ``m`` rows of a sample are
themselves a uniform sample of ``m`` rows.

The key is a 64-bit mix (SplitMix64's finaliser) of the row's projection on a
seeded random direction: a few element-wise passes over the columns, so
drawing from ten million rows costs a fraction of a second. A missing value
(NaN) takes no part in the projection; which columns are missing is mixed into
the key instead, so rows with a gap are keyed as finely as complete ones.
Two different rows share a key only if their projections are equal to the last
bit (one column's values dwarfing another's, or a chance of about one in 2**64);
:func:`canonical_order` then breaks the tie by the values themselves, so the
order never falls back on the rows' positions.
"""

from __future__ import annotations

import numpy as np

from custseg.engines.exact_sums import mix64

__all__ = [
    "MISSING_KEY",
    "canonical_order",
    "key_order",
    "put_rows",
    "row_keys",
    "take_rows",
    "uniform_sample",
]

#: Stands for a missing value when rows are keyed by their values.
MISSING_KEY = -1.0e300
#: From this many rows :func:`key_order` sorts packed keys instead of indices.
_PACKED_SORT_MIN_ROWS = 1 << 16
#: Row numbers take at most this many of a packed key's 64 bits; the key keeps the rest.
_PACKED_ROW_BITS = 40


def row_keys(X: np.ndarray, *, random_state: int) -> np.ndarray:
    """A pseudo-random 64-bit key per row, from the row's values and the seed alone.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Values; NaN marks a missing one.
    random_state : int

    Returns
    -------
    ndarray of uint64, shape (n_rows,)
    """
    X = np.asarray(X, dtype=np.float64)
    n_features = int(X.shape[1])
    rng = np.random.default_rng(random_state)
    direction = rng.standard_normal(n_features)
    missing = np.isnan(X)
    has_missing = bool(missing.any())
    if has_missing:
        X = np.where(missing, 0.0, X)
    # Column by column, not X @ direction: a matrix product may round a row
    # differently depending on where it sits in the block, element-wise steps never.
    projection = X[:, 0] * direction[0]
    for j in range(1, n_features):
        projection += X[:, j] * direction[j]
    projection += 0.0  # -0.0 and 0.0 are the same value: give them the same bits
    keys = mix64(projection.view(np.uint64))  # in place: the projection is not used again
    if has_missing:
        # Which columns are missing, as a sum of seeded 64-bit words (wrapping).
        words = rng.integers(0, 2**63, size=n_features, dtype=np.uint64)
        pattern = np.zeros(len(X), dtype=np.uint64)
        for col in np.flatnonzero(missing.any(axis=0)):
            pattern += missing[:, col].astype(np.uint64) * words[col]
        keys ^= mix64(pattern)
    return keys


def uniform_sample(X: np.ndarray, size: int, *, random_state: int) -> np.ndarray:
    """Row indices of a seeded uniform sample, chosen and ordered independently of row order.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Finite values.
    size : int
        Rows to draw; every row when the table has no more.
    random_state : int

    Returns
    -------
    ndarray of int, shape (min(size, n_rows),)
        Ordered by key, ties by the rows' values: the same customers in any order
        give the same rows in the same order.
    """
    X = np.asarray(X, dtype=np.float64)
    keys = row_keys(X, random_state=random_state)
    picked = np.argpartition(keys, size - 1)[:size] if len(X) > size else np.arange(len(X))
    # Key first, then the values (last key in np.lexsort is the primary one).
    columns = [X[picked, j] for j in reversed(range(X.shape[1]))]
    return picked[np.lexsort([*columns, keys[picked]])]


def canonical_order(X: np.ndarray, *, random_state: int = 0) -> np.ndarray:
    """Row indices that put the rows in an order fixed by their values alone.

    The rows sorted by :func:`row_keys`, rows that share a key by their values:
    the same customers in any order come out in the same order, so a fit, a
    mean or a resample computed on them is the same to the last bit. Only
    identical rows keep their relative order, which changes nothing.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
        Values; NaN marks a missing one.
    random_state : int, default=0

    Returns
    -------
    ndarray of int, shape (n_rows,)
    """
    X = np.asarray(X, dtype=np.float64)
    keys = row_keys(X, random_state=random_state)
    order = key_order(keys)
    sorted_keys = keys[order]
    shared = np.zeros(len(order), dtype=bool)
    shared[1:] = sorted_keys[1:] == sorted_keys[:-1]
    shared[:-1] |= shared[1:]
    if shared.any():  # a run of equal keys: usually identical rows, else a collision
        tied = order[shared]
        columns = [X[tied, j] for j in reversed(range(X.shape[1]))]
        order[shared] = tied[np.lexsort([*columns, keys[tied]])]
    return order


def key_order(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` of 64-bit keys, by a sort of values, not indices.

    NumPy sorts plain values several times faster than it sorts indices by values.
    Each key's low bits are replaced by its row number, the packed values are
    sorted, and the row numbers read back: keys that differ in their high bits come
    out in order. Rows whose high bits are the same are then sorted by their whole
    key and row number, which gives ``argsort``'s order exactly.

    Parameters
    ----------
    keys : ndarray of uint64, shape (n_rows,)

    Returns
    -------
    ndarray of intp, shape (n_rows,)
    """
    n = len(keys)
    bits = max(1, (n - 1).bit_length())
    if n < _PACKED_SORT_MIN_ROWS or bits > _PACKED_ROW_BITS:
        return np.argsort(keys, kind="stable")
    low = np.uint64((1 << bits) - 1)
    packed = keys & ~low
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()
    order = (packed & low).astype(np.intp)
    packed >>= np.uint64(bits)  # the high bits, in order
    same = np.zeros(n, dtype=bool)
    same[1:] = packed[1:] == packed[:-1]
    same[:-1] |= same[1:]
    if same.any():  # equal high bits: by the whole key, then the row number
        rows = order[same]
        order[same] = rows[np.lexsort([rows, keys[rows]])]
    return order


def take_rows(X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``X[rows]`` for a 2-D ``X``, the same values in the same C-ordered layout, faster.

    NumPy gathers whole rows of a narrow matrix slowly (several times slower
    than gathering each column on its own, and slower still when ``X`` is
    column-major, as a table read by columns is); a reordering of millions of
    rows is column by column here.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)
    rows : ndarray of int, shape (n_out,)

    Returns
    -------
    ndarray of shape (n_out, n_features), C-contiguous
    """
    out = np.empty((len(rows), X.shape[1]), dtype=X.dtype)
    for j in range(X.shape[1]):
        out[:, j] = X[:, j].take(rows)
    return out


def put_rows(values: np.ndarray, order: np.ndarray) -> np.ndarray:
    """``values`` with the entry at position ``i`` moved to position ``order[i]``.

    What gathering by the inverse permutation (``values[np.argsort(order)]``) gives,
    without computing that permutation.

    Parameters
    ----------
    values : ndarray, shape (n, ...)
    order : ndarray of int, shape (n,)
        A permutation of ``0..n-1``.

    Returns
    -------
    ndarray
        Same shape and dtype as ``values``.
    """
    out = np.empty_like(values)
    out[order] = values
    return out
