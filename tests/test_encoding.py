"""Categorical features: weighted indicators, category shares, scoring round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.conftest import invoke_cli

import custseg
from custseg.features.encoding import CATEGORICAL_VARIANCE, indicator_column

FEATURES = ["Gender", "Age", "Annual Income (k$)", "Spending Score (1-100)"]


@pytest.fixture(scope="module")
def mixed():
    frame = custseg.make_customers(200, random_state=0).astype(str)
    return frame, custseg.segment(frame, features=FEATURES, k=4, stability=0)


def test_indicator_column_by_hand():
    frame = pd.DataFrame({"g": ["F", " M", "", "F", "n/a", "X"]})
    got = indicator_column(frame, "g", "F")
    np.testing.assert_array_equal(got, [1.0, 0.0, np.nan, 1.0, np.nan, 0.0])


def test_categorical_becomes_indicators_with_half_a_feature_of_variance(mixed):
    _, result = mixed
    assert result.summary["features"][:2] == ["Gender=Female", "Gender=Male"]
    kinds = {f["name"]: (f["kind"], f.get("source")) for f in result.model.features}
    assert kinds["Gender=Female"] == ("category", "Gender")
    assert kinds["Age"] == ("numeric", None)
    Z = result.model.scaler.transform(result.X)
    assert Z[:, :2].var(axis=0).sum() == pytest.approx(CATEGORICAL_VARIANCE)
    assert Z[:, 2].var() == pytest.approx(1.0)  # numeric features stay standardised


def test_profiles_show_category_shares_that_add_up(mixed):
    frame, result = mixed
    overall = (frame["Gender"] == "Female").mean()
    segs = result.summary["segments"]
    for seg in segs:
        assert seg["mean"]["Gender=Female"] + seg["mean"]["Gender=Male"] == pytest.approx(1.0)
    weighted = sum(s["share"] * s["mean"]["Gender=Female"] for s in segs)
    assert weighted == pytest.approx(overall)
    # half weight: gender shapes the segments but does not split them into pure groups
    assert all(0.05 < s["mean"]["Gender=Female"] < 0.95 for s in segs)


def test_scoring_recomputes_indicators_from_the_source_column(mixed, tmp_path):
    frame, result = mixed
    model = custseg.load_model(result.model.save(tmp_path / "model.json"))
    scored = model.predict(frame)
    pd.testing.assert_series_equal(scored["segment"], result.table["segment"], check_names=False)
    with pytest.raises(custseg.SchemaError, match="lacks the model's feature column"):
        model.predict(frame.drop(columns=["Gender"]))


def test_cli_accepts_a_categorical_feature(tmp_path):
    custseg.make_customers(200, random_state=0).to_csv(tmp_path / "c.csv", index=False)
    proc = invoke_cli(
        "segment",
        tmp_path / "c.csv",
        "--out",
        tmp_path / "o",
        "--features",
        ",".join(FEATURES),
        "--k",
        "4",
        "--stability",
        "0",
        "--no-report",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    assert "Gender=Female" in summary["segments"][0]["mean"]
    table = pd.read_csv(tmp_path / "o" / "segments.csv", dtype=str)
    assert list(table.columns[:5]) == list(custseg.make_customers(1).columns)  # input unchanged
