"""report.html in real headless Chromium: offline, no console errors, every chart drawn."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.report_helpers import CHROMIUM, CHROMIUM_ARGS, customers_with_identities

import custseg

pytest.importorskip("vl_convert", reason="the report extra is not installed")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

if not CHROMIUM.exists():  # pragma: no cover - the Makefile installs it
    pytest.skip(f"{CHROMIUM} is absent; apt-get install -y chromium", allow_module_level=True)

SECTIONS = ["overview", "choosing-k", "segment-map", "profiles", "personas", "quality"]
CHART_SECTIONS = ["overview", "choosing-k", "segment-map", "profiles", "quality"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    from custseg.report import build_report

    out = tmp_path_factory.mktemp("report_browser")
    result = custseg.segment(customers_with_identities(), k_max=6, random_state=42)
    result.save(out)
    return build_report(out).html


@pytest.fixture(scope="module")
def page_result(report, tmp_path_factory):
    """Load the report once, recording console messages, page errors and requests."""
    shots = tmp_path_factory.mktemp("screens")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            console, errors, requests = [], [], []
            page.on("console", lambda m: console.append((m.type, m.text)))
            page.on("pageerror", lambda e: errors.append(str(e)))

            def handle(route):
                requests.append(route.request.url)
                if route.request.url == report.as_uri():
                    route.continue_()
                else:  # anything else would be the network: refuse it, and fail below
                    route.abort()

            page.route("**/*", handle)
            page.goto(report.as_uri())
            page.wait_for_selector("body[data-rendered=true]", timeout=60_000)
            info = page.evaluate(
                """(sections) => sections.map((id) => {
                    const sec = document.getElementById(id);
                    const vis = [...sec.querySelectorAll('.vis')];
                    return {id, charts: vis.map((v) => ({
                        spec: v.getAttribute('data-spec'),
                        rendered: v.getAttribute('data-rendered'),
                        svg: v.querySelectorAll('svg').length,
                        marks: v.querySelectorAll(
                            'svg g.role-mark > path, svg g.role-mark > line, '
                            + 'svg g.role-mark > text, svg g.role-mark > g').length,
                        width: v.getBoundingClientRect().width,
                    }))};
                })""",
                SECTIONS,
            )
            cards = page.locator("#personas .card").count()
            screenshot = shots / "report.png"
            page.screenshot(path=str(screenshot), full_page=True)
            page.emulate_media(media="print")
            pdf = page.pdf(format="A4", print_background=True)
        finally:
            browser.close()
    return {
        "console": console,
        "errors": errors,
        "requests": requests,
        "info": info,
        "cards": cards,
        "screenshot": screenshot,
        "pdf": pdf,
    }


def test_no_console_errors(page_result):
    assert page_result["errors"] == []
    assert [m for m in page_result["console"] if m[0] in ("error", "warning")] == []


def test_no_network_requests(page_result, report):
    assert page_result["requests"] == [report.as_uri()]


def test_every_section_renders_its_charts(page_result):
    by_id = {s["id"]: s["charts"] for s in page_result["info"]}
    for section in CHART_SECTIONS:
        charts = by_id[section]
        assert charts, f"section {section} has no chart"
        for chart in charts:
            assert chart["rendered"] == "true", chart
            assert chart["svg"] >= 1, chart
            assert chart["marks"] > 0, chart
            assert chart["width"] > 200, chart


def test_personas_one_card_per_segment(page_result, report):
    html = report.read_text(encoding="utf-8")
    n_segments = html.count('<div class="card"')
    assert n_segments == page_result["cards"] >= 2
    assert "Suggested action" in html


def test_screenshot_and_print(page_result):
    shot = page_result["screenshot"]
    assert shot.exists() and shot.stat().st_size > 50_000
    pdf = page_result["pdf"]
    assert pdf.startswith(b"%PDF")
    # A4 pages: the report prints on a handful of pages, not dozens.
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 3 <= pages <= 30, pages
