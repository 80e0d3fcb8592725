"""Seeded sample data made by custseg itself, for the demo, tests, docs and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["CUSTOMER_COLUMNS", "make_customers"]

CUSTOMER_COLUMNS = ["CustomerID", "Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)"]

# Five shopper groups in the spirit of the classic mall data: share, age (mean, sd),
# income k$ (mean, sd), spending score (mean, sd).
_GROUPS = [
    (0.40, (43, 14), (55, 9), (50, 7)),  # middle income, middle spending
    (0.20, (33, 4), (87, 14), (82, 8)),  # affluent big spenders
    (0.18, (41, 11), (88, 15), (17, 9)),  # affluent, careful
    (0.11, (25, 5), (26, 7), (79, 9)),  # young, modest income, spend freely
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


def make_blobs_customers(
    n_rows: int,
    n_features: int = 3,
    n_clusters: int = 5,
    *,
    random_state: int = 0,
    separation: float = 6.0,
) -> pd.DataFrame:
    """A big synthetic customer table with known, well-separated groups (benchmarks, tests).

    Parameters
    ----------
    n_rows : int
        Customers; ten million take a few seconds to generate.
    n_features : int, default=3
        Numeric columns: ``Age``, ``Annual Income (k$)``, ``Spending Score (1-100)``,
        then ``Feature 4``, ``Feature 5``, ...
    n_clusters : int, default=5
        Groups; each centre is at least ``separation`` within-group standard
        deviations from every other.
    random_state : int, default=0
        Same value, same table, byte for byte.
    separation : float, default=6.0

    Returns
    -------
    DataFrame of shape (n_rows, 1 + n_features)
        ``CustomerID`` (zero-padded text, Arrow-backed) and the feature columns
        (float64 rounded to 2 decimals, around 100 with a spread of tens), plus
        ``attrs["true_labels"]``, the group of each row.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if n_rows < 1 or n_features < 1 or n_clusters < 1:
        raise ValueError(
            f"n_rows, n_features and n_clusters must be at least 1; got {n_rows}, "
            f"{n_features}, {n_clusters}"
        )
    rng = np.random.default_rng(random_state)
    centers = np.empty((0, n_features))
    box = separation * max(1.0, n_clusters ** (1 / n_features))
    while len(centers) < n_clusters:  # rejection sampling keeps the groups apart
        candidate = rng.uniform(-box, box, size=(1, n_features))
        if not len(centers) or np.min(np.linalg.norm(centers - candidate, axis=1)) >= separation:
            centers = np.vstack([centers, candidate])
    shares = rng.dirichlet(np.full(n_clusters, 5.0))
    group = rng.choice(n_clusters, size=n_rows, p=shares)
    values = centers[group] + rng.standard_normal((n_rows, n_features))
    values = np.round(100.0 + 5.0 * values, 2)
    names = [*CUSTOMER_COLUMNS[2:5], *(f"Feature {j + 1}" for j in range(3, n_features))]
    width = max(4, len(str(n_rows)))
    ids = pc.utf8_lpad(pc.cast(pa.array(np.arange(1, n_rows + 1)), pa.string()), width, "0")
    frame = pd.DataFrame({"CustomerID": pd.array(ids, dtype=pd.ArrowDtype(pa.string()))})
    for j, name in enumerate(names[:n_features]):
        frame[name] = values[:, j]
    frame.attrs["true_labels"] = group
    return frame


__all__.append("make_blobs_customers")


TRANSACTION_COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]

# Behaviour groups of an online shop: share, orders per month while active, monthly
# chance of leaving, mean line value scale, and whether they start late in the year.
_BEHAVIOURS = [
    (0.15, 3.0, 0.02, 3.0),  # frequent, loyal, big baskets
    (0.35, 1.0, 0.05, 1.0),  # regulars
    (0.30, 0.3, 0.30, 0.8),  # occasional, most leave soon
    (0.20, 0.6, 0.60, 0.6),  # try once or twice, then lapse
]
_COUNTRIES = (["United Kingdom"] * 8) + ["Germany", "France"]


