"""Properties of random small logs: no traceback, and no customer with a purchase lost."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custseg.errors import InputError
from custseg.transactions import build_customer_features

customers = st.sampled_from(["1", "2", "03", " 4 ", "", "x9"])
dates = st.sampled_from(
    ["2024-01-01", "2024-01-02 10:00:00", "05/01/2024", "", "soon", "2024-02-30"]
)
quantities = st.sampled_from(["1", "3", "-2", "0", "", "2.5"])
prices = st.sampled_from(["1.50", "0", "-1", "", "$2.00", "10"])
invoices = st.sampled_from(["100", "101", "C102", "c103", ""])

lines = st.lists(st.tuples(invoices, customers, dates, quantities, prices), min_size=1, max_size=25)


def _valid_buyers(frame: pd.DataFrame) -> set[str]:
    """Customers with a line that is a purchase, worked out independently of custseg."""
    dates = pd.to_datetime(frame["InvoiceDate"], format="mixed", dayfirst=True, errors="coerce")
    price = pd.to_numeric(frame["UnitPrice"].str.replace("$", ""), errors="coerce")
    qty = pd.to_numeric(frame["Quantity"], errors="coerce")
    ok = (
        frame["CustomerID"].str.strip().ne("")
        & dates.notna()
        & (qty > 0)
        & (price > 0)
        & ~frame["InvoiceNo"].str.upper().str.startswith("C")
    )
    return set(frame.loc[ok, "CustomerID"].str.strip())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines)
def test_random_logs_segment_or_fail_cleanly_and_keep_every_buyer(rows):
    frame = pd.DataFrame(
        rows, columns=["InvoiceNo", "CustomerID", "InvoiceDate", "Quantity", "UnitPrice"]
    )
    try:
        features, report = build_customer_features(frame, clv=False)
    except InputError:
        assert not _valid_buyers(frame)
        return
    assert set(features["CustomerID"]) == _valid_buyers(frame)
    counts = {r["rule"]: r["lines"] for r in report["cleaning"]["rules"]}
    removed = sum(
        v for k, v in counts.items() if k not in ("cancelled_invoice", "negative_quantity")
    )
    cleaning = report["cleaning"]
    assert removed + cleaning["returns"] + cleaning["purchases"] == len(frame)
    assert features["r_score"].between(1, 5).all()
