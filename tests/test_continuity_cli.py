"""``custseg segment --previous``, run in-process through the CLI."""

from __future__ import annotations

import csv
import json

import pandas as pd
import pytest

import custseg
from conftest import invoke_cli

FAST = ("--k", "5", "--stability", "0", "--no-report", "--quiet")
OUTPUTS = ("segments.csv", "summary.json", "model.json", "transitions.csv")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A first run, then a retrain on 400 returning and 200 new customers."""
    root = tmp_path_factory.mktemp("cli")
    base = custseg.make_customers(600, random_state=0)
    base.to_csv(root / "q1.csv", index=False)
    newcomers = custseg.make_customers(200, random_state=1)
    newcomers["CustomerID"] = [f"N{i:04d}" for i in range(200)]
    q2 = pd.concat([base.sample(400, random_state=3), newcomers]).sample(frac=1, random_state=4)
    q2.to_csv(root / "q2.csv", index=False)
    first = invoke_cli("segment", root / "q1.csv", "--out", root / "q1", *FAST)
    assert first.returncode == 0, first.stderr
    second = invoke_cli(
        "segment",
        root / "q2.csv",
        "--out",
        root / "q2",
        "--previous",
        root / "q1",
        "--k",
        "5",
        "--stability",
        "0",
        "--no-report",
    )
    return root, first, second


def test_retrain_keeps_ids_prints_continuity_and_writes_transitions(runs):
    root, _, second = runs
    assert second.returncode == 0, second.stderr
    stdout = " ".join(second.stdout.split())
    assert "5 segment(s) kept their id, 0 new, 0 vanished, 0 renamed" in stdout
    assert "Customers in both runs: 400" in stdout
    old = json.loads((root / "q1" / "model.json").read_text())
    new = json.loads((root / "q2" / "model.json").read_text())
    assert [(s["id"], s["name"]) for s in new["segments"]] == [
        (s["id"], s["name"]) for s in old["segments"]
    ]
    summary = json.loads((root / "q2" / "summary.json").read_text())
    assert summary["continuity"]["transitions"]["changed_share"] <= 0.05
    with open(root / "q2" / "transitions.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    names = [s["name"] for s in old["segments"]]
    assert rows[0] == [
        "old_segment",
        "old_name",
        *[f"{i}: {n}" for i, n in enumerate(names)],
        "customers",
    ]
    assert sum(int(r[-1]) for r in rows[1:]) == 400
    # IDs written back exactly as read: the zero-padded CustomerID survives the join.
    assert pd.read_csv(root / "q2" / "segments.csv", dtype=str)["CustomerID"].str.len().min() == 4


def test_same_inputs_and_seed_give_byte_identical_files(runs, tmp_path):
    root, _, _ = runs
    again = invoke_cli(
        "segment",
        root / "q2.csv",
        "--out",
        tmp_path / "again",
        "--previous",
        root / "q1",
        *FAST,
    )
    assert again.returncode == 0, again.stderr
    for name in OUTPUTS:
        assert (tmp_path / "again" / name).read_bytes() == (root / "q2" / name).read_bytes(), name


def _one_clean_error(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("custseg: error:")]
    assert len(errors) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return errors[0]


def test_feature_mismatch_is_one_clean_line(runs, tmp_path):
    root, _, _ = runs
    proc = invoke_cli(
        "segment",
        root / "q2.csv",
        "--out",
        tmp_path / "out",
        "--previous",
        root / "q1",
        "--features",
        "Age,Annual Income (k$)",
        *FAST,
    )
    line = _one_clean_error(proc)
    assert "missing 'Spending Score (1-100)'" in line and "--features" in line
    assert not (tmp_path / "out").exists()


def test_missing_id_column_is_one_clean_line(runs, tmp_path):
    root, _, _ = runs
    pd.read_csv(root / "q2.csv").drop(columns=["CustomerID"]).to_csv(
        tmp_path / "noid.csv", index=False
    )
    proc = invoke_cli(
        "segment",
        tmp_path / "noid.csv",
        "--out",
        tmp_path / "out",
        "--previous",
        root / "q1",
        *FAST,
    )
    line = _one_clean_error(proc)
    assert "no customer ID column" in line and "--id-column" in line
    assert not (tmp_path / "out").exists()


def test_previous_that_is_not_a_model_is_one_clean_line(runs, tmp_path):
    root, _, _ = runs
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "model.json").write_text('{"hello": 1}')
    proc = invoke_cli(
        "segment",
        root / "q2.csv",
        "--out",
        tmp_path / "out",
        "--previous",
        tmp_path / "old",
        *FAST,
    )
    assert "is not a custseg model" in _one_clean_error(proc)
