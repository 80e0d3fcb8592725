"""``custseg serve --workers 2``: one model, pinned by version, in every worker.

The model file is replaced, then deleted, while the service runs; workers are
killed and restarted by uvicorn. Every answer must come from the model the
service started with, and ``/healthz`` must say that the file moved on.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
from pathlib import Path

import httpx
import pytest
from tests.api_helpers import serve
from tests.conftest import run_cli

import custseg
from custseg.api import Settings, create_app, create_app_from_env
from custseg.errors import ModelError

GOOD = {"Age": 30, "Annual Income (k$)": 80, "Spending Score (1-100)": 90}


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("models")
    frame = custseg.make_customers(200, random_state=0)
    custseg.segment(frame, k=4, stability=0).save(out / "four")
    custseg.segment(frame, k=6, stability=0).save(out / "six")
    return out / "four" / "model.json", out / "six" / "model.json"


def _workers(pid: int) -> set[int]:
    """Worker processes of the uvicorn supervisor ``pid`` (multiprocessing spawns them)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {
        int(c)
        for c in children
        if b"multiprocessing" in Path(f"/proc/{c}/cmdline").read_bytes()
        and b"resource_tracker" not in Path(f"/proc/{c}/cmdline").read_bytes()
    }


def _versions(url: str, n: int = 40) -> list[str]:
    # A new connection per request, so the kernel spreads them over the workers.
    return [
        httpx.post(url + "/v1/score", json={"customers": [GOOD]}, timeout=30).json()[
            "model_version"
        ]
        for _ in range(n)
    ]


def _started(srv) -> int:
    return srv.log_text().count("Application startup complete")


def _replace_worker(srv, victim: int, deadline: float = 90) -> int:
    """SIGKILL a worker; wait until uvicorn's replacement has started; its pid."""
    before, started = _workers(srv.process.pid), _started(srv)
    os.kill(victim, signal.SIGKILL)
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        now = _workers(srv.process.pid)
        fresh = now - before
        if fresh and len(now) == 2 and _started(srv) > started:
            return fresh.pop()
        time.sleep(0.2)
    pytest.fail(f"uvicorn did not replace worker {victim}:\n{srv.log_text()}")


def _answered_by(srv, pid: int) -> bool:
    return re.search(rf"\[{pid}\] .*\"POST /v1/score", srv.log_text()) is not None


def test_workers_serve_the_pinned_model_after_the_file_changes(models, tmp_path):
    four, six = models
    served = tmp_path / "model.json"
    shutil.copy(four, served)
    # Two interpreters import pandas and scikit-learn: slow on a busy machine.
    with serve(served, tmp_path / "serve.log", "--workers", "2", timeout=240) as srv:
        version = httpx.get(srv.url + "/v1/model").json()["model_version"]
        deadline = time.monotonic() + 90
        while len(_workers(srv.process.pid)) < 2 or _started(srv) < 2:
            assert time.monotonic() < deadline, srv.log_text()
            time.sleep(0.2)
        assert set(_versions(srv.url)) == {version}

        shutil.copy(six, served)  # a different model under the same name
        first, second = sorted(_workers(srv.process.pid))
        fresh = _replace_worker(srv, first)
        assert set(_versions(srv.url)) == {version}
        health = httpx.get(srv.url + "/healthz").json()
        assert health["model_version"] == version and health["model_file"] == "changed"

        served.unlink()  # and then no model file at all
        _replace_worker(srv, second)
        assert set(_versions(srv.url, 60)) == {version}
        assert httpx.get(srv.url + "/healthz").json()["model_file"] == "missing"
        assert _answered_by(srv, fresh)  # a restarted worker did answer
        assert "Traceback" not in srv.log_text()


def test_a_worker_refuses_a_model_of_another_version(models, monkeypatch):
    four, six = models
    pinned = create_app(Settings(model_path=four)).state.card["model_version"]
    with pytest.raises(ModelError, match="restart custseg serve"):
        create_app(Settings(model_path=six, model_version=pinned))
    monkeypatch.setenv("CUSTSEG_MODEL", str(six))
    monkeypatch.setenv("CUSTSEG_MODEL_VERSION", pinned)
    # uvicorn stops the whole service on this exit code instead of restarting the worker.
    with pytest.raises(SystemExit) as stopped:
        create_app_from_env()
    assert stopped.value.code == 3


def test_serve_refuses_a_pinned_version_the_file_does_not_hold(models):
    four, _ = models
    proc = run_cli(
        "serve", four, "--port", "1", env={**os.environ, "CUSTSEG_MODEL_VERSION": "sha256:0"}
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("custseg: error: ") and proc.stderr.count("\n") == 1
    assert "not sha256:0" in proc.stderr
