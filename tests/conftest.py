"""Shared fixtures: the console script and the CLI in-process, sample data, the real data."""

from __future__ import annotations

import contextlib
import os
import resource
import shutil

# One thread per process, set before NumPy or scikit-learn loads its thread pools:
# the suite runs two workers (pytest -n 2) on two cores, and OpenMP threads
# competing for a core make each small K-Means fit many times slower. Console
# scripts started by the tests inherit it. An explicit setting is kept.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

import custseg

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
CUSTSEG_BIN = Path(sys.executable).parent / "custseg"


#: One thread and few malloc arenas: a child's memory then follows its data, not its cores.
LEAN_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}


def lean_env() -> dict[str, str]:
    """The environment for a child run under a memory limit."""
    return {**os.environ, **LEAN_ENV}


def bare_peak_bytes(imports: str) -> int:
    """Peak address space of a child that only imports ``imports`` (a run before its data)."""
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import {imports};"
            "print(open('/proc/self/status').read().split('VmPeak:')[1].split()[0])",
        ],
        capture_output=True,
        text=True,
        env=lean_env(),
        check=True,
    )
    return int(probe.stdout.strip()) * 1024


def address_space_limit(limit_bytes: int) -> Callable[[], None]:
    """A ``preexec_fn`` that caps a child's address space (``ulimit -v``)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    return apply


def run_cli(
    *args: str | Path, cwd: Path | None = None, timeout: float = 600, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run the installed ``custseg`` console script in a subprocess."""
    return subprocess.run(
        [str(CUSTSEG_BIN), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        env=env,
    )


def invoke_cli(
    *args: str | Path, cwd: Path | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
    """Run a ``custseg`` command in this process, through Typer's test runner.

    The same commands, option parsing, error boundary, exit codes and output as the
    console script, without starting Python and loading the libraries again: for
    tests of what a command says and writes. :func:`run_cli` runs the installed
    script itself. Warnings are filtered as in a fresh interpreter, so a library's
    deprecation notice shows here no more than it does for a user.
    """
    from typer.testing import CliRunner

    from custseg.cli import app

    argv = [str(a) for a in args]
    with warnings.catch_warnings(), contextlib.chdir(cwd or Path.cwd()):
        warnings.resetwarnings()
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning):
            warnings.simplefilter("ignore", category)
        result = CliRunner().invoke(app, argv, env=env, catch_exceptions=False)
    return subprocess.CompletedProcess(
        ["custseg", *argv], result.exit_code, result.stdout, result.stderr
    )


def run_on_sample(
    folder: Path, command: str, *args: str, in_process: bool = False
) -> tuple[Path, subprocess.CompletedProcess]:
    """``custseg COMMAND customers.csv --out out ARGS`` in ``folder`` on the 200-customer
    sample; the run must succeed. Returns the out folder and the finished process.
    The console script runs it, or :func:`invoke_cli` with ``in_process``."""
    custseg.make_customers(200, random_state=0).to_csv(folder / "customers.csv", index=False)
    run = invoke_cli if in_process else run_cli
    proc = run(command, folder / "customers.csv", "--out", folder / "out", *args)
    assert proc.returncode == 0, proc.stderr
    return folder / "out", proc


def shared_file(name: str) -> Path:
    """A file of the shared real data; skip the test when it is absent (a user's clone)."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the shared real data is not beside this checkout")
    return path


@pytest.fixture
def cli():
    """Run a command in-process (:func:`invoke_cli`): for tests of what it says and writes."""
    return invoke_cli


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession (``local[2]``) for every Spark test of a worker: the JVM
    takes long to start. Skips when the spark extra or Java is missing."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("Java is not installed; Spark needs Java 17+")
    from custseg.backends.spark_session import spark_session

    session = spark_session("local[2]", app_name="custseg-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_frame():
    """The bundled 200-customer sample (text-free typed frame)."""
    return custseg.make_customers(200, random_state=0)


@pytest.fixture
def sample_csv(tmp_path, sample_frame) -> Path:
    path = tmp_path / "customers.csv"
    sample_frame.to_csv(path, index=False)
    return path


@pytest.fixture
def mall_csv() -> Path:
    return shared_file("mall_customers.csv")
