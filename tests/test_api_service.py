"""The scoring service, run for real: ``custseg serve`` under uvicorn, called with httpx."""

from __future__ import annotations

import json
import subprocess

import httpx
import numpy as np
import pandas as pd
import pytest
from tests.api_helpers import serve
from tests.conftest import CUSTSEG_BIN, REPO, run_cli

import custseg
from custseg.api.schemas import ScoredCustomer, ScoreResponse
from custseg.io import write_csv
from custseg.serving import PLAIN_MAX_ROWS

FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
SECRET_ID = "cust-7f3a-do-not-log"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained by the CLI on the bundled sample."""
    out = tmp_path_factory.mktemp("train")
    data = write_csv(custseg.make_customers(200, random_state=0), out / "customers.csv")
    proc = run_cli("segment", data, "--out", out, "--k", "5")
    assert proc.returncode == 0, proc.stderr
    return out / "model.json"


@pytest.fixture(scope="module")
def server(trained, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "serve.log"
    with serve(trained, log) as srv:
        yield srv


@pytest.fixture(scope="module")
def new_customers():
    """Customers the model never saw: decimals, a blank cell, and far-out values."""
    frame = custseg.make_customers(300, random_state=11)
    frame["Age"] = (frame["Age"] + np.linspace(0, 0.99, len(frame)).round(2)).astype(str)
    frame = frame.astype(str)
    frame.loc[3, "Annual Income (k$)"] = ""  # imputed by the model, as in custseg score
    frame.loc[5, "Age"] = "250"  # far above the training range: flagged
    frame.loc[6, "Spending Score (1-100)"] = "-90.5"
    return frame


def _as_payload(frame: pd.DataFrame) -> dict:
    customers = []
    for row in frame.to_dict(orient="records"):
        item = {"id": row["CustomerID"]}
        for f in FEATURES:
            item[f] = None if row[f] == "" else float(row[f])
        customers.append(item)
    return {"customers": customers}


def test_healthz_and_docs(server):
    health = httpx.get(server.url + "/healthz").json()
    assert health["status"] == "ok" and health["ready"] is True
    docs = httpx.get(server.url + "/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    spec = httpx.get(server.url + "/openapi.json").json()
    assert {"/v1/score", "/v1/model", "/healthz"} <= set(spec["paths"])
    customer = spec["components"]["schemas"]["Customer"]
    # The request schema is the model's features, by their exact column names.
    assert set(customer["required"]) == set(FEATURES)
    assert (
        spec["components"]["schemas"]["ScoreRequest"]["properties"]["customers"]["maxItems"]
        == 10_000
    )


def test_scores_equal_custseg_score_exactly(server, trained, new_customers, tmp_path):
    data = write_csv(new_customers, tmp_path / "new.csv")
    proc = run_cli("score", trained, data, "--out", tmp_path / "scored.csv")
    assert proc.returncode == 0, proc.stderr
    expected = pd.read_csv(tmp_path / "scored.csv", dtype=str, keep_default_na=False)

    response = httpx.post(server.url + "/v1/score", json=_as_payload(new_customers), timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    # The documented response schema, field for field.
    ScoreResponse.model_validate(body)
    assert set(body) == set(ScoreResponse.model_fields)
    assert all(set(r) == set(ScoredCustomer.model_fields) for r in body["results"])
    assert body["n_customers"] == len(new_customers)
    results = body["results"]
    assert [r["id"] for r in results] == new_customers["CustomerID"].tolist()
    assert [r["index"] for r in results] == list(range(len(new_customers)))
    assert [r["segment"] for r in results] == expected["segment"].astype(int).tolist()
    assert [r["segment_name"] for r in results] == expected["segment_name"].tolist()
    # Bit-for-bit: the CSV's shortest round-trip text parses to the very same double.
    assert [r["distance_to_center"] for r in results] == [
        float(v) for v in expected["distance_to_center"]
    ]
    assert all(r["probabilities"] is None for r in results)  # K-Means has none


def test_one_customer_answers_as_in_a_batch(server, new_customers):
    """A few customers are scored in plain floats, a batch in NumPy: the same results."""
    payload = _as_payload(new_customers.head(PLAIN_MAX_ROWS + 12))
    batch = httpx.post(server.url + "/v1/score", json=payload, timeout=30).json()["results"]
    assert len(batch) > PLAIN_MAX_ROWS
    with httpx.Client(base_url=server.url) as client:
        for customer, expected in zip(payload["customers"], batch, strict=True):
            response = client.post("/v1/score", json={"customers": [customer]})
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            (result,) = response.json()["results"]
            assert result == {**expected, "index": 0}


def test_far_values_are_scored_and_flagged(server, new_customers):
    results = httpx.post(
        server.url + "/v1/score", json=_as_payload(new_customers), timeout=30
    ).json()["results"]
    flagged = {
        r["index"]: [w for w in r["warnings"] if w["kind"] == "far_outside"]
        for r in results
        if any(w["kind"] == "far_outside" for w in r["warnings"])
    }
    assert set(flagged) == {5, 6}
    (filled,) = results[3]["warnings"]  # the blank income, filled with the median
    assert (filled["kind"], filled["field"]) == ("filled", "Annual Income (k$)")
    (age,) = flagged[5]
    assert age["field"] == "Age" and age["value"] == 250.0
    assert age["training_min"] <= age["training_max"] < 250
    assert "far above the training range" in age["message"]
    assert flagged[6][0]["field"] == "Spending Score (1-100)"
    assert "far below" in flagged[6][0]["message"]
    assert results[5]["segment"] is not None  # still scored


def test_value_just_outside_range_is_not_flagged(server):
    model = httpx.get(server.url + "/v1/model").json()
    age = next(f for f in model["features"] if f["name"] == "Age")
    edge = age["max"] + 0.5 * (age["max"] - age["min"])  # exactly at the tolerance
    customer = {"Age": edge, "Annual Income (k$)": 50, "Spending Score (1-100)": 50}
    (result,) = httpx.post(server.url + "/v1/score", json={"customers": [customer]}).json()[
        "results"
    ]
    assert result["warnings"] == []
    customer["Age"] = edge + 1
    (result,) = httpx.post(server.url + "/v1/score", json={"customers": [customer]}).json()[
        "results"
    ]
    assert [w["field"] for w in result["warnings"]] == ["Age"]


def test_model_endpoint_describes_features_segments_and_provenance(server, trained):
    card = httpx.get(server.url + "/v1/model").json()
    saved = json.loads(trained.read_text())
    assert [f["name"] for f in card["features"]] == FEATURES
    for feature, stored in zip(card["features"], saved["features"], strict=True):
        assert feature["dtype"] == "float64"
        assert (feature["min"], feature["max"]) == (stored["min"], stored["max"])
        assert feature["quantiles"] == stored["quantiles"]
    assert [s["name"] for s in card["segments"]] == [s["name"] for s in saved["segments"]]
    assert card["training"]["fingerprint"] == saved["training"]["fingerprint"]
    assert card["model_version"].startswith("sha256:")
    assert card["algorithm"] == "kmeans" and card["has_probabilities"] is False
    # Profiles: each centre in original units sits inside the training range.
    for seg in card["segments"]:
        for f in card["features"]:
            assert f["min"] <= seg["center"][f["name"]] <= f["max"]
        assert set(seg["z"]) == set(FEATURES)


def test_request_bodies_are_never_logged(server):
    customer = {"id": SECRET_ID, "Age": 41.25, "Annual Income (k$)": 77.125,
                "Spending Score (1-100)": 12.5}  # fmt: skip
    assert httpx.post(server.url + "/v1/score", json={"customers": [customer]}).is_success
    bad = dict(customer, Age=float("nan"))
    assert (
        httpx.post(
            server.url + "/v1/score",
            content=json.dumps({"customers": [bad]}),
            headers={"content-type": "application/json"},
        ).status_code
        == 422
    )
    log = server.log_text()
    assert "POST /v1/score" in log  # the access log is on...
    assert SECRET_ID not in log and "77.125" not in log  # ...but carries no body


def test_api_key_guards_everything_but_healthz(trained, tmp_path):
    key_file = tmp_path / "key.txt"
    key_file.write_text("s3cret-key-42\n")
    with serve(trained, tmp_path / "serve.log", "--api-key-file", str(key_file)) as srv:
        assert httpx.get(srv.url + "/healthz").status_code == 200
        good = {"Authorization": "Bearer s3cret-key-42"}
        for path in ("/v1/model", "/openapi.json", "/docs", "/no-such-path"):
            denied = httpx.get(srv.url + path)
            assert denied.status_code == 401, path
            assert denied.headers["www-authenticate"] == "Bearer"
            assert denied.json()["error"]["code"] == "unauthorized"
        wrong = httpx.get(srv.url + "/v1/model", headers={"Authorization": "Bearer s3cret-key-4"})
        assert wrong.status_code == 401
        basic = httpx.get(srv.url + "/v1/model", headers={"Authorization": "Basic s3cret-key-42"})
        assert basic.status_code == 401
        assert httpx.get(srv.url + "/v1/model", headers=good).status_code == 200
        customer = {"Age": 30, "Annual Income (k$)": 80, "Spending Score (1-100)": 90}
        assert httpx.post(srv.url + "/v1/score", json={"customers": [customer]}).status_code == 401
        scored = httpx.post(srv.url + "/v1/score", json={"customers": [customer]}, headers=good)
        assert scored.status_code == 200
        spec = httpx.get(srv.url + "/openapi.json", headers=good).json()
        assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
        assert spec["paths"]["/v1/score"]["post"]["security"] == [{"bearer": []}]
        assert "security" not in spec["paths"]["/healthz"]["get"]
        assert "s3cret-key-42" not in srv.log_text()


def test_bad_model_or_key_file_is_one_line_exit_2(trained, tmp_path):
    (tmp_path / "empty.json").write_text("{}")
    (tmp_path / "key.txt").write_text("  \n")
    cases = {
        "does not exist": [tmp_path / "missing.json"],
        "is not a custseg model (no": [tmp_path / "empty.json"],
        "is empty": [trained, "--api-key-file", tmp_path / "key.txt"],
    }
    # Started together: each is a whole interpreter start-up.
    procs = {
        expected: subprocess.Popen(
            [str(CUSTSEG_BIN), "serve", *map(str, args), "--port", "1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for expected, args in cases.items()
    }
    for expected, proc in procs.items():
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 2, (expected, stderr)
        assert stderr.count("\n") == 1 and expected in stderr, stderr
        assert stderr.startswith("custseg: error: ") and "Traceback" not in stderr


def test_settings_are_documented():
    from custseg.api import Settings

    doc = (REPO / "docs" / "api.md").read_text()
    for name, var in Settings.env_names().items():
        assert var in doc, f"setting {name} ({var}) is missing from docs/api.md"
