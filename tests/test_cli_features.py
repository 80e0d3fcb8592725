"""``custseg features`` run as a real subprocess: output files, printed report, bad input.

Each run pays the CLI's start-up, so only two bad inputs go through a subprocess here
(a file that cannot be read, a value that is not a number); the library tests pin
every other message.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import invoke_cli, run_cli
from custseg.datasets import make_transactions


@pytest.fixture(scope="module")
def log_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("log") / "orders.csv"
    make_transactions(150, random_state=5).to_csv(path, index=False)
    return path


def test_features_writes_the_table_and_the_summary_beside_it(log_csv, tmp_path):
    out = tmp_path / "out" / "customers.csv"
    done = run_cli("features", log_csv, "--out", out, "--no-clv")
    assert done.returncode == 0, done.stderr
    features = pd.read_csv(out, dtype={"CustomerID": str})
    summary = json.loads((out.parent / "features_summary.json").read_text())
    assert len(features) == summary["customers"]["with_purchase"] > 100
    assert summary["columns"]["customer"] == "CustomerID"
    assert summary["clv"] == {
        "status": "skipped",
        "horizon_months": 12,
        "reason": "not requested (--no-clv)",
    }
    for text in ("customer  CustomerID", "cancelled_invoice", "RFM segments:", "Wrote"):
        assert text in done.stdout


def test_roles_given_as_options_and_as_of(log_csv, tmp_path):
    out = tmp_path / "early.parquet"
    done = invoke_cli(
        "features",
        log_csv,
        "--out",
        out,
        "--customer-col",
        "customerid",
        "--quantity-col",
        "Quantity",
        "--price-col",
        "UnitPrice",
        "--as-of",
        "2024-07-01",
        "--no-clv",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    features = pd.read_parquet(out)
    summary = json.loads((tmp_path / "features_summary.json").read_text())
    assert summary["as_of"] == "2024-07-01"
    assert summary["columns_detected_by"]["customer"] == "given"
    assert (features["last_purchase"] < "2024-07-01").all()
    assert "Columns" not in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "input file 'missing.csv' does not exist"),
        (["{bad}"], "column 'UnitPrice' must hold numbers; found 'n/a' at row 2"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(log_csv, tmp_path, args, message):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"
        "1,7,2024-01-01,1,2.50\n"
        "2,8,2024-01-02,1,n/a\n"
    )
    paths = {"log": log_csv, "bad": bad}
    out = tmp_path / "out" / "customers.csv"
    argv = [a.format(**paths) for a in args]
    done = invoke_cli("features", *argv, "--out", out, "--no-clv", cwd=tmp_path)
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
