"""Sums of float64 values that do not depend on the order the values arrive in.

A floating-point sum rounds after every addition, so the same customers read in
another order, or cut into other batches, give a total that differs in its last
bits. For a table streamed in batches that is enough to change the scaler and
the K-Means centres in their last bits, and through them every run of the K
sweep. These sums are exact until the end, then rounded once: the same rows in
any order give the same result to the last bit (the Lloyd step of
:func:`custseg.engines.kmeans.fit_kmeans_batches`, the chunked backend's
statistics, each customer's spend in a transaction log).

How: every value is ``m * 2**(e - 53)`` with an integer ``m`` of at most 53
bits (:func:`numpy.frexp`). Values are accumulated per exponent ``e`` as
integers, ``m`` split into two 26/27-bit halves so that an int64 bucket takes
2**36 values before it could overflow. The total is assembled with Python
integers (exact) and converted once, correctly rounded.

The same goes for identifying the rows: :class:`RowSetDigest` hashes a table as
a collection of rows, so a fingerprint does not depend on their order either.
"""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction

import numpy as np

__all__ = [
    "ExactSums",
    "RowSetDigest",
    "exact_group_sums",
    "exact_mean_std",
    "exact_squares",
    "mix64",
]

#: Bits of a float64 significand.
_BITS = 53
#: The low half of a significand: this many bits.
_LOW_BITS = 26
#: ``frexp`` exponents of finite float64 values lie in [-1073, 1024].
_MIN_EXPONENT = -1073
_EXPONENTS = 1024 - _MIN_EXPONENT + 1
#: Rows added by one exact float64 bincount (see :meth:`ExactSums.add`).
_ROWS_PER_CALL = 1 << 26
#: Slices of :func:`exact_group_sums` before it sums with ``math.fsum`` instead: values
#: whose magnitudes span more than about 150 bits (1e45 to 1), far beyond money figures.
_MAX_SLICES = 6

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
#: Sets the second lane of a row's hash apart from the first.
_LANE = np.uint64(0xD6E8FEB86659FD93)
#: Rows hashed at a time by :meth:`RowSetDigest.update`.
_DIGEST_BLOCK = 1 << 16


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, in place on a uint64 array (wrapping arithmetic)."""
    z += _GOLDEN
    z ^= z >> np.uint64(30)
    z *= _MIX_1
    z ^= z >> np.uint64(27)
    z *= _MIX_2
    z ^= z >> np.uint64(31)
    return z


class RowSetDigest:
    """A SHA-256 digest of a table's rows taken as a collection, not a sequence.

    Each row is hashed to two 64-bit words from its values' bits; the words are
    summed over the rows (wrapping), so the same rows in any order, or cut into
    any batches, give the same digest, and a repeated row counts twice.

    Parameters
    ----------
    header : bytes
        Hashed first (the column names, say).
    """

    def __init__(self, header: bytes) -> None:
        self._header = header
        self._sums = np.zeros(2, dtype=np.uint64)
        self._rows = 0

    def update(self, X: np.ndarray) -> None:
        """Add the rows of ``X`` (float64 values, shape (n_rows, n_features))."""
        X = np.asarray(X, dtype=np.float64)
        # In blocks: the hashing's temporary arrays stay small beside a large table.
        for start in range(0, len(X), _DIGEST_BLOCK):
            self._add_block(X[start : start + _DIGEST_BLOCK])

    def _add_block(self, X: np.ndarray) -> None:
        # -0.0 and 0.0 are the same value: give them the same bits.
        words = (np.ascontiguousarray(X) + 0.0).view(np.uint64).reshape(len(X), -1)
        h = np.full(len(X), _GOLDEN, dtype=np.uint64)
        for j in range(words.shape[1]):
            h ^= words[:, j]
            mix64(h)
        first = h.sum(dtype=np.uint64)
        h ^= _LANE
        second = mix64(h).sum(dtype=np.uint64)
        # As arrays: array arithmetic wraps silently, scalar arithmetic warns.
        self._sums += np.array([first, second], dtype=np.uint64)
        self._rows += len(X)

    def hexdigest(self) -> str:
        """The digest so far, as 64 hexadecimal digits."""
        digest = hashlib.sha256(self._header)
        digest.update(np.array([self._rows], dtype=np.uint64).tobytes())
        digest.update(self._sums.tobytes())
        return digest.hexdigest()


class ExactSums:
    """Exact per-group, per-column sums of float64 values.

    Parameters
    ----------
    n_groups : int
        Groups the rows are summed in (segments; 1 for a plain column sum).
    n_features : int
    """

    def __init__(self, n_groups: int, n_features: int) -> None:
        self.shape = (n_groups, n_features)
        self.high = np.zeros(n_groups * n_features * _EXPONENTS, dtype=np.int64)
        self.low = np.zeros_like(self.high)

    def add(self, X: np.ndarray, groups: np.ndarray | None = None) -> None:
        """Add the rows of ``X`` (finite values, shape (n_rows, n_features)) to their groups."""
        n_rows, n_features = X.shape
        if not n_rows:
            return
        mantissa, exponent = np.frexp(np.asarray(X, dtype=np.float64))
        m = np.ldexp(mantissa, _BITS).astype(np.int64)  # exact: an integer below 2**53
        high = m >> _LOW_BITS
        low = m - (high << _LOW_BITS)
        group = np.zeros(n_rows, dtype=np.int64) if groups is None else np.asarray(groups)
        cell = group[:, None] * n_features + np.arange(n_features)[None, :]
        index = (cell * _EXPONENTS + (exponent - _MIN_EXPONENT)).ravel()
        for parts, total in ((high, self.high), (low, self.low)):
            # A float64 bincount is exact here: each part is below 2**27 in magnitude,
            # so a bucket's sum stays below 2**53 for up to 2**26 rows a call.
            for start in range(0, n_rows, _ROWS_PER_CALL):
                chunk = slice(start * n_features, (start + _ROWS_PER_CALL) * n_features)
                counted = np.bincount(
                    index[chunk], weights=parts.ravel()[chunk], minlength=len(total)
                )
                total += counted.astype(np.int64)

    def exact(self) -> list[list[Fraction]]:
        """The sums as exact fractions, ``[group][feature]``."""
        n_groups, n_features = self.shape
        out = [[Fraction(0)] * n_features for _ in range(n_groups)]
        # The smallest weight is 2**(_MIN_EXPONENT - _BITS): shift everything above it.
        for flat in np.flatnonzero((self.high != 0) | (self.low != 0)):
            cell, e = divmod(int(flat), _EXPONENTS)
            value = (int(self.high[flat]) << _LOW_BITS) + int(self.low[flat])
            g, j = divmod(cell, n_features)
            out[g][j] += Fraction(value) * Fraction(2) ** (e + _MIN_EXPONENT - _BITS)
        return out

    def total(self) -> np.ndarray:
        """The sums, each rounded once to float64, shape (n_groups, n_features)."""
        return np.array([[float(v) for v in row] for row in self.exact()], dtype=np.float64)


def exact_group_sums(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Per-group sums of float64 values, each exact until rounded once.

    For many groups and one column (a log's customers), where :class:`ExactSums`
    would keep a bucket per group and exponent: hundreds of megabytes for
    thousands of groups.

    How: the values are cut into slices of 26 bits on a grid common to all of
    them, from the largest value's top bit down: ``k * 2**grid`` with an integer
    ``k`` of at most 26 bits, and the rest ``value - k * 2**grid`` (exact: the rest
    is smaller than the grid step and as fine as the value's last bit). A float64
    bincount of integers that small is exact for up to 2**26 rows. Money figures
    need three or four slices; each group's slice totals are then added with
    :func:`math.fsum`, exact and rounded once. Values spread over more slices
    (magnitudes more than about 150 bits apart), or more rows, are summed group
    by group with :func:`math.fsum` instead: the same result, more slowly.

    Parameters
    ----------
    groups : ndarray of int, shape (n_rows,)
        Each row's group, in ``range(n_groups)``.
    values : ndarray of float64, shape (n_rows,)
        Finite values.
    n_groups : int

    Returns
    -------
    ndarray of float64, shape (n_groups,)
        The sums; 0.0 for a group without rows.
    """
    groups = np.asarray(groups, dtype=np.int64)
    rest = np.asarray(values, dtype=np.float64)
    if rest.size > _ROWS_PER_CALL:
        return _fsum_per_group(groups, rest, n_groups)
    grid = int(np.frexp(np.abs(rest).max(initial=0.0))[1]) - _LOW_BITS
    slices: list[np.ndarray] = []
    while rest.any():
        if len(slices) == _MAX_SLICES or grid < _MIN_EXPONENT - 1:
            return _fsum_per_group(groups, np.asarray(values, dtype=np.float64), n_groups)
        k = np.rint(np.ldexp(rest, -grid))
        rest = rest - np.ldexp(k, grid)
        slices.append(np.ldexp(np.bincount(groups, weights=k, minlength=n_groups), grid))
        grid -= _LOW_BITS
    if len(slices) < 2:
        return slices[0] if slices else np.zeros(n_groups)
    return np.array([math.fsum(row) for row in np.column_stack(slices).tolist()])


