"""The scoring service under hostile or careless clients, run for real.

Each test starts ``custseg serve`` under uvicorn and talks to it over a socket:
odd text, wrong media types, stalled and oversized bodies, more requests than a
worker takes at once, and query strings that must not reach the log.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tests.api_helpers import assert_error_shape, serve

import custseg

GOOD = {"id": "c1", "Age": 30, "Annual Income (k$)": 80, "Spending Score (1-100)": 90}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model")
    custseg.segment(custseg.make_customers(200, random_state=0), k=4, stability=0).save(out)
    return out / "model.json"


@pytest.fixture(scope="module")
def server(model_path, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "serve.log"
    env = {"CUSTSEG_BODY_TIMEOUT": "1.5", "CUSTSEG_MAX_CONCURRENT": "2"}
    with serve(model_path, log, env=env) as srv:
        yield srv


def _stalled_post(url: str, declared: int = 1000) -> socket.socket:
    """A POST that sends its headers and a few bytes of a longer body, then nothing."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
    sock.sendall(
        b"POST /v1/score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {declared}\r\n\r\n".encode()
        + b'{"customers": ['
    )
    return sock


def _reply(sock: socket.socket) -> str:
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            break
        chunks.append(data)
        if b"\r\n\r\n" in b"".join(chunks) and b"}}" in data:
            break
    return b"".join(chunks).decode("latin-1")


def test_a_lone_surrogate_in_an_id_is_refused_not_a_500(server):
    text = '{"customers": [{"id": "\\ud800", "Age": 30, "Annual Income (k$)": 80, ' \
           '"Spending Score (1-100)": 90}]}'  # fmt: skip
    response = httpx.post(
        server.url + "/v1/score", content=text, headers={"content-type": "application/json"}
    )
    error = assert_error_shape(response, 400)
    assert "not valid JSON" in error["message"]
    assert "\\ud800" not in response.text  # never repeats what was sent


def test_ids_are_echoed_up_to_a_length(server):
    long_id = "x" * 300
    response = httpx.post(server.url + "/v1/score", json={"customers": [dict(GOOD, id=long_id)]})
    error = assert_error_shape(response, 422)
    assert error["details"][0]["field"] == "id"
    ok = httpx.post(server.url + "/v1/score", json={"customers": [dict(GOOD, id="é" * 256)]})
    assert ok.json()["results"][0]["id"] == "é" * 256


@pytest.mark.parametrize(
    "media", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"]
)
def test_a_body_that_is_not_json_is_415(server, media):
    response = httpx.post(
        server.url + "/v1/score", content=json.dumps({"customers": [GOOD]}),
        headers={"content-type": media},
    )  # fmt: skip
    error = assert_error_shape(response, 415)
    assert "Content-Type: application/json" in error["message"]


def test_json_media_types_with_parameters_are_accepted(server):
    for media in ("application/json; charset=utf-8", "application/vnd.api+json"):
        response = httpx.post(
            server.url + "/v1/score", content=json.dumps({"customers": [GOOD]}),
            headers={"content-type": media},
        )  # fmt: skip
        assert response.status_code == 200, (media, response.text)


def test_head_healthz_and_readiness(server):
    head = httpx.head(server.url + "/healthz")
    assert head.status_code == 200 and head.content == b""
    health = httpx.get(server.url + "/healthz").json()
    version = httpx.get(server.url + "/v1/model").json()["model_version"]
    assert health == {
        "status": "ok",
        "ready": True,
        "model_version": version,
        "model_file": "unchanged",
    }


def test_query_strings_never_reach_the_access_log(server):
    secret = "k-7d1e-never-logged"
    response = httpx.post(
        server.url + f"/v1/score?api_key={secret}&email=ann@example.com",
        json={"customers": [GOOD]},
    )
    assert response.status_code == 200
    httpx.get(server.url + f"/v1/model?token={secret}")
    time.sleep(0.5)  # the access line is written after the response
    log = server.log_text()
    assert '"POST /v1/score HTTP/1.1" 200' in log
    assert '"GET /v1/model HTTP/1.1" 200' in log
    assert secret not in log and "ann@example.com" not in log


def test_a_null_filled_with_the_median_is_reported(server):
    model = httpx.get(server.url + "/v1/model").json()
    (result,) = httpx.post(
        server.url + "/v1/score", json={"customers": [dict(GOOD, Age=None)]}
    ).json()["results"]
    (warning,) = result["warnings"]
    assert warning["kind"] == "filled" and warning["field"] == "Age"
    assert warning["value"] is None
    median = model["features"][0]["quantiles"][5]
    assert warning["filled_with"] == median
    assert result["segment"] is not None


def test_a_stalled_body_gets_408_and_frees_its_slot(server):
    start = time.monotonic()
    sock = _stalled_post(server.url)
    with sock:
        reply = _reply(sock)
    assert reply.startswith("HTTP/1.1 408"), reply[:200]
    body = json.loads(reply.split("\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "request_timeout"
    assert 1.4 < time.monotonic() - start < 8
    assert httpx.post(server.url + "/v1/score", json={"customers": [GOOD]}).status_code == 200


def test_more_scoring_requests_than_the_limit_get_503(server):
    stalled = [_stalled_post(server.url) for _ in range(2)]  # the limit is 2
    try:
        time.sleep(0.3)
        busy = httpx.post(server.url + "/v1/score", json={"customers": [GOOD]})
        error = assert_error_shape(busy, 503)
        assert busy.headers["retry-after"] == "1"
        assert "limit per worker is 2" in error["message"]
        # Probes and the model card are not scoring work: they still answer.
        assert httpx.get(server.url + "/healthz").status_code == 200
        assert httpx.get(server.url + "/v1/model").status_code == 200
    finally:
        for sock in stalled:
            sock.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if httpx.post(server.url + "/v1/score", json={"customers": [GOOD]}).status_code == 200:
            break
        time.sleep(0.2)
    else:
        pytest.fail("the slots of closed connections were never freed")


def _rss_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for {pid}")


def test_twelve_big_bodies_at_once_keep_memory_bounded(model_path, tmp_path):
    # 10,000 customers with a long ignored note each: 15 MB, under the 16 MiB limit.
    customer = dict(GOOD, note="n" * 1400)
    body = json.dumps({"customers": [customer] * 10_000}).encode()
    assert 14e6 < len(body) < 16 * 1024 * 1024
    with serve(model_path, tmp_path / "serve.log") as srv:
        before = _rss_mb(srv.process.pid, "VmRSS")
        statuses: list[int] = []

        def send() -> None:
            response = httpx.post(
                srv.url + "/v1/score", content=body,
                headers={"content-type": "application/json"}, timeout=120,
            )  # fmt: skip
            statuses.append(response.status_code)

        threads = [threading.Thread(target=send) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        peak = _rss_mb(srv.process.pid, "VmHWM")
        after = _rss_mb(srv.process.pid, "VmRSS")
        assert set(statuses) <= {200, 503} and statuses.count(200) >= 1, statuses
        assert httpx.get(srv.url + "/healthz").status_code == 200
    # Was 1.28 GB and stayed there; now a few bodies' worth above the idle server.
    assert peak - before < 450, (before, peak, after)
    assert after - before < 300, (before, peak, after)
