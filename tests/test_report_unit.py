"""The report's parts: personas in words, the action rule, sampling, colours, degrading."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from tests.report_helpers import customers_with_identities

import custseg

pytest.importorskip("vl_convert", reason="the report extra is not installed")

from custseg.report import build_report, rendering
from custseg.report import data as rd
from custseg.report.build import PNG_SCALE, borderline_shares, stability_scores
from custseg.report.charts import CHART_BUILDERS, MADE_FIRST, build_charts
from custseg.report.palette import SEGMENT_COLORS, UNASSIGNED, segment_color
from custseg.report.rendering import LayoutProcesses, RenderError, render_png


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report_unit")
    custseg.segment(customers_with_identities(), k=5, random_state=42).save(out)
    return out


@pytest.fixture(scope="module")
def run(run_dir):
    return rd.load_run(run_dir)


# -- sampling, colours, specs ---------------------------------------------------------
def test_point_sample_caps_points_keeps_small_segments_and_is_seeded():
    labels = np.r_[np.zeros(20_000, int), np.ones(9, int), np.full(3, -2)]
    fake = rd.RunData({"random_state": 7}, pd.DataFrame(), None, [], np.empty((len(labels), 0)),
                      labels, [])  # fmt: skip
    sample = rd.point_sample(fake)
    assert len(sample) <= rd.MAX_POINTS + rd.MIN_POINTS_PER_SEGMENT * 2
    assert len(sample) >= rd.MAX_POINTS - 2
    assert set(np.flatnonzero(labels == 1)) <= set(sample)  # the tiny segment is all there
    assert not set(np.flatnonzero(labels == -2)) & set(sample)  # rows left out never drawn
    assert np.array_equal(sample, np.sort(sample))
    assert np.array_equal(sample, rd.point_sample(fake))


def test_sampled_scatter_says_so(run, monkeypatch):
    monkeypatch.setattr(rd, "MAX_POINTS", 60)
    charts = {c.name: c for c in build_charts(run, {}, {})}
    for name in ("segment_map", "feature_scatter"):
        spec = json.dumps(charts[name].to_dict())
        assert "Seeded sample:" in spec and "of 200 customers drawn (seed 42" in spec
        points = next(v for k, v in charts[name].datasets.items() if len(v) > 20)
        assert len(points) <= 60 + rd.MIN_POINTS_PER_SEGMENT * 5


def test_the_scatter_charts_are_made_first_and_shown_in_report_order(run):
    handed = []
    charts = build_charts(run, {0: 0.9}, {0: 0.1}, on_chart=lambda c: handed.append(c.name))
    assert handed[: len(MADE_FIRST)] == list(MADE_FIRST)
    assert [c.name for c in charts] == [name for name in CHART_BUILDERS if name in handed]
    assert sorted(handed) == sorted(c.name for c in charts) and len(charts) >= 8


def test_palette_distinct_and_noise_grey():
    colours = [segment_color(i) for i in range(13)]
    assert len(set(colours)) == 13
    assert colours[:8] == SEGMENT_COLORS
    assert segment_color(-1) == UNASSIGNED


def _colour_scales(spec):
    """Every (domain, range) of a colour channel on the 'segment' field in a spec."""
    found = []
    if isinstance(spec, dict):
        color = spec.get("color") if isinstance(spec.get("color"), dict) else None
        if color and color.get("field") == "segment" and "scale" in color:
            found.append((color["scale"]["domain"], color["scale"]["range"]))
        for value in spec.values():
            found += _colour_scales(value)
    elif isinstance(spec, list):
        for value in spec:
            found += _colour_scales(value)
    return found


def test_every_chart_gives_a_segment_the_same_colour(run):
    expected = {s["label"]: segment_color(s["id"]) for s in run.segments}
    seen = 0
    for chart in build_charts(run, {0: 0.9, 1: 0.5}, {0: 0.1}):
        for domain, colours in _colour_scales(chart.to_dict()):
            for label, colour in zip(domain, colours, strict=True):
                if label != "All customers":
                    assert expected[label] == colour, (chart.name, label)
                    seen += 1
    assert seen >= 5 * 8


def test_specs_are_valid_vega_lite(run):
    charts = build_charts(run, {0: 0.9}, {0: 0.1})
    assert {c.section for c in charts} == {"overview", "segment-map", "profiles", "quality"}
    for chart in charts:
        chart.to_dict(validate=True)  # raises on a schema violation


def test_charts_drawn_by_helpers_give_the_bytes_of_drawing_in_process(run):
    specs = [c.to_dict() for c in build_charts(run, {0: 0.9}, {0: 0.1})[:3]]
    version = "6.4"
    in_process = [render_png(spec, version, PNG_SCALE) for spec in specs]
    assert all(png.startswith(b"\x89PNG") for png in in_process)
    for processes, rasterisers in ((2, 1), (1, 0)):
        with LayoutProcesses(processes=processes, rasterisers=rasterisers) as layout:
            jobs = [layout.submit(spec, version, PNG_SCALE) for spec in specs]
            assert [job.result() for job in jobs] == in_process, (processes, rasterisers)


def test_the_rasteriser_draws_with_the_fonts_of_the_layout():
    # Fresh helpers set their fonts up at their first chart: here the machine's.
    charts = [_text_chart(f"{text} · Above-average spending") for text in ("年长", "年轻")]
    drawn = []
    for rasterisers in (1, 0):
        with LayoutProcesses(processes=1, rasterisers=rasterisers) as layout:
            drawn.append([d.result() for d in [layout.submit(c, "6.4", 2) for c in charts]])
    assert drawn[0] == drawn[1]


def test_chart_pngs_are_the_pixels_of_the_specs_the_html_embeds(run_dir, tmp_path):
    # The PNGs are drawn without the marks' accessibility labels; the pixels are the same.
    files = build_report(run_dir, out_dir=tmp_path)
    charts = {c.name: c for c in build_charts(rd.load_run(run_dir), {}, {})}
    for name in ("segment_map", "feature_scatter", "profile_boxplots"):
        spec = charts[name].to_dict()
        assert '"tooltip"' in json.dumps(spec)
        png = render_png(spec, "6.4", PNG_SCALE)
        assert (tmp_path / "charts" / f"{name}.png").read_bytes() == png, name
    assert files.html.read_text(encoding="utf-8").count('"tooltip"') >= 3


def test_a_chart_a_helper_cannot_draw_fails_with_vl_converts_reason():
    with LayoutProcesses() as layout:
        job = layout.submit({"mark": "nonsense", "data": {"values": []}}, "6.4", PNG_SCALE)
        with pytest.raises(RenderError, match="Vega-Lite to SVG conversion failed"):
            job.result()


def _text_chart(text: str) -> dict:
    return {
        "mark": "text",
        "data": {"values": [{"t": text}]},
        "encoding": {"text": {"field": "t", "type": "nominal"}},
    }


def test_fonts_bundled_for_latin_greek_cyrillic_and_the_reports_signs():
    assert rendering.chart_fonts("Annual Income (k$) · Größe · Ελλάδα · Москва") == "bundled"
    assert rendering.chart_fonts("−0.5 × 2 … ≥ 0.8 ± 0.01 — “€ 12” → 90%") == "bundled"
    assert rendering.chart_fonts("年収 (万円)") == "system"
    assert rendering.chart_fonts("Spend 💳") == "system"


def test_every_chart_of_the_report_is_drawn_with_the_bundled_fonts(run):
    for chart in build_charts(run, {0: 0.9, 1: 0.5}, {0: 0.1}):
        text = json.dumps(chart.to_dict(), ensure_ascii=False)
        assert rendering.chart_fonts(text) == "bundled", chart.name


def test_bundled_font_charts_are_the_same_bytes_whatever_fonts_the_machine_has(run, tmp_path):
    # A machine with other fonts: a font configuration listing an empty folder only.
    (tmp_path / "fonts").mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<fontconfig><dir>{tmp_path / 'fonts'}</dir></fontconfig>")
    spec = next(c for c in build_charts(run, {}, {}) if c.name == "segment_sizes").to_dict()
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    draw = (
        "import json, sys; from custseg.report.rendering import render_png; "
        "spec = json.load(open(sys.argv[1])); "
        "sys.stdout.buffer.write(render_png(spec, '6.4', 2))"
    )
    elsewhere = subprocess.run(
        [sys.executable, "-c", draw, str(tmp_path / "spec.json")],
        env={**os.environ, "FONTCONFIG_FILE": str(conf)},
        capture_output=True,
        check=True,
    ).stdout
    with LayoutProcesses() as layout:
        here = layout.submit(spec, "6.4", 2).result()
    assert here == elsewhere and here.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("first", "then", "fonts"),
    [
        ("Older · High spending", "年长 · 高消费", "bundled"),
        ("年长 · 高消费", "Older · High spending", "system"),
    ],
)
def test_a_helper_draws_one_kind_of_fonts_and_refuses_the_other(first, then, fonts):
    with LayoutProcesses() as layout:
        drawn = layout.submit(_text_chart(first), "6.4", 1)
        refused = layout.submit(_text_chart(then), "6.4", 1)
        assert drawn.result().startswith(b"\x89PNG")
        with pytest.raises(RenderError, match=f"draws with the {fonts} fonts"):
            refused.result()


def test_without_helper_processes_the_report_renders_its_charts_itself(
    run_dir, tmp_path, monkeypatch
):
    with_helpers = build_report(run_dir, out_dir=tmp_path / "helpers")
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-python-here"))  # no helper starts
    without = build_report(run_dir, out_dir=tmp_path / "none")
    assert [p.name for p in without.charts] == [p.name for p in with_helpers.charts]
    for ours, theirs in zip(without.charts, with_helpers.charts, strict=True):
        assert ours.read_bytes() == theirs.read_bytes(), ours.name
    assert without.html.read_bytes() == with_helpers.html.read_bytes()


def _fail_to_start(monkeypatch, which):
    """Make the helpers numbered in ``which`` (0 = the first started) fail to start."""
    started = []
    start = rendering.start_helper

    def start_some(module):
        started.append(module)
        return None if len(started) - 1 in which else start(module)

    monkeypatch.setattr(rendering, "start_helper", start_some)


def test_a_rasteriser_that_cannot_start_leaves_its_charts_to_the_layout_helper(monkeypatch):
    _fail_to_start(monkeypatch, {1})
    with LayoutProcesses(processes=1, rasterisers=1) as layout:
        assert len(layout.processes) == 1
        drawings = [layout.submit(_text_chart(f"Segment {i}"), "6.4", 1) for i in range(3)]
        pngs = [drawing.result() for drawing in drawings]  # none failed
    assert pngs == [render_png(_text_chart(f"Segment {i}"), "6.4", 1) for i in range(3)]


def test_a_helper_that_dies_passes_its_chart_to_a_live_one():
    with LayoutProcesses(processes=1, rasterisers=1) as layout:
        rasteriser = layout.processes[1]
        rasteriser.kill()
        rasteriser.wait()
        drawings = [layout.submit(_text_chart(f"Segment {i}"), "6.4", 1) for i in range(3)]
        assert all(drawing.result().startswith(b"\x89PNG") for drawing in drawings)


def test_the_layout_helper_leaves_a_chart_to_a_waiting_rasteriser():
    # The board's rule alone: a closing board hands out what is left, or None.
    board = rendering._Board()
    board.live = {True: 1, False: 1}
    board.closing = True
    drawing = rendering.Drawing(b"{}", "bundled", 1, board)
    board.laid_out(drawing, "<svg/>")
    board.rasterisers_waiting = 1
    assert board.next_job(lays_out=True, live=True) is None  # left to the rasteriser
    assert board.next_job(lays_out=False, live=True) == (drawing, False)
    board.laid_out(drawing, "<svg/>")
    board.rasterisers_waiting = 0  # the rasteriser is busy: the layout helper takes it
    assert board.next_job(lays_out=True, live=True) == (drawing, False)


def test_without_a_layout_helper_the_charts_fail_at_once(monkeypatch):
    _fail_to_start(monkeypatch, {0})
    with LayoutProcesses(processes=1, rasterisers=1) as layout:
        assert len(layout.processes) == 1  # the rasteriser cannot lay out
        with pytest.raises(RenderError, match="process stopped"):
            layout.submit(_text_chart("Older"), "6.4", 1).result()


def _same_report(a, b):
    charts = sorted(p.name for p in (a / "charts").iterdir())
    assert charts == sorted(p.name for p in (b / "charts").iterdir()) and len(charts) >= 8
    for name in charts:
        assert (a / "charts" / name).read_bytes() == (b / "charts" / name).read_bytes(), name
    assert (a / "report.html").read_bytes() == (b / "report.html").read_bytes()


def test_helpers_that_died_fail_their_charts_and_the_report_draws_them(run_dir, tmp_path):
    reference = build_report(run_dir, out_dir=tmp_path / "reference")
    with LayoutProcesses() as layout:
        for proc in layout.processes:
            proc.kill()
            proc.wait()
        with pytest.raises(RenderError, match="process stopped"):
            layout.submit(_text_chart("Older"), "6.4", 1).result()
        build_report(run_dir, out_dir=tmp_path / "dead", layout=layout)
    _same_report(reference.html.parent, tmp_path / "dead")


def test_helpers_end_when_the_work_is_done():
    with LayoutProcesses() as layout:
        helpers = layout.processes
        assert layout.submit(_text_chart("Done"), "6.4", 1).result().startswith(b"\x89PNG")
    assert [p.returncode for p in helpers] == [0] * len(helpers)


def test_helpers_stop_at_once_when_the_work_fails():
    with pytest.raises(KeyError), LayoutProcesses() as layout:
        helpers = layout.processes
        raise KeyError("the command failed")
    # Killed, not left to finish warming up: a refused input returns at once.
    assert [p.returncode for p in helpers] == [-signal.SIGKILL] * len(helpers)


def test_informative_features_of_the_classic_data(run):
    names = [f for f, _ in rd.informative_features(run)]
    assert set(names) == {"Annual Income (k$)", "Spending Score (1-100)"}


def test_rare_categories_are_folded_into_other(run):
    table = run.table.copy()
    table["Gender"] = ["Rare"] * 3 + list(table["Gender"][3:])
    shares = rd.category_shares(rd.RunData(run.summary, table, run.model, run.numeric, run.X,
                                           run.labels, run.segments))  # fmt: skip
    assert "Rare" not in set(shares["category"]) and "Other" in set(shares["category"])
    overall = shares[shares["segment"] == "All customers"]
    assert overall["share"].sum() == pytest.approx(1.0, abs=0.01)


# -- what a run may or may not hold ---------------------------------------------------
def test_stability_in_the_shapes_a_run_may_write():
    listed = {"stability": {"mean_ari": 0.8, "segments": [{"id": 0, "jaccard": 0.9}]}}
    assert stability_scores({**listed, "segments": []}) == ({0: 0.9}, 0.8)
    mapped = {"stability": {"ari": 0.7, "jaccard": {"0": 0.5, "1": {"jaccard": 0.95}}}}
    assert stability_scores({**mapped, "segments": []}) == ({0: 0.5, 1: 0.95}, 0.7)
    inline = {"segments": [{"id": 2, "stability": 0.66}]}
    assert stability_scores(inline) == ({2: 0.66}, None)
    assert stability_scores({"segments": []}) == ({}, None)


def test_report_with_given_k_and_no_extras(run_dir, tmp_path):
    """K given, no stability, no borderline: the report still builds and says so."""
    summary = json.loads((run_dir / "summary.json").read_text())
    for key in ("stability", "borderline"):
        summary.pop(key, None)
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    table = pd.read_csv(run_dir / "segments.csv", dtype=str, keep_default_na=False)
    table.drop(columns=["margin", "borderline"], errors="ignore").to_csv(
        tmp_path / "segments.csv", index=False
    )
    (tmp_path / "model.json").write_bytes((run_dir / "model.json").read_bytes())
    files = build_report(tmp_path, png=False)
    html = files.html.read_text(encoding="utf-8")
    assert files.charts == []
    assert "K was given (--k)" in html and 'data-spec="spec-k_selection"' not in html
    assert "Stability was not computed" in html
    assert "% above average" in html and "Suggested action" in html


def test_report_shows_extra_criteria_votes_stability_and_borderline(run_dir, tmp_path):
    for name in ("segments.csv", "model.json"):
        (tmp_path / name).write_bytes((run_dir / name).read_bytes())
    summary = json.loads((run_dir / "summary.json").read_text())
    summary["k_selection"] = {
        "method": "auto", "chosen": 5, "reason": "3 of 4 criteria point to K=5",
        "votes": {"elbow": 5, "silhouette": 5, "gap": 1, "dunn": 6},
        "agreement": 3, "structure": "weak", "structure_reason": "silhouettes are low",
        "table": [{"k": k, "inertia": 400 / k, "silhouette": 0.3 + k / 100, "gap": 1 - 1 / k,
                   "gap_se": 0.01, "dunn": k / 10} for k in range(2, 8)],
    }  # fmt: skip
    summary["stability"] = {
        "mean_ari": 0.81,
        "segments": [
            {"id": s["id"], "jaccard": 0.5 if s["id"] == 4 else 0.9} for s in summary["segments"]
        ],
    }
    # The summary's shares (over every row) win; without them, the table's column counts.
    by_segment = summary.pop("borderline")["by_segment"]
    assert borderline_shares(rd.load_run(run_dir)) == {int(k): v for k, v in by_segment.items()}
    (tmp_path / "summary.json").write_text(json.dumps(summary))
    table = pd.read_csv(run_dir / "segments.csv", dtype=str, keep_default_na=False)
    table["borderline"] = ["True" if i % 10 == 0 else "False" for i in range(len(table))]
    table.to_csv(tmp_path / "segments.csv", index=False)

    run = rd.load_run(tmp_path)
    assert borderline_shares(run)[0] == pytest.approx(
        (table["borderline"][table["segment"] == "0"] == "True").mean()
    )
    files = build_report(tmp_path, png=False)
    html = files.html.read_text(encoding="utf-8")
    for text in (
        "spec-k_selection",
        "spec-quality_stability",
        "spec-quality_borderline",
        "silhouettes are low",
        "Unstable, not to be trusted on their own (Jaccard below 0.60): 4 ·",
        "mean adjusted Rand index between runs 0.81",
        "Dunn",
        # The gap's vote for K=1 lies outside the K tried: not shown, said so.
        "no choice within the K tried",
        "none within 2–7",
    ):
        assert text in html, text
    assert not re.search(r"K = 1\b", html)
    assert "gap_se" not in json.dumps(
        [c.chart.to_dict(validate=False) for c in build_charts(run, {}, {})]
    ).replace('"gap_se":', "")


def test_rows_left_out_are_noted_not_drawn(tmp_path):
    frame = customers_with_identities(120)
    frame["Age"] = frame["Age"].astype(object)
    frame.loc[[3, 50], "Age"] = ""
    with pytest.warns(custseg.DataWarning, match="2 row"):
        result = custseg.segment(frame, k=3, missing="drop", random_state=0)
    result.save(tmp_path)
    files = build_report(tmp_path, png=False)
    html = files.html.read_text(encoding="utf-8")
    assert "2 row(s) were left out of fitting" in html
    assert "118 customers drawn" in html.replace(",", "") or "All 118 customers" in html


@pytest.mark.parametrize(
    ("text", "options", "absent"),
    [
        # decimal commas are kept in segments.csv as written and read back the same way
        ("CUST_ID;spend;visits\n0001;1,5;3\n0002;2,5;4\n0003;10,0;30\n0004;11,0;31\n",
         {"k": 2}, []),
        # one feature: no map, no correlation, no second scatter
        ("id,spend\n1,1\n2,2\n3,9\n4,10\n5,11\n", {"k": 2},
         ["segment_map", "feature_scatter", "data_correlation"]),
    ],
)  # fmt: skip
def test_odd_small_runs_still_get_a_report(tmp_path, text, options, absent):
    src = tmp_path / "in.csv"
    src.write_text(text)
    custseg.segment(src, random_state=0, **options).save(tmp_path / "run")
    files = build_report(tmp_path / "run")
    html = files.html.read_text(encoding="utf-8")
    names = {p.stem for p in files.charts}
    assert {"data_distributions", "segment_sizes", "profile_heatmap"} <= names
    for name in absent:
        assert name not in names and f"spec-{name}" not in html
    assert "NaN" not in html.split("<script>")[0]


def test_without_the_report_extra_segment_warns_and_report_names_the_install(
    run_dir, tmp_path, monkeypatch
):
    import custseg.report as report_pkg
    from custseg.cli.report import write_run_report
    from custseg.errors import CustsegWarning, EngineError

    monkeypatch.setattr(report_pkg, "report_available", lambda: False)
    with pytest.raises(EngineError, match=r"pip install 'custseg\[report\]'"):
        report_pkg.build_report(run_dir, out_dir=tmp_path)
    with pytest.warns(CustsegWarning, match=r"report.html not written: .*custseg\[report\]"):
        assert write_run_report(run_dir) == {}
    with pytest.raises(EngineError):
        write_run_report(run_dir, required=True)
    assert not (tmp_path / "report.html").exists()


def test_hostile_column_names_are_escaped(tmp_path):
    evil = "Spend </script><script>alert(1)</script> (k$)"
    frame = custseg.make_customers(60, random_state=0).rename(
        columns={"Spending Score (1-100)": evil}
    )
    custseg.segment(frame, k=3, random_state=0).save(tmp_path)
    html = build_report(tmp_path, png=False).html.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html
    assert "Spend &lt;/script&gt;&lt;script&gt;alert(1)" in html  # shown, as text


def test_vega_bundle_is_cached_on_disk(tmp_path, monkeypatch):
    import vl_convert

    from custseg.report import html as report_html
    from custseg.report.build import _vl_version

    version = _vl_version()
    monkeypatch.setenv("CUSTSEG_CACHE_DIR", str(tmp_path))
    report_html.vega_bundle.cache_clear()
    try:
        first = report_html.vega_bundle(version)
        assert [p.suffix for p in tmp_path.iterdir()] == [".js"]
        assert "</script" not in first and "window.vegaEmbed=" in first

        def no_bundling(**_kwargs):
            raise AssertionError("bundled again instead of reading the cache")

        monkeypatch.setattr(vl_convert, "javascript_bundle", no_bundling)
        report_html.vega_bundle.cache_clear()
        assert report_html.vega_bundle(version) == first
    finally:
        report_html.vega_bundle.cache_clear()


def test_the_k_rules_own_score_is_not_drawn_as_one_more_criterion(tmp_path):
    # The K table's "score" is what the rule ranks; its choice is the chosen K, which
    # the chart already shades. As a criterion it read "no choice within the K tried".
    custseg.segment(customers_with_identities(), k_max=5, stability=0).save(tmp_path)
    run = rd.load_run(tmp_path)
    assert "score" in rd.k_table(run).columns
    spec = next(c for c in build_charts(run, {}, {}) if c.name == "k_selection")
    titles = re.findall(r'"text": "([^"]+)"', json.dumps(spec.to_dict()))
    assert "Silhouette (higher is better)" in titles
    assert not any(t.startswith("Score") for t in titles), titles
