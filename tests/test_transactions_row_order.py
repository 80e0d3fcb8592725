"""The same transaction lines in any order give the same customer features, byte for byte.

The log built here is made to expose a running float sum: each customer has two
orders of many lines priced like 0.1, 0.2, 0.7 and 0.145, so the net spend and the
value per order often land on a half cent, where the last bit of a sum taken in
line order would decide the cent. A month-first log sorted by date checks that
the date format, and the date column itself, are judged on samples drawn by content.
"""

from __future__ import annotations

import gzip
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import run_cli, shared_file
from custseg.transactions import build_customer_features, clean_log, detect_log_columns
from custseg.transactions.clv import clv_inputs
from custseg.transactions.text_order import content_order

#: Unit prices whose float sums depend on the order of the terms (0.1 + 0.2 != 0.3).
PRICES = (0.1, 0.2, 0.7, 0.3, 0.145, 1.1, 2.2, 0.015)


def _order_sensitive_log(n_customers: int = 150, lines_per_order: int = 16) -> pd.DataFrame:
    """Two orders on two days per customer, many lines each, one returned line; by date."""
    rng = np.random.default_rng(7)
    start = pd.Timestamp("2024-01-01 09:00")
    rows = []
    for customer in range(n_customers):
        for order, day in enumerate((customer % 20, 40 + customer % 30)):
            for line in range(lines_per_order):
                when = start + pd.Timedelta(days=day, minutes=line)
                rows.append(
                    {
                        "InvoiceNo": str(100_000 + 2 * customer + order),
                        "StockCode": f"P{line % 7}",
                        "Quantity": int(rng.integers(1, 4)),
                        "InvoiceDate": when.strftime("%Y-%m-%d %H:%M:%S"),
                        "UnitPrice": PRICES[int(rng.integers(len(PRICES)))],
                        "CustomerID": 12_000 + customer,
                        "Country": "France" if customer % 3 else "Spain",
                    }
                )
        rows.append({**rows[-1], "InvoiceNo": "C" + rows[-1]["InvoiceNo"], "Quantity": -1})
    return pd.DataFrame(rows).sort_values("InvoiceDate", kind="stable", ignore_index=True)


def _shuffled(log: pd.DataFrame, seed: int) -> pd.DataFrame:
    return log.iloc[np.random.default_rng(seed).permutation(len(log))].reset_index(drop=True)


def test_features_and_lifetime_value_inputs_ignore_the_line_order():
    log = _order_sensitive_log()
    columns = detect_log_columns(log)
    features, report = build_customer_features(log, clv=False)
    inputs = clv_inputs(clean_log(log, columns))
    for seed in range(3):
        other = _shuffled(log, seed)
        again, again_report = build_customer_features(other, clv=False)
        pd.testing.assert_frame_equal(again, features, check_exact=True)
        assert again_report["rfm_segments"] == report["rfm_segments"]
        again_inputs = clv_inputs(clean_log(other, columns))
        pd.testing.assert_frame_equal(again_inputs, inputs, check_exact=True)


def _exact_total(values: pd.Series) -> float:
    """The true total of float values, rounded once: an oracle apart from the library's."""
    return float(sum(map(Fraction, values.tolist()), Fraction(0)))


def test_spend_figures_are_exact_totals_rounded_once():
    log = _order_sensitive_log(n_customers=40)
    features, _ = build_customer_features(log, clv=False)
    value = log["Quantity"] * log["UnitPrice"]  # as the log's lines are valued
    by_customer = value.groupby(log["CustomerID"])
    gross = by_customer.apply(lambda v: _exact_total(v[v > 0])).to_numpy()
    returned = by_customer.apply(lambda v: _exact_total(-v[v < 0])).to_numpy()
    assert features["frequency"].eq(2).all()
    assert features["avg_order_value"].tolist() == np.round(gross / 2, 2).tolist()
    assert features["monetary"].tolist() == (np.round(gross - returned, 2) + 0.0).tolist()
    assert not np.signbit(features["monetary"]).any()


