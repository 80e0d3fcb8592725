import numpy as np
import pytest

from custseg.features.profiles import feature_label, name_segments, profile_segments

FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("Annual Income (k$)", "income"),
        ("Spending Score (1-100)", "spending"),
        ("Age", "age"),
        ("totalOrders", "orders"),
        ("Score", "score"),
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
            [0.1, 0.0, -0.2],  # nothing beyond half a standard deviation
            [-1.0, 1.2, 1.6],  # three describe it; the two strongest, in column order
            [0.2, 1.1, -1.3],
            [-0.9, -1.4, 1.2],
        ]
    )
    assert name_segments(z, FEATURES) == [
        "Average",
        "High income · Very high spending",
        "High income · Low spending",
        "Low income · High spending",
    ]


def test_age_vocabulary_and_custom_vocabulary():
    z = np.array([[-1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    assert name_segments(z, FEATURES) == ["Young", "Older"]
    vocab = {"spending": ("Careful", "Big spender")}
    assert name_segments(np.array([[0, 0, 2.0], [0, 0, -2.0]]), FEATURES, vocabulary=vocab) == [
        "Big spender",
        "Careful",
    ]


def test_names_are_distinct():
    z = np.array(
        [[1.0, 1.0, 0.6], [1.0, 1.0, -0.6], [1.0, 1.0, 0.7], [0.0, 0.0, 0.0], [0.1, 0.0, 0.0]]
    )
    names = name_segments(z, FEATURES)
    assert len(set(names)) == len(names)
    assert names[0] == "Older · High income · High spending"
    assert names[1] == "Older · High income · Low spending"
    assert names[3] == "Average" and names[4] == "Average 2"
