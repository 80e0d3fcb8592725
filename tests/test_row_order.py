"""The same customers in any order give the same files: past the K sample, in the charts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import run_cli

import custseg
from custseg.datasets import make_wholesale_customers
from custseg.segmentation.choose_k import SWEEP_SAMPLE

ROWS = SWEEP_SAMPLE + 600


def _clients() -> pd.DataFrame:
    """Skewed spend with extreme clients (outliers) and gaps (imputed), past the K sample."""
    frame = make_wholesale_customers(ROWS, random_state=3)
    frame.insert(0, "ClientID", [f"C{i:05d}" for i in range(ROWS)])
    gaps = np.random.default_rng(4).random(ROWS) < 0.1
    frame.loc[gaps, "Milk"] = np.nan
    return frame


def _run(frame: pd.DataFrame, folder: Path) -> dict[str, str]:
    folder.mkdir()
    frame.to_csv(folder / "clients.csv", index=False)
    out = folder / "out"
    proc = run_cli(
        "segment", folder / "clients.csv", "--out", out, "--k-max", "6",
        "--stability", "3", "--no-report", "--quiet",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    del summary["input"]["path"]
    model = json.loads((out / "model.json").read_text())
    table = pd.read_csv(out / "segments.csv", dtype=str).sort_values("ClientID")
    return {
        "summary": json.dumps(summary, sort_keys=True),
        "model": json.dumps(model, sort_keys=True),
        "segments": table.to_csv(index=False),
        "k_table": (out / "k_selection.csv").read_text(),
    }


def test_shuffled_rows_give_identical_files_past_the_k_sample(tmp_path):
    frame = _clients()
    reference = _run(frame, tmp_path / "as-is")
    summary = json.loads(reference["summary"])
    assert summary["k_selection"]["rows_used"] == SWEEP_SAMPLE < ROWS  # a sample was drawn
    assert any(s["outliers"] for s in summary["segments"])  # outliers left out of the fit
    order = np.random.default_rng(8).permutation(ROWS)
    shuffled = _run(frame.iloc[order], tmp_path / "shuffled")
    for name, text in reference.items():
        assert shuffled[name] == text, f"{name} depends on the row order"


@pytest.mark.parametrize("max_points", [None, 60], ids=["every-point", "sampled"])
def test_scatter_charts_draw_the_same_points_in_any_row_order(max_points, monkeypatch):
    pytest.importorskip("vl_convert", reason="the report extra is not installed")
    from custseg.report import data as rd
    from custseg.report.charts import build_charts

    if max_points is not None:
        monkeypatch.setattr(rd, "MAX_POINTS", max_points)
    frame = custseg.make_customers(300, random_state=2)
    specs = []
    for order in (np.arange(300), np.random.default_rng(6).permutation(300)):
        result = custseg.segment(frame.iloc[order].reset_index(drop=True), k=4, stability=0)
        charts = {c.name: c for c in build_charts(rd.run_from_result(result), {}, {})}
        specs.append(
            {
                name: json.dumps(charts[name].to_dict())
                for name in ("segment_map", "feature_scatter")
            }
        )
    assert specs[0] == specs[1]