def make_transactions(
    n_customers: int = 200,
    *,
    start: str = "2024-01-01",
    months: int = 12,
    return_rate: float = 0.03,
    random_state: int = 0,
) -> pd.DataFrame:
    """A realistic online-shop transaction log, in the UCI Online Retail schema.

    Customers follow four behaviour groups (frequent big spenders, regulars,
    occasional buyers, one-or-two-time buyers), each with its own order rate,
    chance of lapsing and basket value. Each order has 1-6 lines; a share of
    orders is later cancelled by an invoice ``C<number>`` with negative quantities.

    Parameters
    ----------
    n_customers : int, default=200
    start : str, default="2024-01-01"
        First day of the log.
    months : int, default=12
        Length of the log, in months of 30 days.
    return_rate : float, default=0.03
        Share of orders cancelled afterwards.
    random_state : int, default=0
        Same value, same log, byte for byte.

    Returns
    -------
    DataFrame of shape (n_lines, 7)
        ``InvoiceNo`` (text), ``StockCode`` (text), ``Quantity`` (int),
        ``InvoiceDate`` (text ``YYYY-MM-DD HH:MM:SS``), ``UnitPrice`` (float),
        ``CustomerID`` (int), ``Country`` (text), ordered by date.
    """
    if n_customers < 1:
        raise ValueError(f"n_customers must be at least 1; got {n_customers}")
    if months < 1:
        raise ValueError(f"months must be at least 1; got {months}")
    rng = np.random.default_rng(random_state)
    days = months * 30
    origin = pd.Timestamp(start).normalize()
    shares = np.array([b[0] for b in _BEHAVIOURS])
    group = rng.choice(len(_BEHAVIOURS), size=n_customers, p=shares / shares.sum())
    products = [f"{20000 + i}" for i in range(300)]
    prices = np.round(rng.lognormal(1.0, 0.6, size=len(products)), 2)
    lines: list[tuple] = []
    invoice = 500000
    for c in range(n_customers):
        _, rate, leave, scale = _BEHAVIOURS[group[c]]
        t = rng.uniform(0, days * 0.9)
        country = _COUNTRIES[rng.integers(len(_COUNTRIES))]
        first = True
        while t < days:
            invoice += 1
            stamp = origin + pd.Timedelta(seconds=int(t * 86400) // 60 * 60)
            n_lines = int(rng.integers(1, 7))
            picks = rng.choice(len(products), size=n_lines, replace=False)
            qty = np.maximum(1, rng.poisson(6 * scale, size=n_lines))
            order = [
                (f"{invoice}", products[p], int(q), stamp, float(prices[p]), 12000 + c, country)
                for p, q in zip(picks, qty, strict=True)
            ]
            lines.extend(order)
            if rng.random() < return_rate:
                invoice += 1
                later = stamp + pd.Timedelta(days=int(rng.integers(1, 20)))
                if later < origin + pd.Timedelta(days=days):
                    _, code, q, _, price, cust, ctry = order[0]
                    lines.append((f"C{invoice}", code, -q, later, price, cust, ctry))
            if not first and rng.random() < leave:
                break
            first = False
            t += rng.exponential(30 / rate)
    frame = pd.DataFrame(lines, columns=TRANSACTION_COLUMNS)
    frame = frame.sort_values("InvoiceDate", kind="stable").reset_index(drop=True)
    frame["InvoiceDate"] = frame["InvoiceDate"].dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame


__all__.append("make_transactions")


WHOLESALE_SPEND = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
# Three kinds of wholesale client: share, channel (1 = hotel/restaurant/cafe,
# 2 = retail) and median annual spend per category, in monetary units.
_WHOLESALE_GROUPS = [
    (0.45, 1, (12000, 3000, 3500, 3000, 500, 1000)),  # restaurants: fresh and frozen food
    (0.23, 1, (3000, 1500, 2000, 800, 300, 400)),  # small cafes: a little of everything
    (0.32, 2, (5000, 8000, 14000, 1200, 6000, 1500)),  # shops: groceries, milk, detergents
]
# A few extreme clients (row, category, factor): the kind no segment should be built on.
_WHOLESALE_EXTREMES = [(0, 0, 12.0), (1, 2, 8.0), (1, 1, 8.0), (2, 5, 40.0)]


def make_wholesale_customers(n_rows: int = 440, *, random_state: int = 0) -> pd.DataFrame:
    """A wholesale distributor's clients: annual spend per category, channel and region codes.

    In the spirit of the classic wholesale-customers table: spend is log-normal
    (piled up near zero, a long right tail), ``Channel`` (1/2) and ``Region``
    (1/2/3) are codes, not amounts, and the first three clients are extreme
    (one buys twelve times the usual fresh food). Three kinds of client make
    the structure: restaurants, small cafes and shops.

    Parameters
    ----------
    n_rows : int, default=440
        At least 3.
    random_state : int, default=0
        Same value, same table, byte for byte.

    Returns
    -------
    DataFrame of shape (n_rows, 8)
        ``Channel``, ``Region`` and the whole-number spend columns of
        :data:`WHOLESALE_SPEND`.
    """
    if n_rows < 3:
        raise ValueError(f"n_rows must be at least 3; got {n_rows}")
    rng = np.random.default_rng(random_state)
    shares = np.array([g[0] for g in _WHOLESALE_GROUPS])
    group = rng.choice(len(_WHOLESALE_GROUPS), size=n_rows, p=shares)
    medians = np.array([g[2] for g in _WHOLESALE_GROUPS], dtype=float)[group]
    spend = medians * np.exp(0.7 * rng.standard_normal((n_rows, len(WHOLESALE_SPEND))))
    for row, col, factor in _WHOLESALE_EXTREMES:
        spend[row, col] *= factor
    region = rng.choice([1, 2, 3], size=n_rows, p=[0.18, 0.11, 0.71])
    frame = pd.DataFrame(
        {
            "Channel": np.array([g[1] for g in _WHOLESALE_GROUPS])[group],
            "Region": region,
        }
    )
    for j, name in enumerate(WHOLESALE_SPEND):
        frame[name] = np.maximum(np.rint(spend[:, j]), 3).astype("int64")
    return frame


__all__.append("make_wholesale_customers")
