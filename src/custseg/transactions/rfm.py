"""Per-customer behaviour features and classic RFM scores from cleaned log lines.

Definitions (days are calendar days; the as-of day is excluded from the data):

==============================  =================================================================
recency_days                    as-of day minus the day of the last purchase
frequency                       distinct purchase orders (invoices; without an invoice column,
                                distinct purchase timestamps)
monetary                        net spend: purchase value minus returned value
avg_order_value                 purchase value (before returns) divided by ``frequency``
tenure_days                     as-of day minus the day of the first purchase
mean_days_between_purchases     (last purchase day - first purchase day) / (frequency - 1);
                                empty for a customer with a single order
distinct_products               distinct products bought (with a product column)
return_rate                     return orders / (purchase orders + return orders)
<category column>               the customer's most frequent value over purchase lines (ties: the
                                alphabetically first)
first_purchase, last_purchase   ISO dates
r_score, f_score, m_score       quintile scores 1-5 of recency (recent is 5), frequency and
                                monetary: ``ceil(5 * rank / n)``, tied values sharing the
                                lowest rank of their group (so they share a score)
rfm_score                       the three scores as text, e.g. ``"545"``
rfm_segment                     the named segment of the classic R x F grid, see RFM_GRID
==============================  =================================================================
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from custseg.engines.exact_sums import exact_group_sums
from custseg.transactions.cleaning import CleanLog

__all__ = ["FEATURES", "RFM_GRID", "customer_features", "rfm_scores", "rfm_segment"]

#: Output feature columns and their meaning (the category column is added by name).
FEATURES: dict[str, str] = {
    "recency_days": "days from the last purchase to the as-of date",
    "frequency": "distinct purchase orders",
    "monetary": "net spend: purchases minus returns",
    "avg_order_value": "purchase value per order, before returns",
    "tenure_days": "days from the first purchase to the as-of date",
    "mean_days_between_purchases": "mean days between orders; empty for a single order",
    "distinct_products": "distinct products bought",
    "return_rate": "share of the customer's orders that are returns or cancellations",
    "first_purchase": "date of the first purchase",
    "last_purchase": "date of the last purchase",
    "r_score": "recency quintile, 5 = most recent",
    "f_score": "frequency quintile, 5 = most orders",
    "m_score": "monetary quintile, 5 = highest net spend",
    "rfm_score": "the three scores as text",
    "rfm_segment": "named segment of the classic R x F grid",
}

#: The widely used RFM segment map: (R scores, F scores) -> name. Every one of the
#: 25 (R, F) cells falls in exactly one entry.
RFM_GRID: tuple[tuple[tuple[int, ...], tuple[int, ...], str], ...] = (
    ((5,), (4, 5), "Champions"),
    ((3, 4), (4, 5), "Loyal customers"),
    ((4, 5), (2, 3), "Potential loyalists"),
    ((5,), (1,), "New customers"),
    ((4,), (1,), "Promising"),
    ((3,), (3,), "Need attention"),
    ((3,), (1, 2), "About to sleep"),
    ((1, 2), (5,), "Can't lose them"),
    ((1, 2), (3, 4), "At risk"),
    ((1, 2), (1, 2), "Hibernating"),
)

_GRID = {(r, f): name for rs, fs, name in RFM_GRID for r in rs for f in fs}


def rfm_segment(r_score: int, f_score: int) -> str:
    """Return the named RFM segment of an (R, F) score pair, each 1-5."""
    return _GRID[(int(r_score), int(f_score))]


def _quintile(values: np.ndarray) -> np.ndarray:
    """Score 1-5 as ``ceil(5 * rank / n)``: the top fifth is 5, the best customer always 5.

    Tied values take the lowest rank of their group, so equal values always get
    equal scores, the scores do not depend on the order of the rows, and a large
    tie (a third of customers who ordered once) does not push the next group past
    a score.
    """
    n = len(values)
    ranks = pd.Series(values).rank(method="min").to_numpy()
    return np.clip(np.ceil(5 * ranks / max(n, 1)), 1, 5).astype(np.int64)


def rfm_scores(recency: np.ndarray, frequency: np.ndarray, monetary: np.ndarray) -> pd.DataFrame:
    """Classic RFM quintile scores and segment names.

    Parameters
    ----------
    recency, frequency, monetary : ndarray of shape (n_customers,)

    Returns
    -------
    DataFrame of shape (n_customers, 5)
        ``r_score``, ``f_score``, ``m_score`` (int 1-5; recent, frequent and
        high spend score 5), ``rfm_score`` (str) and ``rfm_segment`` (str).
    """
    r = _quintile(-np.asarray(recency, dtype=float))
    f = _quintile(np.asarray(frequency, dtype=float))
    m = _quintile(np.asarray(monetary, dtype=float))
    return pd.DataFrame(
        {
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "rfm_score": [f"{a}{b}{c}" for a, b, c in zip(r, f, m, strict=True)],
            "rfm_segment": [_GRID[(a, b)] for a, b in zip(r, f, strict=True)],
        }
    )


def _distinct_per_customer(customer: np.ndarray, code: np.ndarray, n: int) -> np.ndarray:
    """Count distinct non-negative ``code`` values per customer code in ``range(n)``."""
    known = code >= 0  # -1 is a missing value (no product written on the line)
    customer, code = customer[known], code[known]
    if customer.size == 0:
        return np.zeros(n, dtype=np.int64)
    width = int(code.max()) + 1
    unique = pd.unique(customer * width + code)  # hashing: faster than np.unique's sort
    return np.bincount(unique // width, minlength=n)


def _most_frequent(customer: np.ndarray, category: np.ndarray, n: int) -> np.ndarray:
    """Per customer, the most frequent category code (-1 if none); ties go to the lower code."""
    out = np.full(n, -1, dtype=np.int64)
    ok = category >= 0
    customer, category = customer[ok], category[ok]
    if customer.size == 0:
        return out
    width = int(category.max()) + 1
    keys, counts = np.unique(customer * width + category, return_counts=True)
    cust, cat = keys // width, keys % width
    order = np.lexsort((cat, -counts, cust))
    first = np.r_[True, cust[order][1:] != cust[order][:-1]]
    out[cust[order][first]] = cat[order][first]
    return out


def customer_features(
    log: CleanLog, *, customer_col: str = "customer_id", category_col: str | None = None
) -> pd.DataFrame:
    """Compute the behaviour features of every customer with a purchase.

    Parameters
    ----------
    log : CleanLog
        Cleaned lines (see :func:`~custseg.transactions.cleaning.clean_log`).
        Trusted as built there: every customer has at least one purchase.
    customer_col : str, default "customer_id"
        Name of the output's ID column (the log's own name, normally).
    category_col : str, optional
        Name of the most-frequent-category column; required when the log has one.

    Returns
    -------
    DataFrame of shape (n_customers, n_features + 1)
        One row per customer, in ``log.customers`` order; columns as in the module
        docstring (``distinct_products`` and the category only when the log has them).
    """
    n = len(log.customers)
    buy = ~log.is_return
    cust_b, day_b, value_b = log.customer[buy], log.day[buy], log.value[buy]
    ret = log.is_return
    as_of_day = int(log.as_of.value // 86_400_000_000_000)

    first_day = np.full(n, np.iinfo(np.int64).max)
    last_day = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(first_day, cust_b, day_b)
    np.maximum.at(last_day, cust_b, day_b)
    orders = _distinct_per_customer(cust_b, log.order[buy], n)
    return_orders = _distinct_per_customer(log.customer[ret], log.order[ret], n)
    # Exact sums: a running float sum depends on the order of the lines, and a
    # shuffled log would move some customers' spend by a cent once rounded.
    gross = exact_group_sums(cust_b, value_b, n)
    returned = exact_group_sums(log.customer[ret], -log.value[ret], n)

    with np.errstate(invalid="ignore", divide="ignore"):
        between = np.where(orders > 1, (last_day - first_day) / (orders - 1), np.nan)
    frame = pd.DataFrame(
        {
            customer_col: log.customers,
            "recency_days": as_of_day - last_day,
            "frequency": orders,
            # + 0.0: returns that cancel the purchases but for the last bit write 0.0, not -0.0
            "monetary": np.round(gross - returned, 2) + 0.0,
            "avg_order_value": np.round(gross / orders, 2),
            "tenure_days": as_of_day - first_day,
            "mean_days_between_purchases": np.round(between, 2),
        }
    )
    if log.product is not None:
        frame["distinct_products"] = _distinct_per_customer(cust_b, log.product[buy], n)
    frame["return_rate"] = np.round(return_orders / (orders + return_orders), 4)
    if log.category is not None and log.categories is not None:
        top = _most_frequent(cust_b, log.category[buy], n)
        labels = np.append(log.categories, "")
        frame[category_col or "category"] = labels[top]  # -1 picks the trailing ""
    frame["first_purchase"] = first_day.astype("datetime64[D]").astype(str)
    frame["last_purchase"] = last_day.astype("datetime64[D]").astype(str)
    scores = rfm_scores(frame["recency_days"], frame["frequency"], frame["monetary"])
    return pd.concat([frame, scores], axis=1)
