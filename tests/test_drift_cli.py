"""``custseg drift``: the console script once, the other cases in-process."""

from __future__ import annotations

import json

import pytest

import custseg
from conftest import invoke_cli, run_cli

INCOME = "Annual Income (k$)"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("drift")
    custseg.make_customers(800, random_state=0).to_csv(root / "train.csv", index=False)
    fresh = custseg.make_customers(800, random_state=1)
    fresh.to_csv(root / "fresh.csv", index=False)
    fresh.assign(**{INCOME: (fresh[INCOME] * 1.3).round().astype(int)}).to_csv(
        root / "richer.csv", index=False
    )
    fresh.drop(columns=["Age"]).to_csv(root / "no_age.csv", index=False)
    proc = invoke_cli(
        "segment",
        root / "train.csv",
        "--out",
        root / "run",
        "--k",
        "5",
        "--stability",
        "0",
        "--no-report",
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    return root


def test_stable_data_exits_0_and_writes_json_and_html(files, tmp_path):
    proc = run_cli(
        "drift",
        files / "run" / "model.json",
        files / "fresh.csv",
        "--out",
        tmp_path,
        "--fail-on",
        "watch",
    )
    assert proc.returncode == 0, proc.stderr
    assert "Drift verdict: STABLE" in proc.stdout
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["verdict"] == "stable"
    assert report["input"]["scored"] == 800
    html = (tmp_path / "drift.html").read_text()
    # PSI bars, segment shares, and one overlaid distribution per feature.
    assert html.count("<svg") == 2 + len(report["features"]) and "<script" not in html
    first = report["features"][0]
    assert "How each feature moved" in html
    assert f"{first['training_mean']:.3g} → {first['new_mean']:.3g}" in html
    assert first["bins"]["training"] and len(first["bins"]["new"]) == len(first["bins"]["training"])
    # Self-contained: the only URL is the SVG namespace.
    assert html.replace('xmlns="http://www.w3.org/2000/svg"', "").count("http") == 0


def test_shifted_incomes_reach_fail_on_retrain_with_exit_4(files, tmp_path):
    proc = invoke_cli(
        "drift",
        files / "run",
        files / "richer.csv",
        "--out",
        tmp_path,
        "--fail-on",
        "retrain",
    )
    assert proc.returncode == 4, proc.stderr
    assert "Drift verdict: RETRAIN" in proc.stdout
    assert f"PSI of '{INCOME}'" in proc.stdout
    report = json.loads((tmp_path / "drift.json").read_text())
    income = next(f for f in report["features"] if f["name"] == INCOME)
    assert income["grade"] == "retrain"


def test_without_fail_on_two_runs_exit_0_with_byte_identical_files(files, tmp_path):
    for name in ("a", "b"):
        proc = invoke_cli("drift", files / "run", files / "richer.csv", "--out", tmp_path / name)
        assert proc.returncode == 0, proc.stderr
    for name in ("drift.json", "drift.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "no_age.csv"), "lacks the model's feature column(s) 'Age'"),
        (("run", "fresh.csv", "--fail-on", "panic"), "--fail-on must be watch or retrain"),
        (("fresh.csv", "fresh.csv"), "is not a custseg model"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(files, tmp_path, args, message):
    model, data, *rest = args
    proc = invoke_cli("drift", files / model, files / data, "--out", tmp_path / "out", *rest)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("custseg: error:"), proc.stderr
    assert message in lines[0]
    assert not (tmp_path / "out").exists()
