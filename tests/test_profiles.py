import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from custseg.features.kinds import column_kind, column_kinds
from custseg.features.profiles import feature_label, name_segments, profile_segments, term_word

FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Annual Income (k$)", "income"),
        ("Spending Score (1-100)", "spending score"),
        ("Age", "age"),
        ("totalOrders", "orders"),
        ("Score", "score"),
        ("MntWines", "wine spend"),
        ("MntGoldProds", "gold products spend"),
        ("NumCatalogPurchases", "catalog purchases"),
        ("NumWebVisitsMonth", "web visits per month"),
        ("AcceptedCmp4", "accepted campaign 4"),
        ("Total_Trans_Amt", "transaction amount"),
        ("Avg_Utilization_Ratio", "utilization ratio"),
        ("avg_order_value", "average order value"),
        ("Total_Amt_Chng_Q4_Q1", "amount change Q4/Q1"),
        ("predicted_clv", "predicted lifetime value"),
        ("Months_Inactive_12_mon", "months inactive in 12 months"),
        ("CASH_ADVANCE_TRX", "cash advance transactions"),
        ("recency_days", "recency"),
        ("f_score", "frequency score"),
        ("Total_Relationship_Count", "products held"),  # a bank's word for it
        # A category with its column where the value alone says little.
        ("Gender=Female", "female"),
        ("Contract=Month-to-month", "month-to-month contract"),
        ("Contract=Two year", "two-year contract"),
        ("InternetService=Fiber optic", "fiber optic internet service"),
        ("InternetService=No", "without internet service"),
        ("OnlineSecurity=Yes", "with online security"),
        ("PaymentMethod=Electronic check", "electronic check payment"),
        ("Card_Category=Blue", "blue card"),
        ("Income_Category=Less than $40K", "income less than $40K"),
        ("Education_Level=Unknown", "education level unknown"),
        ("Attrition_Flag=Attrited Customer", "attrited customer"),
        ("Region=3", "region 3"),
    ],
)
def test_feature_label(name, label):
    assert feature_label(name) == label


def test_profile_hand_computed():
    X = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 40.0], [7.0, 40.0]])
    labels = np.array([0, 0, 1, 1])
    prof = profile_segments(X, labels, ["a", "b"])
    assert prof["size"].tolist() == [2, 2]
    assert prof["share"].tolist() == [0.5, 0.5]
    assert prof.loc[0, "mean:a"] == 2.0 and prof.loc[1, "median:b"] == 40.0
    # population mean of a is 4, population std sqrt(5): z = (2 - 4) / sqrt(5)
    assert prof.loc[0, "z:a"] == pytest.approx(-2 / np.sqrt(5))
    assert prof.loc[1, "z:b"] == pytest.approx(1.0)


def test_names_follow_the_rule():
    z = np.array(
        [
            [0.1, 0.0, -0.15],  # nothing beyond half a standard deviation, nor leaning
            [-1.0, 1.2, 1.6],  # three describe it; the two strongest, in column order
            [0.2, 1.1, -1.3],
            [-0.9, -1.4, 1.2],
        ]
    )
    assert name_segments(z, FEATURES) == [
        "Average",
        "High income · Very high spending score",
        "High income · Low spending score",
        "Low income · High spending score",
    ]


def test_age_words_have_a_strong_level_so_older_segments_differ_by_words():
    # Mall with age: two segments differ by age alone, the second much older.
    z = np.array([[0.61, -0.26, 0.0], [1.85, -0.53 + 0.1, 0.0], [-1.0, 0.0, 0.0]])
    assert name_segments(z, FEATURES) == ["Older", "Much older", "Young"]


def test_custom_vocabulary_wins():
    vocab = {"spending score": ("Careful", "Big spender")}
    assert name_segments(np.array([[0, 0, 2.0], [0, 0, -2.0]]), FEATURES, vocabulary=vocab) == [
        "Big spender",
        "Careful",
    ]


