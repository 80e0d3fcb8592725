"""The report of a run in memory: a bounded sample, the same bytes as the rebuild from files."""

from __future__ import annotations

import re

import numpy as np
import pytest

import custseg

pytest.importorskip("vl_convert", reason="the report extra is not installed")

from custseg.report import build_report, report_from_result
from custseg.report import data as rd


@pytest.fixture(scope="module")
def result():
    frame = custseg.make_customers(1_200, random_state=3)
    return custseg.segment(frame, k=4, random_state=7, stability=0)


def test_in_memory_report_equals_the_rebuild_from_files(result, tmp_path, monkeypatch):
    monkeypatch.setattr(rd, "SAMPLE_ROWS", 500)
    result.save(tmp_path)
    memory = report_from_result(result, tmp_path, png=False).html.read_bytes()
    files = build_report(tmp_path, png=False).html.read_bytes()
    assert memory == files
    held = re.search(rb"seeded sample of (\d+) of 1,200 customers", memory)
    assert held and 450 <= int(held.group(1)) <= 500 + 8 * rd.MIN_POINTS_PER_SEGMENT


def test_run_in_memory_has_the_labels_of_the_saved_run(tmp_path):
    frame = custseg.make_customers(300, random_state=1)
    frame.loc[[5, 17], "Age"] = None
    result = custseg.segment(frame, k=3, random_state=7, stability=0, missing="drop")
    result.save(tmp_path)
    memory, files = rd.run_from_result(result), rd.load_run(tmp_path)
    assert np.array_equal(memory.labels, files.labels)
    assert int((memory.labels == -2).sum()) == 2 and set(memory.labels) == {-2, 0, 1, 2}


def test_the_sample_is_bounded_stratified_and_keeps_small_segments(monkeypatch):
    monkeypatch.setattr(rd, "SAMPLE_ROWS", 1_000)
    labels = np.repeat([0, 1, 2, -2], [90_000, 9_000, 5, 995])
    rows = rd.report_rows(labels, seed=1)
    assert len(rows) <= 1_000 + 4 * rd.MIN_POINTS_PER_SEGMENT
    assert np.all(np.diff(rows) > 0)
    counts = {s: int((labels[rows] == s).sum()) for s in (0, 1, 2, -2)}
    assert counts == {0: 900, 1: 90, 2: 5, -2: 20}
    assert np.array_equal(rows, rd.report_rows(labels, seed=1))
    assert len(rd.report_rows(labels[:800], seed=1)) == 800


def test_sampled_run_keeps_whole_table_figures(result, monkeypatch):
    monkeypatch.setattr(rd, "SAMPLE_ROWS", 500)
    run = rd.run_from_result(result)
    assert run.sampled and len(run.table) < 600 and run.rows_total == 1_200
    assert run.fitted_total == 1_200
    # Sizes and shares come from the summary: every row, not the sample.
    assert sum(s["size"] for s in run.segments) == 1_200
