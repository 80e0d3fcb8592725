"""report.html in real headless Chromium: offline, drawn, fits 1,400 and 820 px, prints on A4.

One browser for the module; the page is loaded once per window width.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from tests.report_helpers import CHROMIUM, CHROMIUM_ARGS, customers_with_identities

import custseg

pytest.importorskip("vl_convert", reason="the report extra is not installed")
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

if not CHROMIUM.exists():  # pragma: no cover - the Makefile installs it
    pytest.skip(f"{CHROMIUM} is absent; apt-get install -y chromium", allow_module_level=True)

SECTIONS = ["glance", "overview", "choosing-k", "segment-map", "profiles", "personas", "quality"]
CHART_SECTIONS = ["overview", "choosing-k", "segment-map", "profiles", "quality"]
#: Charts whose marks are coloured by segment: every segment's colour must appear in each.
SEGMENT_CHARTS = [
    "feature_scatter",
    "segment_map",
    "segment_sizes",
    "profile_boxplots",
    "quality_stability",
    "quality_borderline",
]
#: A4 less 12 mm margins, in CSS pixels (96 per inch): the width the report prints at.
A4_PRINT_PX = 703
#: The smallest chart text, in CSS pixels as printed: 10 px is 7.5 pt.
MIN_PRINT_TEXT_PX = 10

CHART_INFO = """() => [...document.querySelectorAll('figure.chart')].map((fig) => {
    const vis = fig.querySelector('.vis');
    const svg = vis.querySelector('svg');
    const box = svg ? svg.getBoundingClientRect() : {width: 0};
    const intrinsic = svg ? parseFloat(svg.getAttribute('width')) : 0;
    const colours = new Set();
    let marks = 0;
    vis.querySelectorAll('g.role-mark > path, g.role-mark > line, g.role-mark > text, '
                         + 'g.role-mark > g').forEach((m) => {
        marks += 1;
        for (const a of ['fill', 'stroke']) {
            const c = m.getAttribute(a);
            if (c) colours.add(c.toLowerCase());
        }
    });
    const sizes = [...vis.querySelectorAll('svg text')]
        .filter((t) => t.textContent.trim())
        .map((t) => parseFloat(getComputedStyle(t).fontSize));
    return {
        name: fig.id.replace('chart-', ''),
        section: fig.closest('section').id,
        rendered: vis.getAttribute('data-rendered'),
        marks,
        colours: [...colours],
        shown: box.width,
        intrinsic,
        minFont: Math.min(...sizes),
        figureFits: fig.scrollWidth <= fig.clientWidth + 1,
    };
})"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    from custseg.report import build_report

    out = tmp_path_factory.mktemp("report_browser")
    result = custseg.segment(customers_with_identities(), k_max=6, random_state=42)
    result.save(out)
    return build_report(out).html


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _load(browser, report: Path, width: int, shots: Path) -> dict:
    page = browser.new_page(viewport={"width": width, "height": 900})
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
    page.wait_for_selector("body[data-rendered=true]", timeout=90_000)
    shot = shots / f"report_{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    result = {
        "page": page,
        "console": console,
        "errors": errors,
        "requests": requests,
        "charts": page.evaluate(CHART_INFO),
        "scroll": page.evaluate(
            "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
        ),
        "sections": page.evaluate(
            "[...document.querySelectorAll('main > section')].map(s => s.id)"
        ),
        "cards": page.locator("#personas .card").count(),
        "screenshot": shot,
    }
    print(f"report screenshot at {width} px: {shot}")
    return result


@pytest.fixture(scope="module")
def wide(browser, report, tmp_path_factory):
    loaded = _load(browser, report, 1400, tmp_path_factory.mktemp("screens"))
    yield loaded
    loaded["page"].close()


@pytest.fixture(scope="module")
def narrow(browser, report, tmp_path_factory):
    loaded = _load(browser, report, 820, tmp_path_factory.mktemp("screens"))
    yield loaded
    loaded["page"].close()