def test_a_skewed_amount_at_half_the_mean_is_not_average():
    # Grocery spend: one big customer inflates the SD, so half the mean is only z = -0.4.
    features = ["Grocery", "Milk"]
    stats = {
        "min": 3,
        "max": 92780,
        "mean": 7951,
        "std": 9503,
        "quantiles": [3, 1400, 2100, 2800, 3600, 4756, 6200, 8300, 12000, 18000, 92780],
    }
    kinds = [column_kind("Grocery", stats), column_kind("Milk", stats)]
    assert kinds[0].kind == "amount"
    z = np.array([[-0.42, -0.1], [1.3, 0.2]])
    means = np.array([[3975.0, 7000.0], [20300.0, 9000.0]])
    overall = np.array([7951.0, 7951.0])
    assert name_segments(z, features, kinds=kinds, means=means, overall=overall) == [
        "Low grocery",
        "High grocery",
    ]
    assert name_segments(z, features, kinds=kinds) == ["Below-average grocery", "High grocery"]


def test_flags_are_named_by_their_share_and_codes_never():
    flag = {"min": 0, "max": 1, "mean": 0.16, "std": 0.37, "quantiles": [0] * 9 + [1, 1]}
    region = column_kind("Region", {"min": 1, "max": 3}, role="code")
    kinds = [column_kind("SeniorCitizen", flag), column_kind("tenure"), region]
    features = ["SeniorCitizen", "tenure", "Region"]
    z = np.array([[2.3, -0.8, 2.0], [-0.44, 0.9, -2.0], [0.6, 0.1, 0.0]])
    means = np.array([[1.0, 9.0, 2.9], [0.0, 50.0, 1.1], [0.38, 33.0, 2.0]])
    names = name_segments(z, features, kinds=kinds, means=means, overall=np.array([0.16, 32, 2]))
    assert names == ["All senior citizens · New", "Long-standing", "More senior citizens"]


def test_a_flag_reads_by_its_share_all_mostly_more_fewer_none():
    kind = column_kind("AcceptedCmp5", role="flag")
    words = [
        term_word("AcceptedCmp5", z, kind=kind, share=share)
        for z, share in ((2.0, 1.0), (2.0, 0.93), (1.0, 0.6), (0.6, 0.3), (-0.6, 0.02), (-1, 0.0))
    ]
    assert words == [
        "All accepted campaign 5",
        "Nearly all accepted campaign 5",
        "Mostly accepted campaign 5",
        "More accepted campaign 5",
        "Fewer accepted campaign 5",
        "No accepted campaign 5",
    ]
    senior = column_kind("SeniorCitizen", role="flag")
    assert term_word("SeniorCitizen", 2.0, kind=senior, share=0.996) == "All senior citizens"
    assert term_word("SeniorCitizen", 1.0, kind=senior, share=0.99) == "Nearly all senior citizens"


def test_colliding_names_take_the_next_feature_then_a_comparison():
    z = np.array(
        [[1.0, 1.0, 0.6], [1.0, 1.0, -0.6], [1.0, 1.0, 0.7], [0.0, 0.3, 0.0], [0.1, 0.0, 0.0]]
    )
    assert name_segments(z, FEATURES) == [
        "Older · High income · High spending score (lower spending score)",
        "Older · High income · Low spending score",
        "Older · High income · High spending score (higher spending score)",
        "Above-average income",
        "Average",
    ]


def test_leaning_features_tell_apart_segments_with_one_describing_feature():
    z = np.array([[0.7, -0.3, 0.0], [0.8, 0.3, 0.1]])
    assert name_segments(z, FEATURES) == [
        "Older · Below-average income",
        "Older · Above-average income",
    ]


def test_only_identical_profiles_are_numbered():
    z = np.array([[0.7, 0.0, 0.0], [0.7, 0.0, 0.0], [0.7, 0.0, 0.0]])
    assert name_segments(z, FEATURES) == ["Older", "Older (2)", "Older (3)"]


@settings(max_examples=200, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 9), st.just(3)),
              elements=st.floats(-3, 3).map(lambda v: round(v, 1))))  # fmt: skip
def test_names_are_distinct_and_numbered_only_when_profiles_are_identical(z):
    names = name_segments(z, FEATURES)
    assert len(set(names)) == len(names)
    for i, name in enumerate(names):
        if re.search(r"\(\d+\)$", name):
            assert any(np.array_equal(z[i], z[j]) for j in range(len(z)) if j != i), name
        assert not re.search(r" \d+$", name), name


