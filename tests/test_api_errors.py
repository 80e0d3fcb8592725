"""Every failure of the scoring service has ONE JSON shape; this file pins it.

Each bad input is sent to a real ``custseg serve`` process; the 500 case, which
no request can cause on purpose, uses the same app in process.
"""

from __future__ import annotations

import json

import httpx
import pytest
from tests.api_helpers import assert_error_shape, serve

import custseg

GOOD = {"id": "c1", "Age": 30, "Annual Income (k$)": 80, "Spending Score (1-100)": 90}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("model")
    custseg.segment(custseg.make_customers(200, random_state=0), k=4).save(out)
    return out / "model.json"


@pytest.fixture(scope="module")
def url(model_path, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "serve.log"
    env = {"CUSTSEG_MAX_CUSTOMERS": "50", "CUSTSEG_MAX_BODY_BYTES": "20000"}
    with serve(model_path, log, env=env) as srv:
        yield srv.url + "/v1/score"


def post_raw(url: str, text: str) -> httpx.Response:
    return httpx.post(url, content=text.encode(), headers={"content-type": "application/json"})


def test_good_request_for_reference(url):
    assert httpx.post(url, json={"customers": [GOOD]}).status_code == 200


@pytest.mark.parametrize("missing", ["Age", "Spending Score (1-100)"])
def test_missing_feature_names_customer_index_and_field(url, missing):
    customers = [GOOD, GOOD, {k: v for k, v in GOOD.items() if k != missing}]
    error = assert_error_shape(httpx.post(url, json={"customers": customers}), 422)
    assert error["details"] == [
        {
            "loc": ["body", "customers", 2, missing],
            "customer": 2,
            "field": missing,
            "reason": "field required",
        }
    ]
    assert error["message"] == f"customer 2, field '{missing}': field required"


@pytest.mark.parametrize(
    ("literal", "reason"),
    [
        ('"thirty"', "must be a number"),
        ("true", "must be a number"),
        ("[1]", "must be a number"),
        ("NaN", "must be a finite number"),
        ("Infinity", "must be a finite number"),
        ("-Infinity", "must be a finite number"),
        ("1e400", "must be a finite number"),
        ("1e300", "between -1e100 and 1e100"),
    ],
)
def test_bad_value_gives_422_with_reason(url, literal, reason):
    text = json.dumps({"customers": [GOOD, GOOD]}).replace('"Age": 30', f'"Age": {literal}', 1)
    error = assert_error_shape(post_raw(url, text), 422)
    (detail,) = error["details"]
    assert (detail["customer"], detail["field"]) == (0, "Age")
    assert reason in detail["reason"]


def test_bad_id_type(url):
    error = assert_error_shape(httpx.post(url, json={"customers": [dict(GOOD, id=1.5)]}), 422)
    assert [(d["customer"], d["field"]) for d in error["details"]] == [(0, "id")]


@pytest.mark.parametrize(
    "text", ["{", '{"customers": [', "customers=1", '{"customers": [{"Age": 30,}]}', "\x00"]
)
def test_malformed_json_is_400(url, text):
    error = assert_error_shape(post_raw(url, text), 400)
    assert "not valid JSON" in error["message"]


@pytest.mark.parametrize(
    "text", ["", "[]", "null", "42", '{"customers": []}', '{"customers": {}}', '{"other": 1}']
)
def test_wrong_body_structure_is_422(url, text):
    assert_error_shape(post_raw(url, text), 422)


def test_too_many_customers_is_413(url):
    error = assert_error_shape(httpx.post(url, json={"customers": [GOOD] * 51}), 413)
    assert "limit is 50" in error["message"]
    assert httpx.post(url, json={"customers": [GOOD] * 50}).status_code == 200


def test_declared_body_over_limit_is_413(url):
    text = json.dumps({"customers": [GOOD], "padding": "x" * 30_000})
    error = assert_error_shape(post_raw(url, text), 413)
    assert "limit of 20000 bytes" in error["message"]


def test_streamed_body_over_limit_is_413(url):
    def chunks():
        yield b'{"customers": [], "padding": "'
        for _ in range(30):
            yield b"x" * 1000
        yield b'"}'

    # A generator body is sent chunked: no Content-Length for the gate to check.
    response = httpx.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert_error_shape(response, 413)


def test_unknown_path_and_wrong_method(url):
    base = url.rsplit("/v1/", 1)[0]
    assert_error_shape(httpx.get(base + "/v2/score"), 404)
    assert_error_shape(httpx.get(url), 405)
    assert_error_shape(httpx.put(base + "/v1/model"), 405)


def test_bad_content_length_is_400(url):
    # httpx would fix the header; write the request by hand.
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 12abc\r\nConnection: close\r\n\r\n{}"
        )
        reply = sock.recv(65536).decode("latin-1")
    assert reply.startswith("HTTP/1.1 400")  # uvicorn's own parser refuses it; never a 500


def test_unauthorised_has_the_shape(model_path):
    # In process, with the key from CUSTSEG_API_KEY (test_api_service.py runs a real
    # server with --api-key-file).
    from fastapi.testclient import TestClient

    from custseg.api import Settings, create_app

    settings = Settings.from_env({"CUSTSEG_API_KEY": "env-key"}, model_path=model_path)
    with TestClient(create_app(settings)) as client:
        assert_error_shape(client.post("/v1/score", json={"customers": [GOOD]}), 401)
        assert_error_shape(client.get("/v1/model"), 401)
        assert_error_shape(client.get("/openapi.json"), 401)
        ok = client.post(
            "/v1/score", json={"customers": [GOOD]}, headers={"Authorization": "Bearer env-key"}
        )
        assert ok.status_code == 200
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("explain", [False, True], ids=["plain floats", "numpy"])
def test_internal_error_has_the_shape(model_path, monkeypatch, explain):
    from fastapi.testclient import TestClient

    from custseg import serving
    from custseg.api import Settings, create_app, routes

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    # One customer is scored in plain floats; with an explanation, by score_records.
    monkeypatch.setattr(routes.RowScorer, "plain_records", broken)
    monkeypatch.setattr(serving, "score_records", broken)
    app = create_app(Settings(model_path=model_path))
    payload = {"customers": [GOOD], "explain": explain}
    with TestClient(app, raise_server_exceptions=False) as client:
        error = assert_error_shape(client.post("/v1/score", json=payload), 500)
    assert "boom" not in error["message"]


def test_every_documented_error_status_uses_the_shape(model_path):
    from custseg.api import Settings, create_app

    spec = create_app(Settings(model_path=model_path)).openapi()
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (
                        path,
                        status,
                    )
