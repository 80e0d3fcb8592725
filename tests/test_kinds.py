"""What a column measures, from its name and the model's summary of its values."""

from __future__ import annotations

import numpy as np
import pytest

from custseg.features.kinds import column_kind, column_kinds
from custseg.segmentation.records import feature_summary

RNG = np.random.default_rng(0)
N = 500


def _stats(values) -> dict:
    return feature_summary("x", np.asarray(values, dtype="float64"))


SKEWED = _stats(np.round(RNG.lognormal(8, 1.0, N)))  # annual spend, no name to say so
WHOLE = _stats(RNG.poisson(4, N))
SMALL_WHOLE = _stats(RNG.choice([0, 1, 2], N))
FLAG = _stats(RNG.random(N) < 0.15)
SHARE = _stats(RNG.beta(1, 3, N))
MONEY = _stats(RNG.normal(60, 25, N).clip(15))
SCORE = _stats(RNG.integers(1, 101, N))
YEARS = _stats(RNG.integers(1940, 1996, N))


@pytest.mark.parametrize(
    ("name", "stats", "role", "kind", "signal", "direction"),
    [
        ("Spending Score (1-100)", SCORE, None, "score", "value", 1),
        ("Annual Income (k$)", MONEY, None, "money", "means", 1),
        ("Age", MONEY, None, "age", "age", 1),
        ("Year_Birth", YEARS, None, "birth year", "age", -1),
        ("Recency", WHOLE, None, "recency", "recency", 1),
        ("recency_days", WHOLE, None, "recency", "recency", 1),
        ("tenure", WHOLE, None, "tenure", "tenure", 1),
        ("MntWines", SKEWED, None, "money", "value", 1),
        ("MntFishProducts", WHOLE, None, "money", "value", 1),
        ("NumWebPurchases", WHOLE, None, "count", "frequency", 1),
        ("Kidhome", SMALL_WHOLE, None, "count", None, 1),
        ("AcceptedCmp4", FLAG, None, "flag", "response", 1),
        ("Complain", FLAG, None, "flag", "risk", 1),
        ("SeniorCitizen", FLAG, None, "flag", "age", 1),
        ("Gender=Female", FLAG, None, "flag", None, 1),
        ("Region", SMALL_WHOLE, "code", "code", None, 1),
        ("Grocery", SKEWED, None, "amount", "value", 1),
        ("Detergents_Paper", SKEWED, None, "amount", "value", 1),
        ("CASH_ADVANCE", SKEWED, None, "money", "risk", 1),
        ("CASH_ADVANCE_FREQUENCY", SHARE, None, "share", "risk", 1),
        ("PURCHASES", SKEWED, None, "amount", "value", 1),
        ("PURCHASES_TRX", WHOLE, None, "count", "frequency", 1),
        ("PURCHASES_FREQUENCY", SHARE, None, "share", "frequency", 1),
        ("BALANCE_FREQUENCY", SHARE, None, "share", None, 1),
        ("CREDIT_LIMIT", SKEWED, None, "money", "means", 1),
        ("PRC_FULL_PAYMENT", SHARE, None, "share", "risk", -1),
        ("return_rate", SHARE, None, "share", "risk", 1),
        ("p_alive", SHARE, None, "share", "recency", -1),
        ("r_score", SMALL_WHOLE, None, "score", "recency", -1),
        ("Total_Trans_Ct", WHOLE, None, "count", "frequency", 1),
        ("Total_Amt_Chng_Q4_Q1", SHARE, None, "number", None, 1),  # a change, not money
        ("Total_Ct_Chng_Q4_Q1", MONEY, None, "number", None, 1),
        ("Months_Inactive_12_mon", SMALL_WHOLE, None, "number", "recency", 1),
        ("Avg_Utilization_Ratio", SHARE, None, "share", "risk", 1),
        ("Attrition_Flag", FLAG, None, "flag", "churn", 1),
        ("Churn", FLAG, None, "flag", "churn", 1),
        ("mean_days_between_purchases", SKEWED, None, "interval", "frequency", -1),
        ("MonthlyCharges", MONEY, None, "money", "value", 1),
        ("log_monetary", MONEY, None, "log", "value", 1),
        ("Page views", MONEY, None, "number", None, 1),  # "age" inside "Page" is no age
        ("account balance", MONEY, None, "money", None, 1),  # "count" inside "account"
    ],
)
def test_kind_and_signal(name, stats, role, kind, signal, direction):
    found = column_kind(name, stats, role=role)
    assert (found.kind, found.signal, found.direction) == (kind, signal, direction), found.reason


def test_units_and_bounds_come_from_the_name():
    score = column_kind("Spending Score (1-100)", SCORE)
    assert (score.label, score.bounds, score.unit) == ("spending score", (1.0, 100.0), "")
    income = column_kind("Annual Income (k$)", MONEY)
    assert (income.label, income.unit) == ("income", "k$")
    assert column_kind("recency_days", WHOLE).unit == "days"
    assert column_kind("Revenue (€)", MONEY).unit == "€"


def test_a_ratio_is_meaningful_only_for_amounts():
    assert column_kind("Grocery", SKEWED).is_ratio
    assert column_kind("NumWebPurchases", WHOLE).is_ratio
    assert not column_kind("Spending Score (1-100)", SCORE).is_ratio
    assert not column_kind("Age", MONEY).is_ratio


def test_skew_hidden_by_one_huge_customer_is_still_an_amount():
    # One client buying 30 times the usual inflates the standard deviation so much that
    # the mean sits near the median in its units; the deciles still show the long tail.
    values = np.append(np.round(RNG.lognormal(7, 0.7, 439)), 43097.0)
    stats = _stats(values)
    assert (stats["mean"] - stats["quantiles"][5]) / stats["std"] < 0.2
    assert column_kind("Delicassen", stats).kind == "amount"
    assert column_kind("Delicassen", MONEY).kind == "number"  # symmetric: no amount


def test_labels_drop_total_and_average_unless_two_columns_then_read_the_same():
    kinds = column_kinds(
        [{"name": n} for n in ("Total_Trans_Amt", "Avg_Trans_Amt", "Total_Trans_Ct",
                               "MonthlyCharges", "TotalCharges", "Avg_Utilization_Ratio")]
    )  # fmt: skip
    assert [k.label for k in kinds] == [
        "total transaction amount",
        "average transaction amount",
        "transaction count",
        "monthly charges",
        "total charges",  # "charges" beside "monthly charges" would read as the same thing
        "utilization ratio",
    ]
