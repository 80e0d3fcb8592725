"""Real-shaped customer tables through the CLI: number formats, codes, flags, custseg's own
columns."""

from __future__ import annotations

import json

import pandas as pd

from custseg.datasets import WHOLESALE_SPEND, make_transactions, make_wholesale_customers

QUICK = ("--k", "3", "--stability", "0", "--no-report")


def _wholesale(tmp_path, *, thousands: bool = True):
    frame = make_wholesale_customers(200, random_state=1)
    frame["Newsletter"] = ["Yes", "No", "No", "no"] * 50
    if thousands:
        for col in WHOLESALE_SPEND:
            frame[col] = frame[col].map(lambda v: f"{v / 2:,.1f}")  # "12,669.5"
    path = tmp_path / "wholesale.csv"
    frame.to_csv(path, index=False)
    return path


def _summary(out) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_thousands_separators_are_read_and_codes_and_flags_left_out(tmp_path, cli):
    proc = cli("segment", _wholesale(tmp_path), "--out", tmp_path / "out", *QUICK)
    assert proc.returncode == 0, proc.stderr
    summary = _summary(tmp_path / "out")
    assert summary["features"] == WHOLESALE_SPEND
    roles = {c["name"]: c["role"] for c in summary["columns"]}
    assert roles["Channel"] == roles["Region"] == "code"
    assert roles["Newsletter"] == "flag"
    skipped = {s["column"]: s["reason"] for s in summary["skipped"]}
    assert skipped["Region"].startswith("a code: 3 whole-number labels (1, 2, 3), named 'region'")
    assert "name it in --features to use it as categories" in skipped["Region"]
    # Channel and Region read as codes in the terminal's column table, with the reason.
    assert "code" in proc.stdout and "named 'channel'" in proc.stdout


def test_named_codes_are_categories_and_flags_indicators(tmp_path, cli):
    out = tmp_path / "out"
    proc = cli(
        "segment", _wholesale(tmp_path), "--out", out, *QUICK,
        "--features", "Fresh,Region,Newsletter",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = _summary(out)
    assert summary["features"] == ["Fresh", "Region=1", "Region=2", "Region=3", "Newsletter"]
    model = json.loads((out / "model.json").read_text())
    kinds = {f["name"]: f["kind"] for f in model["features"]}
    assert kinds["Newsletter"] == "flag" and kinds["Region=2"] == "category"
    shares = [s["mean"]["Newsletter"] for s in summary["segments"]]
    assert all(0.0 <= v <= 1.0 for v in shares)  # a share of customers, never a mean code
    scored = tmp_path / "scored.csv"
    assert cli("score", out / "model.json", _wholesale(tmp_path), "--out", scored).returncode == 0
    segments = pd.read_csv(out / "segments.csv")
    assert pd.read_csv(scored)["segment"].tolist() == segments["segment"].tolist()


def test_a_column_of_unreadable_numbers_is_never_dropped_silently(tmp_path, cli):
    frame = make_wholesale_customers(60, random_state=2)
    frame["Grocery"] = frame["Grocery"].map(lambda v: f"{v:,}.5.0")  # "4,418.5.0"
    path = tmp_path / "w.csv"
    frame.to_csv(path, index=False)
    proc = cli("segment", path, "--out", tmp_path / "out", *QUICK)
    assert proc.returncode == 0, proc.stderr
    assert "custseg: warning: column 'Grocery' is skipped: it looks numeric, but 60 of 60" in (
        proc.stderr
    )
    assert "(e.g. '1" in proc.stderr
    named = cli("segment", path, "--out", tmp_path / "out2", *QUICK, "--features", "Fresh,Grocery")
    assert named.returncode == 2
    assert "column 'Grocery'" in named.stderr and "must be numeric; found" in named.stderr
    assert "Traceback" not in named.stderr


def test_segmenting_a_custseg_output_again_skips_what_custseg_wrote(tmp_path, cli):
    first = tmp_path / "first"
    path = _wholesale(tmp_path, thousands=False)
    assert cli("segment", path, "--out", first, *QUICK).returncode == 0
    again = tmp_path / "again"
    proc = cli("segment", first / "segments.csv", "--out", again, *QUICK)
    assert proc.returncode == 0, proc.stderr
    summary = _summary(again)
    assert summary["features"] == _summary(first)["features"]
    skipped = {s["column"]: s for s in summary["skipped"]}
    for col in ("segment", "segment_name", "distance_to_center", "margin", "borderline"):
        assert skipped[col]["role"] == "custseg"
        assert skipped[col]["reason"] == (
            "written by an earlier custseg run, not a customer attribute"
        )


def test_a_leaked_model_output_is_left_out_and_said(tmp_path, cli):
    frame = make_wholesale_customers(200, random_state=2)
    frame["Churn"] = ["Yes", "No", "No", "No"] * 50
    frame["Churn_Probability"] = [0.91, 0.12, 0.08, 0.1] * 50
    path = tmp_path / "leaked.csv"
    frame.to_csv(path, index=False)
    proc = cli("segment", path, "--out", tmp_path / "out", *QUICK)
    assert proc.returncode == 0, proc.stderr
    summary = _summary(tmp_path / "out")
    assert "Churn_Probability" not in summary["features"]
    assert {c["name"]: c["role"] for c in summary["columns"]}["Churn_Probability"] == "prediction"
    assert (
        "warning: column 'Churn_Probability' is skipped: a model's output: 'probability' in the "
        "name, which names the column 'Churn'"
    ) in proc.stderr
    assert "prediction" in proc.stdout  # the role in the terminal's column table


def test_rfm_scores_beside_their_amounts_are_not_features(tmp_path, cli):
    log = tmp_path / "log.csv"
    make_transactions(300, random_state=3).to_csv(log, index=False)
    table = tmp_path / "customers.csv"
    assert cli("features", log, "--out", table, "--no-clv").returncode == 0
    proc = cli("segment", table, "--out", tmp_path / "out", *QUICK)
    assert proc.returncode == 0, proc.stderr
    summary = _summary(tmp_path / "out")
    roles = {c["name"]: c["role"] for c in summary["columns"]}
    assert [roles[s] for s in ("r_score", "f_score", "m_score", "rfm_score")] == ["derived"] * 4
    assert {"recency_days", "frequency", "monetary"} <= set(summary["features"])
    assert not any("score" in f for f in summary["features"])
    assert not any("score" in s["name"] for s in summary["segments"])
