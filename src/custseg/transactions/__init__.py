"""From a transaction log to per-customer behaviour: cleaning, RFM, lifetime value.

``build_customer_features(log_df)`` is the entry point; the modules behind it
are ``detect`` (column roles), ``cleaning`` (counted cleaning rules), ``rfm``
(features and RFM scores), ``clv`` (BG/NBD + Gamma-Gamma, optional extra) and
``behaviour`` (``segment_transactions``: log to named behaviour segments).
Nothing here prints; only ``segment_transactions`` reads a file, through
:mod:`custseg.io.transactions`, when given a path.
"""

import typing

from custseg._lazy import attach as _attach

if typing.TYPE_CHECKING:
    from custseg.transactions.behaviour import (
        BEHAVIOUR_FEATURES,
        BEHAVIOUR_VOCABULARY,
        behaviour_table,
        segment_transactions,
    )
    from custseg.transactions.cleaning import RULES, CleanLog, clean_log
    from custseg.transactions.clv import CLV_COLUMNS, predict_clv
    from custseg.transactions.clv_extra import INSTALL_HINT, clv_available
    from custseg.transactions.detect import ROLES, LogColumns, detect_log_columns
    from custseg.transactions.features import build_customer_features, parse_as_of
    from custseg.transactions.rfm import FEATURES, RFM_GRID, customer_features, rfm_scores

__getattr__, __dir__ = _attach(__name__)

__all__ = [
    "BEHAVIOUR_FEATURES",
    "BEHAVIOUR_VOCABULARY",
    "CLV_COLUMNS",
    "FEATURES",
    "INSTALL_HINT",
    "RFM_GRID",
    "ROLES",
    "RULES",
    "CleanLog",
    "LogColumns",
    "behaviour_table",
    "build_customer_features",
    "clean_log",
    "clv_available",
    "customer_features",
    "detect_log_columns",
    "parse_as_of",
    "predict_clv",
    "rfm_scores",
    "segment_transactions",
]
