"""Value per segment: the at-a-glance block shows each segment's share of a money column."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import custseg
from custseg.report import build_report
from custseg.report import data as rd

pytest.importorskip("vl_convert", reason="the report extra is not installed")


def _customers(spend_name: str) -> pd.DataFrame:
    """Two groups: 150 light buyers and 50 heavy ones, who hold most of the spend."""
    rng = np.random.default_rng(3)
    light = pd.DataFrame({"Age": rng.normal(30, 3, 150), spend_name: rng.normal(100, 10, 150)})
    heavy = pd.DataFrame({"Age": rng.normal(55, 3, 50), spend_name: rng.normal(900, 50, 50)})
    return pd.concat([light, heavy], ignore_index=True)


def test_a_spend_column_gives_each_segment_its_share_of_the_total(tmp_path):
    frame = _customers("Annual Spend")
    result = custseg.segment(frame, k=2, stability=0, random_state=0)
    result.save(tmp_path)
    html = build_report(tmp_path, png=False).html.read_text(encoding="utf-8")

    run = rd.load_run(tmp_path)
    values = rd.value_shares(run)
    assert values is not None and values.column == "Annual Spend" and values.exact
    sizes = {int(s["id"]): int(s["size"]) for s in run.summary["segments"]}
    heavy = min(sizes, key=sizes.get)
    expected = frame["Annual Spend"].nlargest(50).sum() / frame["Annual Spend"].sum()
    assert values.shares[heavy] == pytest.approx(expected, abs=0.01)
    assert sum(values.shares.values()) == pytest.approx(1.0)

    assert "share of Annual Spend" in html
    glance = html[html.index('id="glance"') : html.index("</section>", html.index('id="glance"'))]
    shown = [int(x) for x in re.findall(r"<b>(\d+)%</b>", glance)]
    assert sorted(shown) == sorted(round(100 * s) for s in values.shares.values())


def test_a_score_is_not_taken_for_money(tmp_path):
    frame = _customers("Spending Score (1-100)")
    frame["Spending Score (1-100)"] = frame["Spending Score (1-100)"] / 10
    result = custseg.segment(frame, k=2, stability=0, random_state=0)
    result.save(tmp_path)
    assert rd.value_shares(rd.load_run(tmp_path)) is None
    html = build_report(tmp_path, png=False).html.read_text(encoding="utf-8")
    assert "share of Spending Score" not in html
