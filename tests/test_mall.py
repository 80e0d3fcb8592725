"""The real classic mall-customers file: header 'Genre', zero-padded IDs, CRLF, no final newline."""

import json

import pandas as pd
import pytest
from tests.conftest import run_cli, shared_file


@pytest.fixture(scope="module")
def mall():
    return shared_file("mall_customers.csv")


@pytest.fixture(scope="module")
def two_runs(mall, tmp_path_factory):
    outs = []
    for name in ("a", "b"):
        out = tmp_path_factory.mktemp(name)
        proc = run_cli("segment", mall, "--out", out, "--seed", "42")
        assert proc.returncode == 0, proc.stderr
        outs.append(out)
    return outs


def test_all_200_customers_labelled(two_runs, mall):
    table = pd.read_csv(two_runs[0] / "segments.csv", dtype=str, keep_default_na=False)
    assert len(table) == 200
    assert list(table.columns[:5]) == [
        "CustomerID",
        "Genre",
        "Age",
        "Annual Income (k$)",
        "Spending Score (1-100)",
    ]
    assert table["CustomerID"].iloc[0] == "0001" and table["CustomerID"].iloc[-1] == "0200"
    assert (table["segment"] != "").all() and (table["segment_name"] != "").all()
    summary = json.loads((two_runs[0] / "summary.json").read_text())
    assert summary["input"]["rows"] == 200
    assert summary["id_column"] == "CustomerID"


def test_same_seed_byte_identical_outputs(two_runs):
    a, b = two_runs
    for name in ("segments.csv", "summary.json", "model.json", "k_selection.csv"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_scoring_training_data_reproduces_labels(two_runs, mall, tmp_path):
    out = tmp_path / "scored.csv"
    proc = run_cli("score", two_runs[0] / "model.json", mall, "--out", out)
    assert proc.returncode == 0, proc.stderr
    trained = pd.read_csv(two_runs[0] / "segments.csv", dtype=str)
    scored = pd.read_csv(out, dtype=str)
    assert scored["segment"].tolist() == trained["segment"].tolist()
    assert scored["distance_to_center"].tolist() == trained["distance_to_center"].tolist()


def test_classic_income_spending_five_segments(mall):
    import custseg

    result = custseg.segment(mall, features=["Annual Income (k$)", "Spending Score (1-100)"])
    assert result.summary["k"] == 5
    names = {s["name"] for s in result.summary["segments"]}
    assert {
        "High income · High spending score",
        "High income · Low spending score",
        "Low income · High spending score",
        "Low income · Low spending score",
    } <= names
