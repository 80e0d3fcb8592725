"""The real dashboard in a real browser: ``custseg dashboard`` + headless Chromium.

Uses Debian's ``/usr/bin/chromium`` through Playwright's Python API (never
``playwright install``). The screenshot is kept next to the test's temporary
files and its path printed, so a person can look at it.
"""

from __future__ import annotations

import signal
import socket
import time

import pytest
from tests.api_helpers import running
from tests.report_helpers import CHROMIUM, CHROMIUM_ARGS

import custseg
from custseg.io import write_table

TIMEOUT_MS = 180_000
# Vega draws the segment map as SVG or canvas depending on the Streamlit version.
MAP = ".st-key-segment_map svg.marks, .st-key-segment_map canvas"

sync_api = pytest.importorskip("playwright.sync_api")

#: Report charts the dashboard shows under "More charts from the report".
COPIED = ["segment_sizes", "profile_heatmap", "quality_stability", "quality_borderline"]
CHART_TEXT = """(selector) => {
    const svg = document.querySelector(selector);
    const texts = [...svg.querySelectorAll('text')].map((t) => t.textContent)
        .filter((t) => t.trim()).sort();
    return {texts, width: parseFloat(svg.getAttribute('width'))};
}"""


def _open_expander(page, label: str) -> None:
    """Open an expander and see its charts, opening it again if a rerun closed it.

    Streamlit reruns the script after each widget change; a click that lands while
    the previous rerun is being drawn can find the expander redrawn closed.
    """
    expander = page.locator('[data-testid="stExpander"]').filter(has_text=label).first
    for _ in range(5):
        if expander.locator("details[open]").count() == 0:
            expander.get_by_text(label).first.click(timeout=TIMEOUT_MS)
        try:
            expander.locator("svg.marks").first.wait_for(state="visible", timeout=20_000)
            return
        except sync_api.TimeoutError:
            continue
    raise AssertionError(f"the expander {label!r} did not open")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    log = tmp_path_factory.mktemp("dashboard") / "dashboard.log"
    with running(["dashboard"], probe="/_stcore/health", log=log, timeout=120) as srv:
        yield srv


def test_sample_segments_in_a_real_browser(dashboard, tmp_path):
    shot = tmp_path / "dashboard.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 3400})
            page_errors: list[str] = []
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
            page.goto(dashboard.url, timeout=TIMEOUT_MS)
            # The bundled sample is the default source: press Segment.
            page.get_by_role("button", name="Segment").click(timeout=TIMEOUT_MS)
            page.locator(MAP).first.wait_for(state="visible", timeout=TIMEOUT_MS)
            page.locator('[data-testid="stDataFrame"]').filter(
                has=page.locator("canvas")
            ).last.wait_for(state="visible", timeout=TIMEOUT_MS)
            page.get_by_text("Personas").wait_for(timeout=TIMEOUT_MS)
            page.get_by_role("button", name="segments.csv").wait_for(timeout=TIMEOUT_MS)
            # Score one new customer: the result names the segment and marks the map.
            page.locator(".st-key-score_1 input").fill("130")  # Annual Income (k$)
            page.get_by_role("button", name="Score", exact=True).click(timeout=TIMEOUT_MS)
            page.get_by_text("Marked ✚ on the map").wait_for(timeout=TIMEOUT_MS)
            _open_expander(page, "More charts from the report")
            for name in COPIED:
                page.locator(f".st-key-chart_{name} svg.marks").first.wait_for(timeout=TIMEOUT_MS)
            page.wait_for_timeout(1500)  # let the charts finish drawing for the screenshot
            page.screenshot(path=str(shot), full_page=True)
            copies = {
                name: page.evaluate(CHART_TEXT, f".st-key-chart_{name} svg.marks")
                for name in COPIED
            }
            report = _report_chart_texts(page, tmp_path / "report")
            exceptions = page.locator('[data-testid="stException"]')
            shown = [exceptions.nth(i).inner_text() for i in range(exceptions.count())]
            errors = page.locator('[data-testid="stAlertContentError"]')
            error_texts = [errors.nth(i).inner_text() for i in range(errors.count())]
        finally:
            browser.close()
    print(f"dashboard screenshot: {shot}")
    assert shot.stat().st_size > 20_000
    assert shown == [], f"the app shows an exception: {shown}"
    assert error_texts == [], f"the app shows an error: {error_texts}"
    assert page_errors == [], f"JavaScript errors: {page_errors}"
    assert "Traceback" not in dashboard.log_text()
    # The dashboard's copies of the report's charts: every label the report draws, about
    # the same width (not squeezed, not restyled by Streamlit's theme; Streamlit pads a
    # chart its own way).
    for name in COPIED:
        assert copies[name]["texts"] == report[name]["texts"], name
        assert copies[name]["width"] == pytest.approx(report[name]["width"], rel=0.1), name


def test_sigterm_stops_the_streamlit_child(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    log = tmp_path / "dashboard.log"
    with running(["dashboard"], probe="/_stcore/health", log=log, timeout=120) as srv:
        port = int(srv.url.rsplit(":", 1)[1])
        srv.process.send_signal(signal.SIGTERM)
        assert srv.process.wait(timeout=30) == 0
        # The Streamlit child is gone too: nothing listens on the port any more.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _listening(port):
            time.sleep(0.2)
        assert not _listening(port)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _report_chart_texts(page, folder) -> dict[str, dict]:
    """Texts and width of the report's charts for the dashboard's default run, drawn by
    report.html in the same browser."""
    from custseg.report import report_from_result

    frame = custseg.make_customers(200, random_state=0).astype(str)
    report = report_from_result(custseg.segment(frame, random_state=42), folder, png=False)
    page.goto(report.html.as_uri())
    page.wait_for_selector("body[data-rendered=true]", timeout=TIMEOUT_MS)
    return {name: page.evaluate(CHART_TEXT, f"#chart-{name} svg.marks") for name in COPIED}


def test_upload_parquet_in_a_real_browser(dashboard, tmp_path):
    table = custseg.make_customers(1000, random_state=5)
    table["Visits"] = (table["Age"] % 7) * 3 + 1
    upload = write_table(table, tmp_path / "shop.parquet")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 2000})
            page.goto(dashboard.url, timeout=TIMEOUT_MS)
            page.get_by_text("Upload a file").click(timeout=TIMEOUT_MS)
            page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
                str(upload), timeout=TIMEOUT_MS
            )
            page.get_by_text("Read shop.parquet: 1,000 rows").wait_for(timeout=TIMEOUT_MS)
            page.get_by_text("Fixed", exact=True).click(timeout=TIMEOUT_MS)
            page.get_by_role("button", name="Segment").click(timeout=TIMEOUT_MS)
            try:
                page.locator(MAP).first.wait_for(state="visible", timeout=TIMEOUT_MS)
                page.get_by_role("button", name="segments.csv").wait_for(timeout=TIMEOUT_MS)
            finally:
                page.screenshot(path=str(tmp_path / "upload.png"))
            exceptions = page.locator('[data-testid="stException"]').count()
            errors = page.locator('[data-testid="stAlertContentError"]').count()
        finally:
            browser.close()
    print(f"upload screenshot: {tmp_path / 'upload.png'}")
    assert (exceptions, errors) == (0, 0)
