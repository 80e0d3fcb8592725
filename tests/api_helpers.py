"""Run the real ``custseg serve`` / ``custseg dashboard`` on a free 127.0.0.1 port."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.conftest import CUSTSEG_BIN

from custseg.api.errors import ERROR_CODES


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"server exited with {proc.returncode} before answering:\n{log.read_text()}"
            )
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer {url} within {timeout}s:\n{log.read_text()}")


@contextlib.contextmanager
def running(
    args: list[str],
    *,
    probe: str,
    log: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[Server]:
    """Start ``custseg <args> --port <free>``, wait until ``probe`` answers, stop it after."""
    port = free_port()
    # The caller's own CUSTSEG_* settings (an API key, say) must not leak into the server.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("CUSTSEG_")}
    full_env = {**inherited, **(env or {})}
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [str(CUSTSEG_BIN), *args, "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url + probe, proc, log, timeout)
        yield Server(url=url, process=proc, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def serve(
    model: Path,
    log: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
):
    """``custseg serve MODEL`` on a free port."""
    return running(
        ["serve", str(model), *extra], probe="/healthz", log=log, env=env, timeout=timeout
    )


def assert_error_shape(response: httpx.Response, status: int) -> dict:
    """The one shape: {"error": {status, code, message, details[]}}, nothing else."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"status", "code", "message", "details"}
    assert error["status"] == status
    assert error["code"] == ERROR_CODES[status]
    assert isinstance(error["message"], str) and error["message"]
    assert "\n" not in error["message"]
    for detail in error["details"]:
        assert set(detail) == {"loc", "customer", "field", "reason"}
    return error