def _run_features(path: Path, out: Path) -> bytes:
    done = run_cli("features", path, "--out", out, "--no-clv", "--quiet")
    assert done.returncode == 0, done.stderr
    return out.read_bytes()


def test_a_shuffled_log_file_gives_byte_identical_features(tmp_path):
    log = _order_sensitive_log()
    log.to_csv(tmp_path / "log.csv", index=False)
    _shuffled(log, 0).to_csv(tmp_path / "shuffled.csv", index=False)
    first = _run_features(tmp_path / "log.csv", tmp_path / "a" / "customers.csv")
    second = _run_features(tmp_path / "shuffled.csv", tmp_path / "b" / "customers.csv")
    assert second == first


@pytest.mark.slow
def test_the_real_log_with_its_lines_shuffled_gives_byte_identical_features(tmp_path):
    path = shared_file("online_retail.csv.gz")
    with gzip.open(path, "rt", newline="") as f:
        header, *lines = f.readlines()
    np.random.default_rng(1).shuffle(lines)
    shuffled = tmp_path / "shuffled.csv"
    with shuffled.open("w", newline="") as f:
        f.writelines([header, *lines])
    first = _run_features(path, tmp_path / "a" / "customers.csv")
    second = _run_features(shuffled, tmp_path / "b" / "customers.csv")
    assert second == first


def _month_first_log() -> pd.DataFrame:
    """A US log sorted by date, busy in early January: its first 2,000 dates read either way."""
    rng = np.random.default_rng(3)
    minutes = np.r_[
        rng.choice(12 * 24 * 60, 2_500, replace=False), rng.integers(0, 366, 500) * 1440
    ]
    stamps = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.sort(minutes), unit="min")
    return pd.DataFrame(
        {
            "InvoiceNo": [str(500_000 + i) for i in range(len(stamps))],
            "InvoiceDate": stamps.strftime("%m/%d/%Y %H:%M"),
            "Quantity": rng.integers(1, 5, len(stamps)),
            "UnitPrice": 2.5,
            "CustomerID": rng.integers(1, 200, len(stamps)),
        }
    )


def test_the_date_format_is_judged_on_a_sample_that_ignores_the_line_order():
    log = _month_first_log()
    features, report = build_customer_features(log, clv=False)
    # Month first for every line: a day-first reading would put 5 January in May.
    assert report["cleaning"]["date_formats"] == {"%m/%d/%Y %H:%M": len(log)}
    again, again_report = build_customer_features(_shuffled(log, 0), clv=False)
    pd.testing.assert_frame_equal(again, features, check_exact=True)
    assert again_report["cleaning"]["date_formats"] == report["cleaning"]["date_formats"]


def test_a_date_column_is_found_by_content_whatever_comes_first():
    log = _month_first_log().rename(columns={"InvoiceDate": "t"})
    log.loc[:299, "t"] = "n/a"  # a log whose first lines carry no date
    for frame in (log, _shuffled(log, 2)):
        columns = detect_log_columns(frame)
        assert (columns.date, columns.how["date"]) == ("t", "content")


def test_content_order_puts_texts_in_the_same_order_however_they_come():
    texts = np.array([f"{d:02d}/01/2024" for d in range(1, 29)] + ["01/01/2024", "x"], dtype=object)
    ordered = texts[content_order(texts)].tolist()
    assert sorted(ordered) == sorted(texts.tolist())
    assert ordered != sorted(ordered)  # not alphabetical: spread over the values
    for seed in range(3):
        shuffled = texts[np.random.default_rng(seed).permutation(len(texts))]
        assert shuffled[content_order(shuffled)].tolist() == ordered


def test_content_order_breaks_a_hash_collision_by_the_text(monkeypatch):
    # Every text hashed alike: the order must still come from the texts, not their places.
    monkeypatch.setattr(
        pd.util, "hash_array", lambda values, categorize: np.zeros(len(values), dtype=np.uint64)
    )
    texts = np.array(["b", "a", "c", "a"], dtype=object)
    assert content_order(texts).tolist() == [1, 3, 0, 2]
    assert content_order(texts[::-1].copy()).tolist() == [0, 2, 3, 1]
