"""The scoring service with other engines: mixture probabilities and density noise.

In process (FastAPI's TestClient): the HTTP layer is covered against a real
server in test_api_service.py; here the question is what each engine's model
puts in the response.
"""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

import custseg
from custseg.api import Settings, create_app
from custseg.api.schemas import ScoreResponse

FEATURES = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
PROBES = np.array([[30, 80, 90], [70, 140, 50], [45, 60, 50], [22, 20, 95]], dtype=float)


def _client(tmp_path, algorithm: str, k: int | None) -> tuple[TestClient, custseg.SegmentModel]:
    if algorithm not in custseg.available_engines():
        pytest.skip(f"engine {algorithm!r} is not registered in this custseg")
    result = custseg.segment(
        custseg.make_customers(300, random_state=0), algorithm=algorithm, k=k, random_state=1
    )
    result.save(tmp_path)
    return TestClient(create_app(Settings(model_path=tmp_path / "model.json"))), result.model


def _score(client: TestClient) -> dict:
    customers = [dict(zip(FEATURES, map(float, row), strict=True)) for row in PROBES]
    response = client.post("/v1/score", json={"customers": customers})
    assert response.status_code == 200, response.text
    body = response.json()
    ScoreResponse.model_validate(body)
    return body


def test_gmm_probabilities_by_segment_id(tmp_path):
    client, model = _client(tmp_path, "gmm", 4)
    assert client.get("/v1/model").json()["has_probabilities"] is True
    expected = model.predict_matrix(PROBES)
    for i, result in enumerate(_score(client)["results"]):
        probs = result["probabilities"]
        assert set(probs) == {str(s["id"]) for s in model.segments}
        assert sum(probs.values()) == pytest.approx(1.0)
        assert result["segment"] == int(expected["segment"][i])
        # The very numbers predict_matrix gives (the custseg score columns).
        assert probs == {
            c.removeprefix("probability_"): float(expected[c][i])
            for c in expected.columns
            if c.startswith("probability_")
        }


def test_density_noise_is_segment_minus_one(tmp_path):
    client, model = _client(tmp_path, "hdbscan", None)
    expected = model.predict_matrix(PROBES)
    results = _score(client)["results"]
    assert [r["segment"] for r in results] == [int(s) for s in expected["segment"]]
    card = client.get("/v1/model").json()
    for result in results:
        if result["segment"] == -1:
            assert result["segment_name"] == "Unassigned"
            assert result["distance_to_center"] is None
    noise = [s for s in card["segments"] if s["id"] == -1]
    assert all(s["center"] is None for s in noise)