def _fsum_per_group(groups: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """:func:`exact_group_sums` by :func:`math.fsum` of each group's values."""
    counts = np.bincount(groups, minlength=n_groups)
    ends = np.cumsum(counts)
    # fsum is exact whatever the order of its values: any sort that gathers the groups will do.
    ordered = values[np.argsort(groups, kind="stable")].tolist()
    sums = [
        math.fsum(ordered[a:b])
        for a, b in zip((ends - counts).tolist(), ends.tolist(), strict=True)
    ]
    return np.array(sums, dtype=np.float64).reshape(n_groups)


def exact_squares(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``X * X`` as two arrays whose sum is exact (Dekker's product, Veltkamp's split).

    Valid for ``|x|`` below about 1e150 (custseg refuses values beyond ±1e50).
    """
    X = np.asarray(X, dtype=np.float64)
    split = 134217729.0 * X  # 2**27 + 1
    high_half = split - (split - X)
    low_half = X - high_half
    square = X * X
    error = ((high_half * high_half - square) + 2.0 * high_half * low_half) + low_half * low_half
    return square, error


def exact_mean_std(sums: ExactSums, squares: ExactSums, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population standard deviation from exact sums of values and of squares.

    The variance ``(Q - S**2 / n) / n`` is taken in exact fractions, so the usual
    cancellation of that formula does not arise.

    Parameters
    ----------
    sums, squares : ExactSums
        One group: the sums of the values and of their squares (both parts of
        :func:`exact_squares`, for an exact variance).
    n : int
        Rows summed; at least 1.
    """
    S, Q = sums.exact()[0], squares.exact()[0]
    mean = np.array([float(s / n) for s in S])
    var = [max((q - s * s / n) / n, Fraction(0)) for s, q in zip(S, Q, strict=True)]
    return mean, np.sqrt(np.array([float(v) for v in var]))
