"""The report through the CLI: segment writes it, report rebuilds it.

The rebuild runs the installed console script; the other commands run in-process.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.conftest import invoke_cli, run_cli
from tests.report_helpers import customers_with_identities, identities, png_size

from custseg.errors import InputError

pytest.importorskip("vl_convert", reason="the report extra is not installed")

EXPECTED_CHARTS = {
    "data_distributions",
    "data_correlation",
    "k_selection",
    "segment_map",
    "feature_scatter",
    "segment_sizes",
    "profile_heatmap",
    "profile_boxplots",
    "category_shares",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    """One `custseg segment` run on a table with IDs, names and e-mails."""
    root = tmp_path_factory.mktemp("report_cli")
    frame = customers_with_identities()
    data = root / "customers.csv"
    frame.to_csv(data, index=False)
    out = root / "run"
    proc = invoke_cli("segment", data, "--out", out, "--k-max", "6", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return data, out


def test_segment_writes_report_and_charts(run):
    _, out = run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    names = {p.stem for p in (out / "charts").glob("*.png")}
    assert names >= EXPECTED_CHARTS
    for section in ("overview", "choosing-k", "segment-map", "profiles", "personas", "quality"):
        assert f'<section id="{section}">' in html


def test_pngs_are_valid_images_of_sensible_size(run):
    _, out = run
    for png in sorted((out / "charts").glob("*.png")):
        width, height = png_size(png)
        assert 400 <= width <= 2400, (png.name, width)
        # The K chart has a panel per criterion: eight of them, two a row.
        tallest = 3400 if png.name == "k_selection.png" else 2400
        assert 150 <= height <= tallest, (png.name, height)
        assert 5_000 < png.stat().st_size < 2_000_000, png.name


def test_report_holds_no_customer_identity(run):
    _, out = run
    html = (out / "report.html").read_text(encoding="utf-8")
    frame = customers_with_identities()
    leaked = [value for value in identities(frame) if value in html]
    assert leaked == []
    # the column names may appear (they say what was skipped), the values never
    assert "CustomerID" in html and "CUST-000123" not in html


def test_report_is_self_contained(run):
    _, out = run
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script src" not in html and "<link" not in html
    assert "vegaEmbed" in html
    assert 'data-spec="spec-segment_map"' in html


def test_report_command_reproduces_the_run_byte_for_byte(run, tmp_path):
    _, out = run
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("summary.json", "segments.csv", "model.json", "k_selection.csv"):
        if (out / name).exists():
            shutil.copy(out / name, copy / name)
    proc = run_cli("report", copy)
    assert proc.returncode == 0, proc.stderr
    assert "report.html" in proc.stdout
    assert (copy / "report.html").read_bytes() == (out / "report.html").read_bytes()
    for png in (out / "charts").glob("*.png"):
        assert (copy / "charts" / png.name).read_bytes() == png.read_bytes(), png.name


def test_no_report_option_writes_none(tmp_path):
    frame = customers_with_identities(60)
    data = tmp_path / "c.csv"
    frame.to_csv(data, index=False)
    proc = invoke_cli("segment", data, "--out", tmp_path / "o", "--k", "3", "--no-report", "-q")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "summary.json").exists()
    assert not (tmp_path / "o" / "report.html").exists()
    assert not (tmp_path / "o" / "charts").exists()


def test_report_on_a_folder_without_a_run_fails_cleanly(tmp_path):
    proc = invoke_cli("report", tmp_path / "absent")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "does not exist" in proc.stderr and "custseg segment" in proc.stderr


def test_report_of_an_incomplete_run_names_the_missing_files(tmp_path):
    from custseg.report import build_report

    (tmp_path / "summary.json").write_text(json.dumps({"segments": []}))
    with pytest.raises(InputError, match=r"lacks segments.csv, model.json; pass the --out"):
        build_report(tmp_path)
    assert not (tmp_path / "report.html").exists()
