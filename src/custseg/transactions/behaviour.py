"""From a raw transaction log to named behaviour segments in one call.

``segment_transactions(log)`` builds the per-customer features of
:func:`~custseg.transactions.features.build_customer_features`, then segments
customers on how recently, how often and how much they buy, with the core
pipeline (:func:`custseg.segmentation.segmenter.segment`).

Behaviour data is heavily skewed: a few customers order a hundred times and
spend a hundred times the median. Clustering raw spend would give one segment
of outliers and one of everybody else, so frequency and spend are log-scaled
before the usual standard scaling:

* ``log_frequency`` = ln(1 + frequency)
* ``log_monetary`` = sign(m) * ln(1 + |m|), so a net spend of zero or below
  (everything returned) stays defined.

Recency is bounded by the length of the log and is used as it is. Segment
names come from a behaviour vocabulary ("Lapsed", "Frequent buyers", "High
spenders"), joined by the core naming rule (see :mod:`custseg.features.profiles`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from custseg.errors import InputError
from custseg.io.transactions import read_transactions
from custseg.options import SegmentOptions
from custseg.segmentation.segmenter import segment
from custseg.transactions.features import build_customer_features

__all__ = [
    "BEHAVIOUR_FEATURES",
    "BEHAVIOUR_VOCABULARY",
    "behaviour_table",
    "segment_transactions",
]

#: The default segmentation features of a transaction log.
BEHAVIOUR_FEATURES: list[str] = ["recency_days", "log_frequency", "log_monetary"]

#: Words for the low and high side of each behaviour feature.
BEHAVIOUR_VOCABULARY: dict[str, tuple[str, str]] = {
    "recency_days": ("Recent", "Lapsed"),
    "log_frequency": ("One-time buyers", "Frequent buyers"),
    "frequency": ("One-time buyers", "Frequent buyers"),
    "log_monetary": ("Low spenders", "High spenders"),
    "monetary": ("Low spenders", "High spenders"),
    "tenure_days": ("New", "Long-standing"),
    "log_avg_order_value": ("Small baskets", "Big baskets"),
    "avg_order_value": ("Small baskets", "Big baskets"),
    "return_rate": ("Rarely return", "Often return"),
    "p_alive": ("Likely gone", "Likely active"),
    "log_predicted_clv": ("Low future value", "High future value"),
    "predicted_clv": ("Low future value", "High future value"),
}

_LOGGED = {
    "log_frequency": "frequency",
    "log_monetary": "monetary",
    "log_avg_order_value": "avg_order_value",
    "log_predicted_clv": "predicted_clv",
}

SCALING_NOTE = (
    "Behaviour features: recency_days, log_frequency = ln(1 + frequency), "
    "log_monetary = sign · ln(1 + |net spend|); frequency and spend are log-scaled because "
    "they are heavily skewed, then every feature is scaled as --scaling says."
)


def _signed_log(values: pd.Series) -> np.ndarray:
    x = values.to_numpy(dtype=float)
    return np.round(np.sign(x) * np.log1p(np.abs(x)), 6)


def behaviour_table(features: pd.DataFrame) -> pd.DataFrame:
    """Add the log-scaled columns (``log_frequency``, ``log_monetary``, ...) to a features table.

    Parameters
    ----------
    features : DataFrame of shape (n_customers, n_features)
        As returned by :func:`~custseg.transactions.features.build_customer_features`.

    Returns
    -------
    DataFrame of shape (n_customers, n_features + n_logged)
        A copy with each ``log_<name>`` column placed after ``<name>``.
    """
    table = features.copy()
    for logged, source in _LOGGED.items():
        if source in table.columns:
            table.insert(table.columns.get_loc(source) + 1, logged, _signed_log(table[source]))
    return table


def segment_transactions(
    data: pd.DataFrame | str | Path,
    *,
    features: list[str] | None = None,
    id_column: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    clv: bool = False,
    vocabulary: dict[str, tuple[str, str]] | None = None,
    options: SegmentOptions | None = None,
    **params: Any,
) -> Any:
    """Segment the customers of a transaction log by their behaviour.

    Parameters
    ----------
    data : DataFrame, str or Path
        The raw log, or a path readable by
        :func:`custseg.io.transactions.read_transactions`.
    features : list of str, optional
        Columns of the behaviour table to segment on. Default
        :data:`BEHAVIOUR_FEATURES` (recency, log frequency, log spend).
    id_column : str, optional
        The log's customer ID column; detected when not given.
    as_of : str or Timestamp, optional
        Use only lines before this day (see ``build_customer_features``).
    clv : bool, default False
        Add lifetime-value columns first (needs ``custseg[clv]``; slower).
    vocabulary : mapping, optional
        Naming words merged over :data:`BEHAVIOUR_VOCABULARY`.
    options : SegmentOptions, optional
        The other options of the run (``k``, ``scaling``, ``random_state``, ...).
    **params
        Passed to :func:`custseg.segmentation.segmenter.segment`: option values on top
        of ``options``, ``progress``, ``previous``.

    Returns
    -------
    SegmentationResult
        As from :func:`custseg.segmentation.segmenter.segment`, on one row per customer (the
        behaviour table); ``summary["transactions"]`` holds the features report,
        the log scaling and a one-line ``note`` saying so.

    Raises
    ------
    InputError
        As ``build_customer_features`` and the pipeline do; also for a feature
        that is not a column of the behaviour table.
    """
    log = read_transactions(data) if isinstance(data, str | Path) else data
    customers, report = build_customer_features(log, customer_col=id_column, as_of=as_of, clv=clv)
    table = behaviour_table(customers)
    table.attrs["source"] = str(log.attrs.get("source", "transaction log"))
    chosen = features or [c for c in BEHAVIOUR_FEATURES if c in table.columns]
    unknown = [c for c in chosen if c not in table.columns]
    if unknown:
        raise InputError(
            f"--features {', '.join(map(repr, unknown))} not among the behaviour features of "
            f"a transaction log; choose from: {', '.join(table.columns[1:])}"
        )
    if options is None:
        # The behaviour features are on a log scale already: no second transform unless asked.
        params.setdefault("transform", "none")
    result = segment(
        table,
        options,
        features=chosen,
        id_column=table.columns[0],
        vocabulary={**BEHAVIOUR_VOCABULARY, **(vocabulary or {})},
        **params,
    )
    logged = {c: f"log of '{_LOGGED[c]}'" for c in chosen if c in _LOGGED}
    result.summary["transactions"] = {
        "note": SCALING_NOTE,
        "log_scaled": logged,
        "features_report": report,
    }
    return result
