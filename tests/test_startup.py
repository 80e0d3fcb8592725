"""Each command imports only what it needs (custseg._lazy): checked on the real console script.

Python's ``-X importtime`` (``PYTHONPROFILEIMPORTTIME``) lists every module a
process imports; these tests read that list. Timings live in benchmarks/startup.py.
"""

from __future__ import annotations

import importlib
import os
import pkgutil

import pytest
from tests.conftest import run_cli

import custseg

#: Libraries that cost a noticeable part of a second to import.
HEAVY = (
    "altair",
    "fastapi",
    "pandas",
    "pyarrow",
    "pymc",
    "pymc_marketing",
    "pyspark",
    "scipy",
    "sklearn",
    "streamlit",
    "uvicorn",
    "vl_convert",
)


def imported_by(*args, cwd=None) -> tuple[set[str], object]:
    """Top-level packages imported by ``custseg ARGS``, and the finished process."""
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    proc = run_cli(*args, cwd=cwd, env=env)
    names = {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    messages = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    proc.stderr = "\n".join(messages)
    return names, proc


def test_help_imports_no_heavy_library():
    names, proc = imported_by("--help")
    assert proc.returncode == 0
    assert "segment" in proc.stdout
    assert names.isdisjoint(HEAVY), sorted(names & set(HEAVY))


def test_refused_input_imports_no_heavy_library(tmp_path):
    names, proc = imported_by("segment", tmp_path / "absent.csv", "--out", tmp_path / "out")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"custseg: error: input file '{tmp_path / 'absent.csv'}' does not exist; check the path"
    )
    assert names.isdisjoint(HEAVY), sorted(names & set(HEAVY))
    assert "pydantic" not in names


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("startup")
    custseg.make_customers(60, random_state=0).to_csv(folder / "customers.csv", index=False)
    result = custseg.segment(folder / "customers.csv", k=3, stability=0, random_state=0)
    result.save(folder / "run")
    return folder


def test_score_loads_pandas_but_no_model_fitting_library(run_dir):
    names, proc = imported_by(
        "score", run_dir / "run" / "model.json", run_dir / "customers.csv", "--out", "s.csv",
        cwd=run_dir,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "pandas" in names
    assert names.isdisjoint({"sklearn", "scipy", "altair", "pyspark", "fastapi", "streamlit"})


def test_segment_without_report_loads_no_chart_or_service_library(run_dir):
    names, proc = imported_by(
        "segment", run_dir / "customers.csv", "--out", run_dir / "seg", "--no-report",
        "--k", "3", "--stability", "0", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "sklearn" in names
    assert names.isdisjoint({"altair", "vl_convert", "pyspark", "fastapi", "streamlit", "pymc"})
    assert "pydantic" not in names  # a plain line skips Typer's parsing (custseg.cli._quick)


def _packages() -> list[str]:
    found = ["custseg"]
    for info in pkgutil.walk_packages(custseg.__path__, "custseg."):
        if info.ispkg and info.name.split(".")[1] not in ("api", "dashboard", "cli", "report"):
            found.append(info.name)
    return found


@pytest.mark.parametrize("name", _packages())
def test_every_exported_name_resolves(name):
    package = importlib.import_module(name)
    for exported in getattr(package, "__all__", []):
        assert getattr(package, exported) is not None, f"{name}.{exported}"
        assert exported in dir(package)


def test_submodules_load_on_first_use():
    module = custseg.segmentation.compare
    assert module.__name__ == "custseg.segmentation.compare"
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        _ = custseg.segmentation.nope
