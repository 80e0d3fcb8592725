"""One reader entry point: the same file gives the same table whichever reader parses it."""

import numpy as np
import pandas as pd
import pytest

import custseg
import custseg.io.arrow_csv as arrow_csv
import custseg.io.tables as tables
from custseg.io import LARGE_ROWS, read_table
from custseg.lifecycle.drift import drift


@pytest.fixture(scope="module")
def balance_csv(tmp_path_factory):
    """30,000 customers whose Balance is constant in the first 20,000 rows only."""
    rng = np.random.default_rng(0)
    n = 30_000
    balance = np.where(np.arange(n) < 20_000, 100.0, rng.normal(500, 100, n).round(2))
    frame = pd.DataFrame(
        {
            "id": np.arange(n),
            "Age": rng.integers(18, 80, n),
            "Income": rng.integers(10, 200, n),
            "Balance": balance,
        }
    )
    path = tmp_path_factory.mktemp("t") / "customers.csv"
    frame.to_csv(path, index=False)
    return path


def test_the_reader_that_parses_a_file_does_not_change_the_segments(balance_csv, monkeypatch):
    core = custseg.segment(balance_csv, k=3, stability=0)
    monkeypatch.setattr(arrow_csv, "FAST_READ_BYTES", 0)  # Arrow's reader for every file
    fast = custseg.segment(balance_csv, k=3, stability=0)
    assert "Balance" in core.summary["features"]
    assert fast.summary["features"] == core.summary["features"]
    assert fast.summary["columns"] == core.summary["columns"]
    assert fast.labels.tolist() == core.labels.tolist()


def test_small_tables_are_python_text_whichever_reader(balance_csv, monkeypatch):
    core = read_table(balance_csv)
    monkeypatch.setattr(arrow_csv, "FAST_READ_BYTES", 0)
    fast = read_table(balance_csv)
    assert len(core) < LARGE_ROWS
    pd.testing.assert_frame_equal(fast, core)
    assert fast.attrs["source"] == str(balance_csv)


def test_score_and_drift_read_through_the_entry_point(tmp_path, monkeypatch):
    data = tmp_path / "d.csv"
    custseg.make_customers(300, random_state=0).to_csv(data, index=False)
    model = custseg.segment(data, k=3, stability=0).model
    calls = []
    real = tables.read_table_fast

    def spy(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(arrow_csv, "FAST_READ_BYTES", 0)
    monkeypatch.setattr(tables, "read_table_fast", spy)
    report = drift(model, data)
    assert report.rows["scored"] == 300
    assert calls == [data]
