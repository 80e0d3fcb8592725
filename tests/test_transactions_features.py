"""Per-customer features on a small log whose every value is checked by hand."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from custseg.datasets import make_transactions
from custseg.errors import InputError
from custseg.transactions import RFM_GRID, build_customer_features, rfm_scores
from custseg.transactions.rfm import rfm_segment

COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]

# Customer 101: two orders (30 + 20), then cancels 2 x 5.00 the next day.
# Customer 99: a single order of 100.00, written twice (an exact duplicate).
# Customer 102: three orders, 29 days from first to last.
# Then one line per cleaning rule: no customer, bad date, zero price, a return by a
# customer (104) who never bought.
LINES = [
    ("1001", "P1", "2", "2024-01-01 10:00:00", "5.00", "101", "United Kingdom"),
    ("1001", "P2", "1", "2024-01-01 10:00:00", "20.00", "101", "United Kingdom"),
    ("1002", "P1", "4", "2024-01-11 09:00:00", "5.00", "101", "France"),
    ("C1003", "P1", "-2", "2024-01-12 12:00:00", "5.00", "101", "United Kingdom"),
    ("1004", "P3", "1", "2024-01-05 08:00:00", "100.00", "99", "Germany"),
    ("1004", "P3", "1", "2024-01-05 08:00:00", "100.00", "99", "Germany"),
    ("1005", "P2", "1", "2024-01-02 11:00:00", "20.00", "102", "United Kingdom"),
    ("1006", "P2", "1", "2024-01-16 11:00:00", "20.00", "102", "United Kingdom"),
    ("1007", "P4", "3", "2024-01-31 15:00:00", "2.50", "102", "United Kingdom"),
    ("1008", "P1", "1", "2024-01-20", "5.00", "", "United Kingdom"),
    ("1009", "P1", "1", "not a date", "5.00", "103", "United Kingdom"),
    ("1010", "P5", "5", "2024-01-21 10:00:00", "0.00", "102", "United Kingdom"),
    ("C1011", "P9", "-1", "2024-01-22 10:00:00", "3.00", "104", "United Kingdom"),
]


@pytest.fixture
def log() -> pd.DataFrame:
    return pd.DataFrame(LINES, columns=COLUMNS)


@pytest.fixture
def result(log):
    return build_customer_features(log, clv=False)


def test_one_row_per_customer_with_a_purchase_in_numeric_id_order(result):
    features, _ = result
    assert features["CustomerID"].tolist() == ["99", "101", "102"]


def test_every_feature_matches_the_hand_computed_value(result):
    features, report = result
    got = features.set_index("CustomerID")
    assert report["as_of"] == "2024-02-01"  # the day after the last date
    expected = {
        # recency, frequency, monetary, avg order, tenure, days between, products, return rate
        "101": (21, 2, 40.0, 25.0, 31, 10.0, 2, round(1 / 3, 4), "United Kingdom"),
        "99": (27, 1, 100.0, 100.0, 27, math.nan, 1, 0.0, "Germany"),
        "102": (1, 3, 47.5, 15.83, 30, 14.5, 2, 0.0, "United Kingdom"),
    }
    names = [
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "tenure_days",
        "mean_days_between_purchases",
        "distinct_products",
        "return_rate",
        "Country",
    ]
    for customer, values in expected.items():
        row = got.loc[customer, names].tolist()
        for name, want, have in zip(names, values, row, strict=True):
            if isinstance(want, float) and math.isnan(want):
                assert pd.isna(have), (customer, name)
            else:
                assert have == want, (customer, name, have, want)
    assert got.loc["101", "first_purchase"] == "2024-01-01"
    assert got.loc["101", "last_purchase"] == "2024-01-11"  # the return is not a purchase


def test_rfm_scores_and_segments_by_hand(result):
    features, report = result
    got = features.set_index("CustomerID")
    # 3 customers: ceil(5 * rank / 3) gives 2, 4, 5 for ranks 1, 2, 3.
    assert got["rfm_score"].to_dict() == {"99": "225", "101": "442", "102": "554"}
    assert got["rfm_segment"].to_dict() == {
        "99": "Hibernating",
        "101": "Loyal customers",
        "102": "Champions",
    }
    assert report["rfm_segments"] == {"Hibernating": 1, "Loyal customers": 1, "Champions": 1}


def test_cleaning_counts_add_up_and_follow_the_rule_order(result, log):
    _, report = result
    cleaning = report["cleaning"]
    counts = {rule["rule"]: rule["lines"] for rule in cleaning["rules"]}
    assert counts == {
        "duplicate_row": 1,
        "missing_customer": 1,
        "unparseable_date": 1,
        "missing_value": 0,
        "non_positive_price": 1,
        "zero_quantity": 0,
        "after_as_of": 0,
        "cancelled_invoice": 2,
        "negative_quantity": 0,
        "return_without_purchase": 1,
    }
    assert cleaning["purchases"] == 7
    assert cleaning["returns"] == 1
    removed = sum(
        v for k, v in counts.items() if k not in ("cancelled_invoice", "negative_quantity")
    )
    assert removed + cleaning["returns"] + cleaning["purchases"] == len(log)
    assert report["customers"] == {"in_log": 5, "with_purchase": 3, "without_purchase": 2}
    assert cleaning["customers_without_purchase"]["examples"] == ["103", "104"]


def test_cleaning_examples_name_the_row_and_value(result):
    _, report = result
    rules = {rule["rule"]: rule for rule in report["cleaning"]["rules"]}
    assert rules["duplicate_row"]["examples"] == [{"row": 6}]
    assert rules["unparseable_date"]["examples"] == [{"row": 11, "value": "not a date"}]
    assert rules["non_positive_price"]["examples"] == [{"row": 12, "value": "0.00"}]
    assert rules["cancelled_invoice"]["examples"][0] == {"row": 4, "value": "C1003"}


def test_mixed_date_formats_are_reported(result):
    _, report = result
    assert report["cleaning"]["mixed_date_formats"] is True
    assert report["cleaning"]["date_formats"] == {"%Y-%m-%d %H:%M:%S": 11, "%Y-%m-%d": 1}


def test_as_of_uses_only_earlier_lines(log):
    features, report = build_customer_features(log, clv=False, as_of="2024-01-11")
    got = features.set_index("CustomerID")
    assert report["as_of"] == "2024-01-11"
    # 101's second order (Jan 11) and 102's later orders are on or after the as-of day.
    assert got.loc["101", "frequency"] == 1
    assert got.loc["101", "recency_days"] == 10
    assert got.loc["102", "frequency"] == 1
    after = next(r for r in report["cleaning"]["rules"] if r["rule"] == "after_as_of")
    # Jan 11, 12, 16, 20 (no customer: removed before), 21 (zero price: removed before),
    # 22 and 31 -> 5 lines counted here.
    assert after["lines"] == 5


def test_shuffled_lines_give_the_same_features(log):
    features, _ = build_customer_features(log, clv=False)
    # Keep the duplicate pair's order irrelevant: any copy is the "earlier" one.
    shuffled = log.sample(frac=1.0, random_state=3).reset_index(drop=True)
    again, _ = build_customer_features(shuffled, clv=False)
    pd.testing.assert_frame_equal(features, again)


def test_amount_column_and_no_invoice_column():
    log = pd.DataFrame(
        {
            "customer": ["a", "a", "a", "b"],
            "date": ["2024-03-01", "2024-03-01", "2024-03-05", "2024-03-02"],
            "amount": ["10.00", "5.00", "-5.00", "7.50"],
        }
    )
    features, report = build_customer_features(log, clv=False)
    assert report["columns"]["amount"] == "amount"
    assert report["columns"]["invoice"] is None
    got = features.set_index("customer")
    # Without invoices, orders are distinct timestamps: a's two lines of Mar 1 are one order.
    assert got.loc["a", "frequency"] == 1
    assert got.loc["a", "monetary"] == 10.0
    assert got.loc["a", "avg_order_value"] == 15.0
    assert got.loc["a", "return_rate"] == 0.5
    assert "distinct_products" not in features.columns


def test_rfm_grid_covers_every_cell_exactly_once():
    cells = [(r, f) for rs, fs, _ in RFM_GRID for r in rs for f in fs]
    assert sorted(cells) == [(r, f) for r in range(1, 6) for f in range(1, 6)]
    assert rfm_segment(5, 5) == "Champions"
    assert rfm_segment(1, 1) == "Hibernating"
    assert rfm_segment(2, 5) == "Can't lose them"


def test_rfm_quintiles_split_evenly_and_ties_share_a_score():
    scores = rfm_scores(np.arange(10), np.arange(10), np.r_[np.zeros(5), np.ones(5)])
    # recency 0 is the most recent -> 5
    assert scores["r_score"].tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    assert scores["f_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert scores["m_score"].tolist() == [1] * 5 + [3] * 5  # ties take their lowest rank


def test_generated_log_keeps_every_customer_with_a_purchase():
    log = make_transactions(120, random_state=7)
    features, report = build_customer_features(log, clv=False)
    bought = log.loc[log["Quantity"] > 0, "CustomerID"].astype(str).unique()
    assert sorted(features["CustomerID"]) == sorted(bought)
    assert report["cleaning"]["returns"] > 0
    assert features["recency_days"].between(1, 360).all()
    assert (features["frequency"] >= 1).all()
    assert features["r_score"].between(1, 5).all()


def test_make_transactions_is_deterministic():
    a = make_transactions(30, random_state=1)
    b = make_transactions(30, random_state=1)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(make_transactions(30, random_state=2))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"as_of": "someday"}, "--as-of must be a date like 2011-09-01; got 'someday'"),
        ({"as_of": ""}, "--as-of must be a date like 2011-09-01; got ''"),
        ({"horizon": 0}, "--horizon must be a whole number of months >= 1; got 0"),
        ({"clv": "yes"}, "clv must be True, False or 'auto'"),
    ],
)
def test_bad_options_are_input_errors(log, options, message):
    with pytest.raises(InputError, match=re.escape(message)):
        build_customer_features(log, **options)


def test_lines_without_invoice_or_product_still_count_correctly():
    log = pd.DataFrame(
        {
            "InvoiceNo": ["1", "", "", "2"],
            "StockCode": ["A", "", "B", "A"],
            "CustomerID": ["5", "5", "5", "6"],
            "InvoiceDate": ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03"],
            "Quantity": ["1", "1", "1", "1"],
            "UnitPrice": ["1", "1", "1", "1"],
        }
    )
    features, _ = build_customer_features(log, clv=False)
    got = features.set_index("CustomerID")
    # Invoice 1, then two lines without an invoice at the same time: one more order.
    assert got.loc["5", "frequency"] == 2
    assert got.loc["5", "distinct_products"] == 2  # A and B; the blank is not a product
    assert got.loc["6", "frequency"] == 1
