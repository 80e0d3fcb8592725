"""``summary.json`` and ``model.json`` match the JSON Schemas published in ``docs/``."""

from __future__ import annotations

import copy
import json

import numpy as np
import pandas as pd
import pytest
from tests.helpers import MODEL_SCHEMA, SUMMARY_SCHEMA, assert_published_shape, schema_errors

import custseg
from custseg.datasets import make_blobs_customers, make_wholesale_customers
from custseg.transactions.behaviour import segment_transactions


@pytest.fixture(scope="module")
def customers():
    return custseg.make_customers(300, random_state=0)


@pytest.mark.parametrize(
    "params",
    [
        {"k": 4, "stability": 3},
        {
            "k_min": 2,
            "k_max": 5,
            "stability": 0,
            "features": ["Gender", "Age", "Spending Score (1-100)"],
        },
        {"algorithm": "hdbscan", "stability": 0},
        {"algorithm": "gmm", "k": 3, "stability": 0, "scaling": "robust"},
    ],
)
def test_runs_match_the_published_schemas(customers, params, tmp_path):
    custseg.segment(customers, **params).save(tmp_path)
    assert_published_shape(tmp_path)


def test_a_skewed_run_with_outliers_and_a_flag_matches(tmp_path):
    # Log-transformed spend, outlier fences and a flag feature: schema version 2 blocks.
    frame = make_wholesale_customers(200, random_state=0)
    frame["Newsletter"] = np.random.default_rng(0).integers(0, 2, len(frame))
    result = custseg.segment(frame, k=3, stability=0, features=["Fresh", "Milk", "Newsletter"])
    result.save(tmp_path)
    assert result.summary["outliers"]["count"] >= 1
    assert result.model.to_dict()["preprocessing"]["transform"]["unit"][0] is not None
    assert_published_shape(tmp_path)


def test_a_run_with_missing_values_and_a_previous_run_matches(customers, tmp_path):
    first = custseg.segment(customers, k=4, stability=0)
    first.save(tmp_path / "first")
    gaps = customers.astype(str)
    gaps.loc[[3, 50], "Age"] = ""
    custseg.segment(gaps, k=4, stability=0, missing="drop", previous=tmp_path / "first").save(
        tmp_path / "second"
    )
    assert "continuity" in json.loads((tmp_path / "second" / "summary.json").read_text())
    assert_published_shape(tmp_path / "second")


def test_a_transaction_log_run_matches(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    months, days = rng.integers(1, 13, n), rng.integers(1, 29, n)
    log = pd.DataFrame(
        {
            "CustomerID": rng.integers(1, 120, n).astype(str),
            "InvoiceDate": [f"2024-{m:02d}-{d:02d}" for m, d in zip(months, days, strict=True)],
            "Amount": rng.gamma(2.0, 20.0, n).round(2),
        }
    )
    segment_transactions(log, k=3, stability=0).save(tmp_path)
    assert_published_shape(tmp_path)


def test_the_schemas_catch_a_changed_file():
    frame = make_blobs_customers(400, 2, 3, random_state=0)
    result = custseg.segment(frame, k=3, stability=0)
    summary = copy.deepcopy(result.summary)
    assert schema_errors(summary, SUMMARY_SCHEMA) == []
    summary["k"] = "three"
    summary["surprise"] = 1
    del summary["segments"][0]["median"]
    errors = schema_errors(summary, SUMMARY_SCHEMA)
    assert any(e.startswith("k:") for e in errors)
    assert any("surprise" in e for e in errors)
    assert any(e.startswith("segments/0:") and "median" in e for e in errors)
    model = result.model.to_dict()
    assert schema_errors(model, MODEL_SCHEMA) == []
    model["preprocessing"]["scaling"]["scale"][0] = 0.0
    assert [e for e in schema_errors(model, MODEL_SCHEMA) if "preprocessing" in e]


def test_every_key_of_the_k_choice_is_published():
    frame = make_blobs_customers(400, 2, 3, random_state=0)
    summary = custseg.segment(frame, k_max=5, stability=0).summary
    assert schema_errors(summary, SUMMARY_SCHEMA) == []
    block = summary["k_selection"]
    assert {"equally_supported", "stands_out", "notes", "rows_total"} <= set(block)
    block["stand_out"] = block.pop("stands_out")
    block["table"][0]["score"] = "high"
    errors = schema_errors(summary, SUMMARY_SCHEMA)
    assert any(e.startswith("k_selection:") and "stand_out" in e for e in errors)
    assert any(e.startswith("k_selection/table/0/score:") for e in errors)