def test_days_between_purchases_name_infrequent_buyers_not_high_days():
    features = ["mean_days_between_purchases", "tenure_days"]
    z = np.array([[1.7, 0.6], [-0.8, 0.0], [0.3, -1.0]])
    names = name_segments(z, features)
    assert names == ["Very infrequent buyers · Long-standing", "Frequent buyers", "New"]


def test_names_never_differ_only_by_a_level():
    # Telco: two long-standing segments, one "Very high", one "High" total charges; the
    # first also pays far more each month, and its name says so.
    kinds = column_kinds([{"name": n} for n in ("tenure", "MonthlyCharges", "TotalCharges")])
    features = [k.name for k in kinds]
    z = np.array([[1.3, 1.3, 1.8], [1.1, 0.1, 0.8], [-0.9, 0.0, -0.7]])
    assert name_segments(z, features, kinds=kinds) == [
        "Long-standing · High monthly charges · Very high total charges",
        "Long-standing · High total charges",
        "New · Low total charges",
    ]
    # Levels of one feature alone stay: nothing else describes these two.
    assert name_segments(np.array([[0.61, 0, 0], [1.85, 0, 0]]), FEATURES) == [
        "Older",
        "Much older",
    ]


def test_a_segment_nothing_describes_is_named_by_what_it_leans_on_not_average():
    # Wholesale: grocery 47% and detergents 56% above the mean, below the naming rule.
    lines = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper"]
    z = np.array([[-0.26, 0.25, 0.4, -0.31, 0.36], [0.1, -0.1, 0.05, 0.0, -0.15]])
    assert name_segments(z, lines) == [
        "Above-average grocery · Above-average detergents paper",
        "Average",
    ]


def test_one_indicator_per_column_names_a_segment():
    features = ["Channel=1", "Channel=2", "Fresh"]
    z = np.array([[1.4, -1.4, 0.0], [-1.4, 1.4, 0.9]])
    means = np.array([[1.0, 0.0, 9000.0], [0.0, 1.0, 20000.0]])
    kinds = [column_kind(f) for f in features]
    names = name_segments(z, features, kinds=kinds, means=means, overall=np.array([0.3, 0.7, 9e3]))
    assert names == ["All channel 1", "All channel 2 · High fresh"]


def test_categories_read_with_their_column_and_by_their_share():
    # Telco's Contract named in --features: never "More Month-to-month", "More Two year".
    features = ["tenure", "Contract=Month-to-month", "Contract=One year", "Contract=Two year"]
    z = np.array([[-0.9, 0.7, -0.3, -0.6], [0.9, -0.8, 0.4, 0.6]])
    means = np.array([[13.4, 0.81, 0.12, 0.07], [56.8, 0.22, 0.31, 0.47]])
    kinds = [column_kind(f) for f in features]
    overall = np.array([32.4, 0.55, 0.21, 0.24])
    names = name_segments(z, features, kinds=kinds, means=means, overall=overall)
    assert names == [
        "New · Mostly month-to-month contract",
        "Long-standing · More two-year contracts",
    ]


def test_more_and_mostly_of_one_category_are_levels_and_take_the_next_feature():
    features = ["tenure", "Contract=Two year", "MonthlyCharges"]
    z = np.array([[1.0, 0.9, -0.6], [1.0, 1.2, 0.55], [-1.2, -0.5, 0.1]])
    means = np.array([[50.0, 0.45, 40.0], [50.0, 0.8, 80.0], [10.0, 0.05, 66.0]])
    kinds = [column_kind(f) for f in features]
    names = name_segments(
        z, features, kinds=kinds, means=means, overall=np.array([32.0, 0.24, 64.8])
    )
    # Not "Long-standing · More two-year contracts" beside "... · Mostly two-year contract".
    assert names == [
        "Long-standing · More two-year contracts · Low monthly charges",
        "Long-standing · Mostly two-year contract · High monthly charges",
        "New · Fewer two-year contracts",
    ]
