"""One entry point from a raw transaction log to one row of features per customer."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from custseg.errors import DataWarning, EngineError, InputError
from custseg.transactions.cleaning import clean_log
from custseg.transactions.clv import CLV_COLUMNS, INSTALL_HINT, clv_available, predict_clv
from custseg.transactions.detect import detect_log_columns
from custseg.transactions.rfm import FEATURES, customer_features

if TYPE_CHECKING:
    from custseg.transactions.clv_process import ClvProcess

__all__ = ["SUMMARY_SCHEMA_VERSION", "build_customer_features", "parse_as_of"]

SUMMARY_SCHEMA_VERSION = 1


def parse_as_of(value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """Read an ``--as-of`` date (``YYYY-MM-DD``); ``None`` stays ``None``.

    Raises
    ------
    InputError
        The value is not a date.
    """
    if value is None or isinstance(value, pd.Timestamp):
        return value
    try:
        stamp = pd.Timestamp(str(value).strip())
    except (ValueError, TypeError):
        stamp = pd.NaT
    if pd.isna(stamp):  # an empty text reads as NaT, not as an error
        raise InputError(f"--as-of must be a date like 2011-09-01; got {value!r}")
    return stamp.normalize()


def build_customer_features(
    log: pd.DataFrame,
    *,
    customer_col: str | None = None,
    date_col: str | None = None,
    amount_col: str | None = None,
    quantity_col: str | None = None,
    price_col: str | None = None,
    invoice_col: str | None = None,
    product_col: str | None = None,
    category_col: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    horizon: int = 12,
    clv: bool | Literal["auto"] = "auto",
    clv_process: ClvProcess | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Turn a transaction log into one row of behaviour features per customer.

    Parameters
    ----------
    log : DataFrame of shape (n_lines, n_columns)
        The raw log: text columns as read by
        :func:`custseg.io.transactions.read_transactions`, or typed columns.
    customer_col, date_col, amount_col, quantity_col, price_col, invoice_col,
    product_col, category_col : str, optional
        Column roles; any not given is detected from names (and, for the date,
        content). Give ``amount_col`` or both ``quantity_col`` and ``price_col``.
    as_of : str or Timestamp, optional
        Use only lines strictly before this day. Default: the day after the last
        date in the log.
    horizon : int, default 12
        Lifetime-value horizon in months.
    clv : bool or "auto", default "auto"
        Add lifetime-value columns. ``"auto"`` adds them when pymc-marketing is
        installed and the log has enough repeat buyers, and otherwise says why
        not in ``report["clv"]``; ``True`` raises instead; ``False`` skips.
    clv_process : ClvProcess, optional
        A helper process started before the log was read, to fit the lifetime-value
        models in (see :mod:`custseg.transactions.clv_process`); the result is the
        same. Default: they are fitted in this process.

    Returns
    -------
    features : DataFrame of shape (n_customers, n_features)
        One row per customer with at least one valid purchase, sorted by ID.
        The first column is the ID under the log's own column name.
    report : dict
        JSON-ready: ``schema_version``, ``columns`` (role -> column),
        ``columns_detected_by``, ``as_of``, ``cleaning``, ``customers``,
        ``features`` (column -> meaning), ``rfm_segments`` (name -> count), ``clv``.

    Raises
    ------
    SchemaError
        A column role is missing or a value is not a number.
    EmptyInputError
        No valid purchase is left.
    EngineError
        ``clv=True`` without pymc-marketing installed.
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise InputError(f"--horizon must be a whole number of months >= 1; got {horizon!r}")
    if clv not in (True, False, "auto"):
        raise InputError(f"clv must be True, False or 'auto'; got {clv!r}")
    columns = detect_log_columns(
        log,
        customer=customer_col,
        date=date_col,
        invoice=invoice_col,
        quantity=quantity_col,
        price=price_col,
        amount=amount_col,
        product=product_col,
        category=category_col,
    )
    cleaned = clean_log(log, columns, as_of=parse_as_of(as_of))
    features = customer_features(
        cleaned, customer_col=columns.customer, category_col=columns.category
    )

    clv_report: dict[str, Any] = {"status": "skipped", "horizon_months": horizon}
    if clv is False:
        clv_report["reason"] = "not requested (--no-clv)"
    elif clv == "auto" and not clv_available():
        clv_report["reason"] = f"pymc-marketing is not installed; to add it: {INSTALL_HINT}"
    else:
        try:
            predictions, info = predict_clv(cleaned, horizon_months=horizon, process=clv_process)
        except (InputError, EngineError) as exc:
            if clv is True:
                raise
            clv_report["reason"] = str(exc)
            warnings.warn(f"lifetime value skipped: {exc}", DataWarning, stacklevel=2)
        else:
            features = pd.concat([features, predictions], axis=1)
            clv_report = {"status": "fitted", **info}

    descriptions = {columns.customer: "customer ID", **FEATURES}
    if columns.category is not None:
        descriptions[columns.category] = f"most frequent '{columns.category}' over purchases"
    if clv_report["status"] == "fitted":
        descriptions.update(CLV_COLUMNS)
    segments = features["rfm_segment"].value_counts()
    report: dict[str, Any] = {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "input": {"path": log.attrs.get("source"), "lines": len(log)},
        "columns": columns.as_dict(),
        "columns_detected_by": columns.how,
        "as_of": cleaned.report["as_of"],
        "cleaning": {k: v for k, v in cleaned.report.items() if k != "as_of"},
        "customers": {
            "in_log": cleaned.report["customers_in_log"],
            "with_purchase": len(features),
            "without_purchase": cleaned.report["customers_without_purchase"]["customers"],
        },
        "features": {c: descriptions[c] for c in features.columns if c in descriptions},
        "rfm_segments": {str(k): int(v) for k, v in segments.items()},
        "clv": clv_report,
    }
    return features, report
