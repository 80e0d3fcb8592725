"""Why a customer is in their segment: hand-computed leads, original units, the API flag."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from fastapi.testclient import TestClient

import custseg
from custseg.api import Settings, create_app
from custseg.explain import explain_customers
from custseg.model import SegmentModel
from custseg.serving import model_card


def _feature(name: str, low: float, high: float) -> dict:
    return {"name": name, "kind": "numeric", "min": low, "max": high}


def _toy(scale: list[float], centers: list[list[float]]) -> SegmentModel:
    """Two features; centres given in the scaled space."""
    return SegmentModel.from_dict(
        {
            "format": "custseg-model",
            "schema_version": 1,
            "features": [_feature("Spend", 0, 100), _feature("Visits", 0, 50)],
            "preprocessing": {
                "missing": "impute",
                "impute_values": [5.0, 3.0],
                "scaling": {"method": "standard", "center": [0.0, 0.0], "scale": scale},
            },
            "algorithm": "kmeans",
            "centers": centers,
            "segments": [
                {"id": i, "name": name}
                for i, name in enumerate(["Low", "Big spenders", "Frequent"][: len(centers)])
            ],
            "training": {},
        }
    )


def test_the_lead_over_the_runner_up_by_feature_computed_by_hand():
    model = _toy([1.0, 1.0], [[0, 0], [10, 0], [0, 10]])
    x = np.array([[2.0, 1.0]])
    (why,) = explain_customers(model, x, np.array([0]))
    # d² to the centres: 5, 65, 85 -> own "Low", runner-up "Big spenders".
    # Spend: (2-10)² - (2-0)² = 60; Visits: (1-0)² - (1-0)² = 0; the lead is 60.
    assert why["segment"] == 0 and why["runner_up"] == {
        "segment": 1,
        "segment_name": "Big spenders",
    }
    assert [(f["field"], f["share"]) for f in why["features"]] == [("Spend", 1.0), ("Visits", 0.0)]
    assert why["margin"] == pytest.approx((math.sqrt(65) - math.sqrt(5)) / math.sqrt(65))
    spend = why["features"][0]
    assert (spend["value"], spend["segment_center"], spend["runner_up_center"]) == (2, 0, 10)
    assert why["sentence"] == (
        "Nearer 'Low' than 'Big spenders' because of Spend 2 (this segment 0, 'Big spenders' 10)."
    )


def test_values_and_centres_are_in_original_units():
    # Scaled by 10 and 5: the centre (1, 0) is Spend 10, Visits 0 in original units.
    model = _toy([10.0, 5.0], [[0, 0], [1, 0], [0, 2]])
    (why,) = explain_customers(model, np.array([[7.0, 1.0]]), np.array([1]))
    assert why["segment"] == 1 and why["runner_up"]["segment"] == 0
    spend = next(f for f in why["features"] if f["field"] == "Spend")
    assert (spend["value"], spend["segment_center"], spend["runner_up_center"]) == (7, 10, 0)
    # (0.7-0)² - (0.7-1)² = 0.4 of a lead of 0.4: Visits sits as far from both centres.
    assert spend["share"] == pytest.approx(1.0)


def test_a_missing_value_is_explained_as_filled():
    model = _toy([1.0, 1.0], [[0, 0], [10, 0]])
    (why,) = explain_customers(model, np.array([[np.nan, 1.0]]), np.array([0]))
    assert next(f["value"] for f in why["features"] if f["field"] == "Spend") == 5.0


def test_nothing_to_explain():
    model = _toy([1.0, 1.0], [[0, 0], [10, 0]])
    x = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 1.0]])
    assert explain_customers(model, x, np.array([-1, np.nan, 7])) == [None, None, None]
    single = _toy([1.0, 1.0], [[0, 0]])
    assert explain_customers(single, x[:1], np.array([0])) == [None]


@pytest.fixture(scope="module")
def sample_model():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return custseg.segment(custseg.make_customers(200, random_state=0), k=5, stability=0).model


def test_shares_add_up_and_centres_match_the_model_card(sample_model):
    X = custseg.make_customers(50, random_state=9)[sample_model.feature_names].to_numpy(float)
    segments = sample_model.predict_matrix(X)["segment"].to_numpy(dtype=float)
    card = {s["id"]: s["center"] for s in model_card(sample_model)["segments"]}
    for why, segment in zip(explain_customers(sample_model, X, segments), segments, strict=True):
        assert why["segment"] == segment
        assert sum(f["share"] for f in why["features"]) == pytest.approx(1.0)
        assert 0 <= why["margin"] <= 1
        for f in why["features"]:
            assert f["segment_center"] == pytest.approx(card[why["segment"]][f["field"]])
            runner_up = card[why["runner_up"]["segment"]][f["field"]]
            assert f["runner_up_center"] == pytest.approx(runner_up)


def test_the_api_explains_on_request(sample_model, tmp_path):
    path = sample_model.save(tmp_path / "model.json")
    customer = {"id": "c1", "Age": 30, "Annual Income (k$)": 88, "Spending Score (1-100)": 80}
    with TestClient(create_app(Settings(model_path=path))) as client:
        plain = client.post("/v1/score", json={"customers": [customer]}).json()["results"][0]
        assert plain["explanation"] is None
        body = {"customers": [customer], "explain": True}
        (result,) = client.post("/v1/score", json=body).json()["results"]
        bad = client.post("/v1/score", json={"customers": [customer], "explain": "yes"})
    why = result["explanation"]
    assert why["segment"] == result["segment"] == plain["segment"]
    X = np.array([[30, 88, 80]], dtype=float)
    assert why == explain_customers(sample_model, X, np.array([result["segment"]]))[0]
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "explain"
