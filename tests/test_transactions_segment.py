"""The chained step: a transaction log straight to named behaviour segments."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from conftest import invoke_cli
from custseg.datasets import make_transactions
from custseg.errors import InputError
from custseg.transactions import BEHAVIOUR_VOCABULARY, behaviour_table, segment_transactions

WORDS = {w for pair in BEHAVIOUR_VOCABULARY.values() for w in pair} | {"Average"}
#: A segment that only leans towards a word is named by it, never by the column's name.
WORDS |= {f"Closer to {w[0].lower()}{w[1:]}" for w in WORDS - {"Average"}}


@pytest.fixture(scope="module")
def log():
    return make_transactions(150, random_state=5)


def test_behaviour_table_log_scales_frequency_and_signed_spend():
    features = pd.DataFrame(
        {"id": ["a", "b", "c"], "frequency": [1, 2, 9], "monetary": [0.0, -9.0, 99.0]}
    )
    table = behaviour_table(features)
    assert list(table.columns) == ["id", "frequency", "log_frequency", "monetary", "log_monetary"]
    assert table["log_frequency"].round(4).tolist() == [0.6931, 1.0986, 2.3026]
    assert table["log_monetary"].round(4).tolist() == [0.0, -2.3026, 4.6052]


def test_segments_speak_behaviour_and_say_how_features_were_scaled(log):
    result = segment_transactions(log, k=3, random_state=0)
    names = result.table["segment_name"].unique()
    assert len(names) == 3
    for name in names:
        assert set(name.split(" · ")) <= WORDS, name
    assert len(result.table) == log["CustomerID"].nunique()
    assert result.summary["features"] == ["recency_days", "log_frequency", "log_monetary"]
    tx = result.summary["transactions"]
    assert set(tx["log_scaled"]) == {"log_frequency", "log_monetary"}
    assert "log-scaled because they are heavily skewed" in tx["note"]
    assert tx["features_report"]["customers"]["with_purchase"] == len(result.table)


def test_an_unknown_behaviour_feature_lists_the_choices(log):
    with pytest.raises(InputError, match=r"--features 'spend' not among.*choose from: recency"):
        segment_transactions(log, features=["spend"], k=3)


@pytest.mark.slow
def test_segment_transactions_command(tmp_path, log):
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    out = tmp_path / "out"
    done = invoke_cli("segment", path, "--transactions", "--k", "3", "--out", out)
    assert done.returncode == 0, done.stderr
    segments = pd.read_csv(out / "segments.csv", dtype={"CustomerID": str})
    summary = json.loads((out / "summary.json").read_text())
    assert len(segments) == log["CustomerID"].nunique()
    assert {"recency_days", "log_monetary", "rfm_segment", "segment_name"} <= set(segments)
    assert summary["transactions"]["log_scaled"]["log_monetary"] == "log of 'monetary'"
    assert "log-scaled because they are heavily skewed" in done.stdout
