"""Flags, codes, counts, unreadable numbers and custseg's own columns (custseg.features.roles)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from tests.conftest import shared_file

from custseg.errors import SchemaError
from custseg.features.encoding import expand_categoricals, flag_column
from custseg.features.large import detect_roles_fast
from custseg.features.roles import detect_roles


def _table(n: int = 60, **cols) -> pd.DataFrame:
    return pd.DataFrame({k: [str(v) for v in np.resize(vals, n)] for k, vals in cols.items()})


def _roles(frame: pd.DataFrame) -> dict[str, str]:
    return {c.name: c.role for c in detect_roles(frame).columns}


def test_flags_codes_and_counts_of_a_wholesale_like_table():
    frame = _table(
        Channel=[1, 2, 2],
        Region=[1, 2, 3, 3],
        Store=[101, 205, 310],
        Segment2=[1, 2],
        Kidhome=[0, 1, 2],
        Dependent_count=[1, 2, 3, 4],
        Rating=[1, 2, 3, 4, 5],
        AcceptedCmp5=[0, 1, 0],
        Newsletter=["Yes", "No", "no"],
        Complain=["0.0", "1.0"],
        Fresh=[12669, 7057, 6353, 13265, 22615],
    )
    assert _roles(frame) == {
        "Channel": "code",  # named like a code
        "Region": "code",
        "Store": "code",
        "Segment2": "code",  # two labels without a 0, nothing in the name
        "Kidhome": "numeric",  # a 0 among few whole numbers: a count
        "Dependent_count": "numeric",  # named like a count, though it has no 0 here
        "Rating": "numeric",  # five values: too many for a code without a name
        "AcceptedCmp5": "flag",
        "Newsletter": "flag",
        "Complain": "flag",
        "Fresh": "numeric",
    }
    reasons = {c.name: c.reason for c in detect_roles(frame).columns}
    assert reasons["Region"] == "a code: 3 whole-number labels (1, 2, 3), named 'region'"
    assert "no 0" in reasons["Segment2"]


def test_the_big_table_role_detection_agrees():
    frame = _table(Channel=[1, 2, 2], AcceptedCmp5=[0, 1, 0], Fresh=[1.5, 2.5, 7.25])
    arrow = frame.astype("string[pyarrow]")
    assert [c.role for c in detect_roles_fast(arrow).columns] == ["code", "flag", "numeric"]


def test_flags_are_indicators_and_codes_are_categories():
    frame = _table(Channel=[1, 2, 2], Newsletter=["Yes", "No", "", "no"], Spend=[1, 2.5, 3])
    schema = detect_roles(frame)
    encoded, features, specs = expand_categoricals(
        frame, ["Channel", "Newsletter", "Spend"], schema
    )
    assert features == ["Channel=1", "Channel=2", "Newsletter", "Spend"]
    assert specs["Newsletter"] == {"source": "Newsletter", "role": "flag"}
    assert specs["Channel=2"]["role"] == "code"
    assert encoded["Newsletter"].head(4).tolist() == ["1", "0", "", "0"]


def test_a_flag_with_a_third_value_is_refused_with_its_row():
    frame = pd.DataFrame({"Complain": ["0", "1", "maybe"]})
    message = r"column 'Complain' in s.csv is a flag .* 'maybe' at row 3"
    with pytest.raises(SchemaError, match=message):
        flag_column(frame, "Complain", where="s.csv")


def test_a_mostly_numeric_column_that_does_not_parse_is_unreadable_with_a_sample():
    frame = _table(Fresh=["12.669,5.0", "1.234", "7,5"], Spend=[1.5, 2.5])
    info = detect_roles(frame)["Fresh"]
    assert info.role == "unreadable"
    assert "'12.669,5.0'" in info.reason
    assert "fix them" in info.skip_reason


def test_columns_custseg_wrote_are_recognised_only_in_a_custseg_output():
    own = _table(segment=[1, 2], spend=[1.5, 2.5, 3.5])
    assert _roles(own)["segment"] == "code"  # a table's own column keeps its role
    output = _table(
        spend=[1.5, 2.5, 3.5],
        segment=[0, 1],
        segment_name=["Big", "Small"],
        distance_to_center=[0.5, 1.5, 2.5],
        margin=[0.1, 0.7],
        borderline=["True", "False"],
        outlier=["False"],
        probability_0=[0.2, 0.9],
        segment_custseg=[1, 0],
    )
    roles = _roles(output)
    assert roles.pop("spend") == "numeric"
    assert set(roles.values()) == {"custseg"}


def test_a_model_output_naming_another_column_is_a_prediction():
    rng = np.random.default_rng(0)
    churn = rng.choice(["Yes", "No"], 60)
    frame = _table(
        Churn=churn,
        Spend=rng.gamma(2, 300, 60).round(1),
        Churn_Probability=np.where(churn == "Yes", 0.9, 0.1) + rng.uniform(0, 0.05, 60),
        Naive_Bayes_Classifier_Segment_1=rng.uniform(0, 1, 60),
        Churn_Score=np.where(churn == "Yes", 80, 20) + rng.integers(0, 10, 60),
        probability_alive=rng.uniform(0, 1, 60),  # no column 'alive': not a prediction of one
        Spend_Change=rng.normal(0, 1, 60),  # embeds 'Spend', but says no prediction
    )
    schema = detect_roles(frame)
    roles = {c.name: c.role for c in schema.columns}
    assert roles == {
        "Churn": "flag",
        "Spend": "numeric",
        "Churn_Probability": "prediction",
        "Naive_Bayes_Classifier_Segment_1": "prediction",  # 'classifier' alone says a model
        "Churn_Score": "prediction",  # a score of a label, not in bands of an amount
        "probability_alive": "numeric",
        "Spend_Change": "numeric",
    }
    assert schema["Churn_Probability"].reason == (
        "a model's output: 'probability' in the name, which names the column 'Churn'; "
        "a prediction is not a customer attribute"
    )


def test_a_score_in_bands_of_another_column_is_derived():
    rng = np.random.default_rng(1)
    recency = rng.integers(1, 365, 200)
    monetary = rng.gamma(2, 500, 200).round(2)
    frame = _table(
        200,
        recency_days=recency,
        monetary=monetary,
        r_score=5 - pd.qcut(recency, 5, labels=False),
        m_score=1 + pd.qcut(monetary, 5, labels=False),
        satisfaction_score=rng.integers(1, 11, 200),  # a score of nothing in the table
        monetary_rank=pd.Series(monetary).rank().to_numpy(),  # named after it, and its bands
    )
    schema = detect_roles(frame)
    roles = {c.name: c.role for c in schema.columns}
    assert roles == {
        "recency_days": "numeric",
        "monetary": "numeric",
        "r_score": "derived",
        "m_score": "derived",
        "satisfaction_score": "numeric",
        "monetary_rank": "derived",
    }
    assert schema["r_score"].reason.startswith("a score of 'recency_days' (rank correlation -0.9")


def test_bank_churners_classifier_columns_are_predictions():
    frame = pd.read_csv(shared_file("bank_churners.csv"), dtype=str, nrows=2000)
    schema = detect_roles(frame)
    leaked = [c.name for c in schema.columns if c.name.startswith("Naive_Bayes")]
    assert len(leaked) == 2
    assert {schema[name].role for name in leaked} == {"prediction"}
    assert "names the column 'Attrition_Flag'" in schema[leaked[0]].reason
    assert schema.by_role("prediction") == leaked  # nothing else in the table
    assert schema.by_role("derived") == []
