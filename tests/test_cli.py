"""The installed ``custseg`` console script, run in a subprocess; wording checks in-process."""

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from tests.conftest import invoke_cli, run_cli

from custseg.verdicts import STRUCTURE_HEADLINES, silhouette_verdict, structure_words


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    proc = run_cli("demo", "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_demo_writes_sample_and_outputs(demo_run):
    out, proc = demo_run
    for name in (
        "customers.csv",
        "segments.csv",
        "summary.json",
        "model.json",
        "k_selection.csv",
        "report.html",
    ):
        assert (out / name).is_file(), name
    customers = pd.read_csv(out / "customers.csv", dtype=str)
    assert list(customers.columns) == [
        "CustomerID",
        "Gender",
        "Age",
        "Annual Income (k$)",
        "Spending Score (1-100)",
    ]
    assert len(customers) == 200
    assert "Segments" in proc.stdout and "K = " in proc.stdout
    assert str(out / "model.json") in proc.stdout


def test_segment_then_score_reproduces_labels(demo_run, tmp_path):
    out, _ = demo_run
    proc = run_cli("segment", out / "customers.csv", "--out", tmp_path / "run", "--k", "4")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["k"] == 4 and summary["k_selection"]["reason"] == "K=4 was given"
    for seg in summary["segments"]:
        assert seg["name"] in proc.stdout
    scored_path = tmp_path / "scored.csv"
    proc = run_cli(
        "score", tmp_path / "run" / "model.json", out / "customers.csv", "--out", scored_path
    )
    assert proc.returncode == 0, proc.stderr
    trained = pd.read_csv(tmp_path / "run" / "segments.csv", dtype=str)
    scored = pd.read_csv(scored_path, dtype=str)
    pd.testing.assert_frame_equal(trained, scored)
    assert "Scored 200 of 200 customers into 4 segment(s)" in proc.stdout


def test_no_report_run_removes_the_earlier_runs_report(demo_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(demo_run[0], run)  # an earlier run's results with its report
    assert (run / "report.html").is_file() and list((run / "charts").glob("*.png"))
    (run / "charts" / "holiday.png").write_bytes(b"the user's photo")  # not custseg's
    args = ("segment", run / "customers.csv", "--out", run, "--no-report")
    failed = run_cli(*args, "--k", "many")
    assert failed.returncode == 2 and (run / "report.html").is_file()  # nothing new written

    proc = run_cli(*args, "--k", "3", "--stability", "0")
    assert proc.returncode == 0, proc.stderr
    assert not (run / "report.html").exists()
    assert [p.name for p in (run / "charts").glob("*.png")] == ["holiday.png"]
    assert (run / "customers.csv").is_file()  # the input, written by the demo, is kept
    assert json.loads((run / "summary.json").read_text())["k"] == 3
    assert proc.stderr == (
        f"custseg: warning: removed the earlier run's report.html and charts/*.png from "
        f"{run}: it described other results; rebuild it with: custseg report {run}\n"
    )
    again = run_cli(*args, "--k", "3", "--stability", "0")
    assert again.returncode == 0 and again.stderr == ""  # nothing stale left to mention


@pytest.mark.parametrize("engine", ["local", "chunked"])
def test_a_run_without_report_keeps_the_users_files(demo_run, tmp_path, engine):
    run = tmp_path / "run"
    shutil.copytree(demo_run[0], run)  # an earlier run's results with its report
    (run / "charts" / "holiday.png").write_bytes(b"the user's photo")
    (run / "notes.txt").write_text("the user's notes")
    proc = run_cli(
        "segment", run / "customers.csv", "--out", run, "--no-report",
        "--k", "3", "--stability", "0", "--engine", engine,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert not (run / "report.html").exists()  # the earlier run's report went with it
    assert (run / "charts" / "holiday.png").read_bytes() == b"the user's photo"
    assert (run / "notes.txt").read_text() == "the user's notes"
    assert (run / "customers.csv").read_bytes() == (demo_run[0] / "customers.csv").read_bytes()


def test_segment_prints_roles_and_k_table(demo_run, tmp_path):
    out, _ = demo_run
    proc = invoke_cli("segment", out / "customers.csv", "--out", tmp_path / "r", "--k-max", "6")
    assert proc.returncode == 0, proc.stderr
    assert "CustomerID" in proc.stdout and "categorical" in proc.stdout
    assert "Choosing K" in proc.stdout
    k_table = pd.read_csv(tmp_path / "r" / "k_selection.csv")
    assert k_table["k"].tolist() == [2, 3, 4, 5, 6]


def test_features_option_matches_loosely(demo_run, tmp_path):
    out, _ = demo_run
    proc = invoke_cli(
        "segment",
        out / "customers.csv",
        "--out",
        tmp_path / "r",
        "--k",
        "3",
        "--features",
        "annual income (k$), SPENDING SCORE (1-100)",
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["features"] == ["Annual Income (k$)", "Spending Score (1-100)"]


def test_ids_are_written_back_exactly(tmp_path):
    src = tmp_path / "c.csv"
    src.write_text("CUST_ID;spend;visits\n0001;1,5;3\n0002;2,5;4\n0003;10,0;30\n0004;11,0;31\n")
    proc = invoke_cli("segment", src, "--out", tmp_path / "o", "--k", "2")
    assert proc.returncode == 0, proc.stderr
    lines = (tmp_path / "o" / "segments.csv").read_text().splitlines()
    # margin, borderline (issue 3) and other scoring columns may follow
    assert lines[0].startswith("CUST_ID,spend,visits,segment,segment_name,distance_to_center")
    assert [line.split(",")[0] for line in lines[1:]] == ["0001", "0002", "0003", "0004"]
    assert src.read_text().startswith("CUST_ID;spend;visits\n0001;1,5;3")


def test_missing_drop_rows_stay_in_output(tmp_path):
    src = tmp_path / "c.csv"
    src.write_text("id,a,b\n1,1,1\n2,1.2,1\n3,,5\n4,9,9\n5,9.5,9\n6,9,9.2\n")
    proc = invoke_cli("segment", src, "--out", tmp_path / "o", "--k", "2", "--missing", "drop")
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(tmp_path / "o" / "segments.csv", dtype=str, keep_default_na=False)
    assert len(table) == 6
    assert table.loc[2, "segment"] == "" and table.loc[2, "reason"] == "missing value in 'a'"
    assert "warning: 1 row(s) with missing values left out of fitting" in proc.stderr


def test_python_m_custseg_and_version():
    proc = subprocess.run(
        [sys.executable, "-m", "custseg", "--version"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0
    assert proc.stdout.startswith("custseg ")


def test_help_lists_the_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    for command in ("segment", "score", "demo"):
        assert command in proc.stdout


def test_terminal_and_report_use_the_same_quality_words(demo_run):
    out, proc = demo_run
    summary = json.loads((out / "summary.json").read_text())
    words = structure_words(silhouette_verdict(summary["metrics"]["silhouette"]))
    structure = summary["k_selection"]["structure"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"({words})" in proc.stdout and f"({words})" in html
    assert f"Structure: {structure} —" in proc.stdout
    assert STRUCTURE_HEADLINES[structure] in html
    for other in ("reasonable", "strong structure"):
        assert other not in html and other not in proc.stdout