@pytest.fixture(scope="module")
def printed(narrow):
    """The page as it prints on A4: chart sizes measured, then the PDF."""
    page = narrow["page"]
    page.emulate_media(media="print")
    page.set_viewport_size({"width": A4_PRINT_PX, "height": 1000})
    charts = page.evaluate(CHART_INFO)
    headings = page.evaluate(
        "[...document.querySelectorAll('main h2, main h3')].map(h => h.textContent.trim())"
    )
    chart_text = page.evaluate(
        "[...document.querySelectorAll('figure svg text')].map(t => t.textContent.trim())"
    )
    pdf = page.pdf(format="A4", print_background=True, margin={"top": "0", "bottom": "0"})
    return {"charts": charts, "headings": headings, "chart_text": chart_text, "pdf": pdf}


def test_no_console_errors_and_no_network(wide, report):
    assert wide["errors"] == []
    assert [m for m in wide["console"] if m[0] in ("error", "warning")] == []
    assert wide["requests"] == [report.as_uri()]


def test_the_answer_comes_first(wide):
    assert wide["sections"] == SECTIONS


@pytest.mark.parametrize("view", ["wide", "narrow"])
def test_every_chart_is_drawn_with_marks_and_fits(view, request):
    loaded = request.getfixturevalue(view)
    scroll_width, client_width = loaded["scroll"]
    assert scroll_width <= client_width, "the page scrolls sideways"
    by_section = {c["section"] for c in loaded["charts"]}
    assert set(CHART_SECTIONS) <= by_section
    for chart in loaded["charts"]:
        assert chart["rendered"] == "true", chart["name"]
        assert chart["marks"] > 0, chart["name"]
        # The whole chart, legend included, is inside its frame: nothing cut or scrolled.
        assert chart["figureFits"], chart["name"]
        assert chart["shown"] >= chart["intrinsic"] - 1, f"{chart['name']} is shrunk"


def test_every_segment_colour_appears_in_every_segment_chart(wide, report):
    run = custseg.report.data.load_run(report.parent)
    colours = {c.lower() for c in custseg.report.palette.segment_colors(
        [s["id"] for s in run.segments]
    )}  # fmt: skip
    charts = {c["name"]: c for c in wide["charts"]}
    assert set(SEGMENT_CHARTS) <= set(charts)
    for name in SEGMENT_CHARTS:
        missing = colours - set(charts[name]["colours"])
        assert not missing, f"{name} lacks the colours {missing}"


def test_personas_one_card_per_segment(wide, report):
    html = report.read_text(encoding="utf-8")
    assert html.count('<div class="card"') == wide["cards"] >= 2
    assert "Suggested action" in html


def test_printed_chart_text_is_readable(printed):
    for chart in printed["charts"]:
        scale = chart["shown"] / chart["intrinsic"]
        assert chart["minFont"] * scale >= MIN_PRINT_TEXT_PX, chart


def test_no_heading_ends_a_printed_page(printed):
    pypdf = pytest.importorskip("pypdf", reason="the dev extra is not installed")
    reader = pypdf.PdfReader(io.BytesIO(printed["pdf"]))
    assert 3 <= len(reader.pages) <= 30
    # A persona heading is also a segment's label on the charts; a page may end on a chart.
    chart_text = {re.sub(r"\s+", " ", t) for t in printed["chart_text"]}
    headings = {re.sub(r"\s+", " ", h) for h in printed["headings"]} - chart_text
    assert any(h.startswith("5. Personas") for h in headings)
    for number, page in enumerate(reader.pages[:-1], start=1):
        lines = [line.strip() for line in page.extract_text().splitlines() if line.strip()]
        assert lines, f"page {number} is empty"
        assert re.sub(r"\s+", " ", lines[-1]) not in headings, (number, lines[-1])
