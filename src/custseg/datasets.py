"""Seeded sample data made by custseg itself, for the demo, tests, docs and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CUSTOMER_COLUMNS", "make_customers"]

CUSTOMER_COLUMNS = ["CustomerID", "Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)"]

# Five shopper groups in the spirit of the classic mall data: share, age (mean, sd),
# income k$ (mean, sd), spending score (mean, sd).
_GROUPS = [
    (0.40, (43, 14), (55, 9), (50, 7)),   # middle income, middle spending
    (0.20, (33, 4), (87, 14), (82, 8)),   # affluent big spenders
    (0.18, (41, 11), (88, 15), (17, 9)),  # affluent, careful
    (0.11, (25, 5), (26, 7), (79, 9)),    # young, modest income, spend freely
    (0.11, (45, 13), (26, 7), (21, 12)),  # modest income, careful
]


def make_customers(n_rows: int = 200, *, random_state: int = 0) -> pd.DataFrame:
    """A realistic mall-customer table in the classic notebook's schema.

    Parameters
    ----------
    n_rows : int, default=200
    random_state : int, default=0
        Same value, same table, byte for byte.

    Returns
    -------
    DataFrame of shape (n_rows, 5)
        ``CustomerID`` (zero-padded text), ``Gender`` (Female/Male), ``Age`` (18-70),
        ``Annual Income (k$)`` (15-140), ``Spending Score (1-100)`` (1-99), all
        whole numbers.
    """
    if n_rows < 1:
        raise ValueError(f"n_rows must be at least 1; got {n_rows}")
    rng = np.random.default_rng(random_state)
    shares = np.array([g[0] for g in _GROUPS])
    group = rng.choice(len(_GROUPS), size=n_rows, p=shares / shares.sum())
    params = np.array([[*g[1], *g[2], *g[3]] for g in _GROUPS], dtype=float)
    p = params[group]
    noise = rng.standard_normal((n_rows, 3))
    age = np.clip(np.rint(p[:, 0] + p[:, 1] * noise[:, 0]), 18, 70)
    income = np.clip(np.rint(p[:, 2] + p[:, 3] * noise[:, 1]), 15, 140)
    spending = np.clip(np.rint(p[:, 4] + p[:, 5] * noise[:, 2]), 1, 99)
    gender = np.where(rng.random(n_rows) < 0.56, "Female", "Male")
    width = max(4, len(str(n_rows)))
    return pd.DataFrame(
        {
            "CustomerID": [str(i).zfill(width) for i in range(1, n_rows + 1)],
            "Gender": gender,
            "Age": age.astype("int64"),
            "Annual Income (k$)": income.astype("int64"),
            "Spending Score (1-100)": spending.astype("int64"),
        }
    )
