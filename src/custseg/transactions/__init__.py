"""From a transaction log to per-customer behaviour: cleaning, RFM, lifetime value.

``build_customer_features(log_df)`` is the entry point; the modules behind it
are ``detect`` (column roles), ``cleaning`` (counted cleaning rules), ``rfm``
(features and RFM scores) and ``clv`` (BG/NBD + Gamma-Gamma, optional extra).
All functions are pure: they read no file and print nothing.
"""

from custseg.transactions.cleaning import RULES, CleanLog, clean_log
from custseg.transactions.clv import CLV_COLUMNS, INSTALL_HINT, clv_available, predict_clv
from custseg.transactions.detect import ROLES, LogColumns, detect_log_columns
from custseg.transactions.features import build_customer_features, parse_as_of
from custseg.transactions.rfm import FEATURES, RFM_GRID, customer_features, rfm_scores

__all__ = [
    "CLV_COLUMNS",
    "FEATURES",
    "INSTALL_HINT",
    "RFM_GRID",
    "ROLES",
    "RULES",
    "CleanLog",
    "LogColumns",
    "build_customer_features",
    "clean_log",
    "clv_available",
    "customer_features",
    "detect_log_columns",
    "parse_as_of",
    "predict_clv",
    "rfm_scores",
]
