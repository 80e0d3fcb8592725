"""``custseg segment`` writes segments.csv from the moment the fit has the labelled table."""

from __future__ import annotations

import pandas as pd
import pytest
from tests.conftest import invoke_cli

import custseg
import custseg.cli.segment as segment_command
import custseg.segmentation.pipeline as pipeline
from custseg.errors import InputError
from custseg.options import SegmentOptions


def test_the_fit_hands_over_the_result_table_once_before_describing(sample_frame, monkeypatch):
    events: list[str] = []
    tables = []
    real_describe = pipeline.describe_run

    def describe(*args, **kwargs):
        events.append("describe")
        return real_describe(*args, **kwargs)

    def on_table(table):
        events.append("table")
        tables.append(table.copy())

    monkeypatch.setattr(pipeline, "describe_run", describe)
    options = SegmentOptions(k=3, stability=0, random_state=0)
    result = pipeline.run(sample_frame, options, on_table=on_table)
    assert events == ["table", "describe"]
    # The table handed over is the result's, and it was final when handed over; its
    # segment names are coded for the writer, the same texts.
    assert isinstance(tables[0]["segment_name"].dtype, pd.CategoricalDtype)
    assert tables[0].astype({"segment_name": object}).equals(result.table)
    assert list(result.table.columns[-6:]) == [
        "segment",
        "segment_name",
        "distance_to_center",
        "margin",
        "borderline",
        "outlier",
    ]


@pytest.mark.parametrize(
    ("report", "early_rows", "written_first"),
    [(False, 10**9, True), (True, 10**9, False), (True, 0, True)],
)
def test_segment_writes_what_the_library_saves(
    tmp_path, sample_csv, monkeypatch, report, early_rows, written_first
):
    # The table is written before the run is described without a report, or from
    # EARLY_WRITE_ROWS rows; else after, beside the report.
    monkeypatch.setattr(segment_command, "EARLY_WRITE_ROWS", early_rows)
    events: list[str] = []
    real_describe, real_start = pipeline.describe_run, segment_command._SegmentsWriter.start

    def describe(*args, **kwargs):
        events.append("describe")
        return real_describe(*args, **kwargs)

    def start(*args, **kwargs):  # in the command's thread: no race with the writer's
        events.append("write")
        return real_start(*args, **kwargs)

    monkeypatch.setattr(pipeline, "describe_run", describe)
    monkeypatch.setattr(segment_command._SegmentsWriter, "start", start)
    flags = [] if report else ["--no-report"]
    proc = invoke_cli("segment", sample_csv, "--out", tmp_path / "cli", "--k", "3", *flags)
    assert proc.returncode == 0, proc.stderr
    saved = custseg.segment(sample_csv, k=3).save(tmp_path / "lib")
    for name in ("segments", "summary", "model", "k_selection"):
        if name in saved:
            path = saved[name]
            assert (tmp_path / "cli" / path.name).read_bytes() == path.read_bytes(), name
    assert (tmp_path / "cli" / "report.html").exists() == report
    assert (events[:2] == ["write", "describe"]) == written_first, events
    assert f"{tmp_path / 'cli' / 'segments.csv'}" in proc.stdout.replace("\n", "")


def test_a_run_failing_after_the_table_was_handed_over_writes_nothing(
    tmp_path, sample_csv, monkeypatch
):
    handed = []
    real_run = pipeline.run

    def run(*args, on_table=None, **kwargs):
        def spy(table):
            handed.append(len(table))
            on_table(table)

        return real_run(*args, on_table=spy, **kwargs)

    def describe(*args, **kwargs):
        raise InputError("the summary could not be made; check the table")

    monkeypatch.setattr(pipeline, "run", run)
    monkeypatch.setattr(pipeline, "describe_run", describe)
    out = tmp_path / "never"
    proc = invoke_cli("segment", sample_csv, "--out", out, "--k", "3", "--no-report")
    assert proc.returncode == 2
    assert "the summary could not be made" in proc.stderr
    assert handed == [200]  # segments.csv was being written when the run failed
    assert not out.exists()  # nothing of it is left, not even the staging folder
