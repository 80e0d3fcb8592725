"""The real classic mall-customers file: header 'Genre', zero-padded IDs, CRLF, no final newline."""

import json
import re

import pandas as pd
import pytest
from tests.conftest import run_cli, shared_file

from custseg.report import data as rd
from custseg.report.personas import make_personas


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


def test_three_feature_names_and_personas_read_as_a_manager_would(two_runs):
    summary = json.loads((two_runs[0] / "summary.json").read_text())
    names = [s["name"] for s in summary["segments"]]
    assert len(set(names)) == len(names)
    assert not any(ch.isdigit() for name in names for ch in name)
    # With the default K the age groups differ in degree: words say so, not "Older 2".
    assert {"Older", "Much older"} <= set(names) or summary["k"] != 7
    run = rd.load_run(two_runs[0])
    records = {f["name"]: f for f in run.model.features}
    personas = make_personas(summary, records, rd.category_shares(run))
    text = " ".join(" ".join(p.distinctions) + " " + p.action for p in personas)
    assert "spending score" in text and "of 100" in text
    # A score is never a percentage of money.
    assert not re.search(r"spending score \d+% (above|below)|spending score [^;]* times", text)
    for claim in ("loyal", "revenue", "Male", "Female"):
        # No loyalty or revenue data; the Genre column shows no link to the segments.
        assert claim not in text, claim
    actions = [p.action for p in personas if p.action_title == "Fit channel and message"]
    assert len(actions) == len(set(actions))  # age-only segments: distinct words
    assert len(actions) >= 2 or summary["k"] != 7
