"""Filled and far-outside values: one rule, counted by score, the API and drift."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from tests.conftest import invoke_cli

import custseg
from custseg.errors import InputError
from custseg.input_checks import check_inputs, far_outside, value_warnings
from custseg.io import write_csv

FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]


@pytest.fixture(scope="module")
def model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return custseg.segment(custseg.make_customers(200, random_state=0), k=4, stability=0).model


def _bounds(model, name):
    feature = next(f for f in model.features if f["name"] == name)
    return feature["min"], feature["max"]


def test_the_range_rule_flags_half_the_range_beyond_either_end(model):
    low, high = _bounds(model, "Age")
    span = high - low
    X = np.array(
        [
            [high + 0.5 * span, 50, 50],  # on the edge: kept
            [high + 0.5 * span + 0.01, 50, 50],
            [low - 0.5 * span - 0.01, 50, 50],
            [np.nan, 50, 50],  # missing is never far outside
        ]
    )
    assert far_outside(model, X)[:, 0].tolist() == [False, True, True, False]
    assert far_outside(model, X, tolerance=2.0)[:, 0].tolist() == [False] * 4


def test_counts_per_column_with_first_row(model):
    X = np.array(
        [[30, 60, 50], [np.nan, 60, 50], [40, 1e6, np.nan], [np.nan, 2e6, 50], [35, 60, 50]],
        dtype=float,
    )
    checked = check_inputs(model, X)
    assert checked.filled.tolist() == [2, 0, 1]
    assert checked.far_outside.tolist() == [0, 2, 0]
    assert checked.filled_sentences() == [
        f"column 'Age': 2 missing value(s) (first at row 2) filled with the training median "
        f"{model.impute_values[0]:g}",
        f"column 'Spending Score (1-100)': 1 missing value(s) (first at row 3) filled with "
        f"the training median {model.impute_values[2]:g}",
    ]
    low, high = _bounds(model, "Annual Income (k$)")
    assert checked.outside_sentences() == [
        f"column 'Annual Income (k$)': 2 value(s) far outside the training range {low:g} to "
        f"{high:g} (first at row 3: 1e+06); their segments are extrapolations: check the units"
    ]
    with pytest.raises(InputError, match=r"column 'Age': 2 missing value\(s\) \(first at row 2\)"):
        checked.refuse()


def test_only_an_imputing_model_fills(model):
    dropping = custseg.segment(
        custseg.make_customers(200, random_state=0), k=4, stability=0, missing="drop"
    ).model
    X = np.array([[np.nan, 60, 50]])
    assert check_inputs(dropping, X).filled.tolist() == [0, 0, 0]
    assert check_inputs(model, X).filled.tolist() == [1, 0, 0]


def test_value_warnings_say_what_was_filled_and_what_is_far(model):
    rows = value_warnings(model, np.array([[np.nan, 1e6, 50], [30, 60, 50]]))
    assert rows[1] == []
    filled, outside = rows[0]
    assert filled["kind"] == "filled" and filled["field"] == "Age"
    assert filled["value"] is None and filled["filled_with"] == model.impute_values[0]
    assert "filled with the training median" in filled["message"]
    assert outside["kind"] == "far_outside" and outside["value"] == 1e6
    assert outside["filled_with"] is None


# -- custseg score ----------------------------------------------------------------------
@pytest.fixture
def trained(tmp_path):
    data = write_csv(custseg.make_customers(200, random_state=0), tmp_path / "train.csv")
    proc = invoke_cli("segment", data, "--out", tmp_path / "run", "--k", "4", "--stability", "0")
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "run" / "model.json"


def test_score_says_what_it_filled_and_what_is_far_and_strict_refuses(trained, tmp_path):
    frame = custseg.make_customers(30, random_state=4).astype(str)
    frame.loc[[2, 5, 9], "Age"] = ["", "n/a", ""]
    # Income in dollars instead of thousands: every customer far outside.
    frame.loc[:, "Annual Income (k$)"] = (pd.to_numeric(frame["Annual Income (k$)"]) * 1000).astype(
        str
    )
    data = write_csv(frame, tmp_path / "new.csv")
    proc = invoke_cli("score", trained, data, "--out", tmp_path / "scored.csv")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines[0].startswith(
        "custseg: warning: column 'Age': 3 missing value(s) (first at row 3) filled with "
        "the training median "
    )
    assert lines[1].startswith(
        "custseg: warning: column 'Annual Income (k$)': 30 value(s) far outside the training range"
    )
    assert len(lines) == 2

    out = tmp_path / "strict.csv"
    proc = invoke_cli("score", trained, data, "--out", out, "--strict")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "custseg: error: column 'Age': 3 missing value(s) (first at row 3), which --strict "
        "does not fill with the training median; fill them in, or score without --strict"
    )
    assert not out.exists()

    frame.loc[[2, 5, 9], "Age"] = "40"
    proc = invoke_cli("score", trained, write_csv(frame, tmp_path / "units.csv"), "--out", out,
                   "--strict")  # fmt: skip
    assert proc.returncode == 2
    assert "'Annual Income (k$)': 30 value(s) far outside" in proc.stderr
    assert "which --strict refuses; check the units" in proc.stderr
    assert not out.exists()


def test_drift_counts_far_values_with_the_same_rule(model):
    frame = custseg.make_customers(100, random_state=2)
    frame.loc[:9, "Annual Income (k$)"] *= 1000
    report = custseg.drift(model, frame)
    counts = {f["name"]: f["far_outside"] for f in report.features}
    X = frame[FEATURES].to_numpy(dtype=float)
    expected = far_outside(model, X).sum(axis=0)
    assert counts == dict(zip(FEATURES, expected.tolist(), strict=True))
    assert counts["Annual Income (k$)"] == 10
    assert any("'Annual Income (k$)': 10 value(s) far outside" in n for n in report.notes)


def test_a_positive_column_in_a_unit_a_thousand_times_larger_is_far_outside(tmp_path):
    train = custseg.make_customers(200, random_state=0)
    train["Annual Income (k$)"] *= 1000  # trained in dollars: 15,000 to 134,000
    data = write_csv(train, tmp_path / "train.csv")
    proc = invoke_cli("segment", data, "--out", tmp_path / "run", "--k", "4", "--stability", "0",
                   "--no-report")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    new = train.copy()
    new["Annual Income (k$)"] /= 1000  # sent in thousands: inside min - 0.5 x range
    path = write_csv(new, tmp_path / "thousands.csv")
    proc = invoke_cli("score", tmp_path / "run" / "model.json", path, "--out", tmp_path / "s.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == (
        "custseg: warning: column 'Annual Income (k$)': 200 value(s) far outside the training "
        "range 15000 to 134000 (first at row 1: 81); their segments are extrapolations: check "
        "the units"
    )
    strict = invoke_cli("score", tmp_path / "run" / "model.json", path, "--out",
                     tmp_path / "strict.csv", "--strict")  # fmt: skip
    assert strict.returncode == 2 and not (tmp_path / "strict.csv").exists()


def test_the_unit_rule_flags_positive_values_below_a_tenth_of_the_minimum(model):
    low, _ = _bounds(model, "Annual Income (k$)")  # 15: a tenth is 1.5
    assert low == 15
    X = np.array([[30.0, 1.4, 50.0], [30.0, 1.6, 50.0], [30.0, 0.0, 50.0], [30.0, -1, 50.0]])
    # Zero and below are left to the band (down to 15 - 0.5 x range): no unit makes them.
    assert far_outside(model, X)[:, 1].tolist() == [True, False, False, False]
