"""Column means and standard deviations equal to NumPy's, to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

from custseg.features.columns import column_mean, column_mean_std


def _tall(n: int, d: int, seed: int = 0) -> np.ndarray:
    """Values of very different sizes, so that the order of the additions shows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(100, 30, (n, d)) * rng.random((n, 1)) ** 7 + rng.normal(0, 1e6, (1, d))
    X[rng.random(n) < 0.01, 0] = -0.0
    return X


@pytest.mark.parametrize("n", [10, 65_536, 131_072, 131_073, 400_001])
@pytest.mark.parametrize("d", [2, 3, 11])
def test_row_major_matrices_give_numpys_bits(n, d):
    X = _tall(n, d)
    mean, std = column_mean_std(X)
    assert mean.tobytes() == X.mean(axis=0).tobytes()
    assert std.tobytes() == X.std(axis=0).tobytes()
    assert column_mean(X).tobytes() == X.mean(axis=0).tobytes()


@pytest.mark.parametrize(
    "layout",
    [np.asfortranarray, lambda X: X[:, :1].copy(), lambda X: X[::2], lambda X: X.astype("f4")],
)
def test_other_layouts_and_types_go_to_numpy(layout):
    X = layout(_tall(200_000, 3))
    mean, std = column_mean_std(X)
    assert mean.tobytes() == X.mean(axis=0).tobytes()
    assert std.tobytes() == X.std(axis=0).tobytes()


def test_a_column_of_negative_zeros_sums_to_zero_as_in_numpy():
    X = np.zeros((100_000, 2))
    X[:, 0] = -0.0
    mean, std = column_mean_std(X)
    assert np.signbit(mean).tolist() == np.signbit(X.mean(axis=0)).tolist()
    assert std.tobytes() == X.std(axis=0).tobytes()
