"""Drift: PSI, segment share shift, fit decay, borderline share and the verdict."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

import custseg
from custseg.errors import InputError, SchemaError
from custseg.lifecycle.drift import PSI_RETRAIN, PSI_WATCH, psi, training_baseline
from custseg.segmentation.sampling import canonical_order

INCOME = "Annual Income (k$)"


@pytest.fixture(scope="module")
def model():
    return custseg.segment(custseg.make_customers(1000, random_state=0), k=5, stability=0).model


@pytest.fixture(scope="module")
def fresh():
    """Another sample from the same distribution, shuffled."""
    return custseg.make_customers(1000, random_state=1).sample(frac=1, random_state=2)


def test_psi_by_hand():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    expected = -0.25 * math.log(0.5) + 0.25 * math.log(1.5)
    assert psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected)
    assert psi([10, 10], [5, 15]) == pytest.approx(expected)  # counts are normalised
    # An empty bin counts as 1e-4, so the index stays finite.
    assert np.isfinite(psi([0.5, 0.5], [1.0, 0.0]))


def test_the_model_stores_a_drift_baseline(model):
    baseline = model.extra["baseline"]
    assert baseline["rows"] == 1000
    assert set(baseline["bins"]) == set(model.feature_names)
    for stored in baseline["bins"].values():
        assert len(stored["shares"]) == len(stored["edges"]) + 1
        assert sum(stored["shares"]) == pytest.approx(1.0)
    assert 0 < baseline["mean_distance"] < 2
    assert 0 <= baseline["borderline_share"] < 0.3


def test_the_stored_baseline_equals_one_computed_afresh(model):
    X = custseg.make_customers(1000, random_state=0)[model.feature_names].to_numpy(float)
    # The run sums its statistics in the order fixed by the rows' values.
    assert training_baseline(model, X[canonical_order(X)]) == model.extra["baseline"]


def test_same_distribution_is_stable(model, fresh):
    report = custseg.drift(model, fresh)
    assert report.verdict == "stable", report.reasons
    assert report.reasons == []
    assert all(f["psi"] < PSI_WATCH for f in report.features)
    assert report.share_psi < PSI_WATCH
    assert report.fit["ratio"] == pytest.approx(1.0, abs=0.1)
    assert report.rows == {"rows": 1000, "scored": 1000, "unscored": 0}


def test_training_data_itself_has_zero_drift(model):
    report = custseg.drift(model, custseg.make_customers(1000, random_state=0))
    assert all(f["psi"] == pytest.approx(0.0, abs=1e-9) for f in report.features)
    assert report.share_psi == pytest.approx(0.0, abs=1e-9)
    assert report.fit["ratio"] == pytest.approx(1.0)
    assert report.borderline["change"] == pytest.approx(0.0)


def test_incomes_up_30_percent_flag_income_and_ask_for_retraining(model, fresh):
    shifted = fresh.assign(**{INCOME: (fresh[INCOME] * 1.3).round().astype(int)})
    report = custseg.drift(model, shifted)
    grades = {f["name"]: f["grade"] for f in report.features}
    assert grades == {"Age": "stable", INCOME: "retrain", "Spending Score (1-100)": "stable"}
    income = next(f for f in report.features if f["name"] == INCOME)
    assert income["psi"] >= PSI_RETRAIN
    assert income["new_mean"] == pytest.approx(income["training_mean"] * 1.3, rel=0.05)
    assert report.verdict == "retrain"
    assert report.reasons[0].startswith(f"PSI of '{INCOME}' is ")


def test_a_change_of_mix_shows_as_segment_share_shift(model):
    data = custseg.make_customers(1000, random_state=1)
    scored = model.predict(data)
    # Keep every customer of segment 2 and a third of the others.
    keep = (scored["segment"] == 2).to_numpy() | (np.arange(len(data)) % 3 == 0)
    report = custseg.drift(model, data[keep])
    assert report.share_grade in ("watch", "retrain")
    seg2 = next(s for s in report.segments if s["id"] == 2)
    assert seg2["shift"] > 0.1
    assert any(r.startswith("segment shares moved") for r in report.reasons)


def test_customers_far_from_every_centre_show_fit_decay(model, fresh):
    spread = fresh.copy()
    rng = np.random.default_rng(0)
    for col in ("Age", INCOME, "Spending Score (1-100)"):
        spread[col] = spread[col] + rng.normal(0, 15, len(spread))
    report = custseg.drift(model, spread)
    assert report.fit["ratio"] > 1.15
    assert report.fit["grade"] in ("watch", "retrain")


def test_small_samples_carry_a_note(model, fresh):
    report = custseg.drift(model, fresh.head(100))
    assert any("PSI is noisy below 500" in n for n in report.notes)


def test_a_model_without_baseline_falls_back_to_its_deciles(model, fresh):
    old = copy.deepcopy(model)
    del old.extra["baseline"]
    report = custseg.drift(old, fresh)
    assert report.verdict == "stable"
    assert report.fit["grade"] == "stable" and report.fit["ratio"] is None
    assert any("no drift baseline" in n for n in report.notes)
    shifted = fresh.assign(**{INCOME: fresh[INCOME] * 1.3})
    assert custseg.drift(old, shifted).verdict == "retrain"


def test_missing_feature_is_named(model, fresh):
    with pytest.raises(SchemaError, match=r"lacks the model's feature column\(s\) 'Age'"):
        custseg.drift(model, fresh.drop(columns=["Age"]))


def test_empty_table_is_refused(model, fresh):
    with pytest.raises(InputError, match="has no rows"):
        custseg.drift(model, fresh.head(0))


def test_report_dict_is_json_ready_and_deterministic(model, fresh):
    a = custseg.drift(model, fresh).to_dict()
    b = custseg.drift(model, fresh).to_dict()
    assert a == b
    assert a["verdict"] == "stable"
    assert a["thresholds"]["psi"] == {"watch": 0.1, "retrain": 0.25}
    assert [s["id"] for s in a["segment_shares"]["segments"]] == [0, 1, 2, 3, 4]


def test_real_mall_data_against_its_own_model_is_stable(mall_csv):
    result = custseg.segment(mall_csv, k=5, stability=0)
    report = custseg.drift(result.model, mall_csv)
    assert report.verdict == "stable"
    assert report.rows == {"rows": 200, "scored": 200, "unscored": 0}
    assert all(f["psi"] == pytest.approx(0.0, abs=1e-9) for f in report.features)
    assert any("PSI is noisy below 500" in n for n in report.notes)
