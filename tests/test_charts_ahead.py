"""Charts drawn ahead: a request drawn once, the early ``k_selection`` chart taken by the
report only when it is the same, and the same files as a run that draws nothing ahead."""

from __future__ import annotations

import hashlib

import pytest
from tests.conftest import invoke_cli, shared_file

import custseg

pytest.importorskip("vl_convert", reason="the report extra is not installed")

from custseg.report import rendering
from custseg.report.build import PNG_SCALE
from custseg.report.rendering import LayoutProcesses


def _bars(height: int) -> dict:
    return {
        "mark": "bar",
        "height": height,
        "data": {"values": [{"k": 2, "v": 1.0}, {"k": 3, "v": 2.5}]},
        "encoding": {
            "x": {"field": "k", "type": "ordinal"},
            "y": {"field": "v", "type": "quantitative"},
        },
    }


@pytest.fixture
def layouts_asked(monkeypatch):
    """The layout requests the helpers are sent, as they are sent."""
    asked: list[bytes] = []
    ask = rendering._ask

    def counting(proc, request):
        if request.startswith(b'{"spec"'):
            asked.append(request)
        return ask(proc, request)

    monkeypatch.setattr(rendering, "_ask", counting)
    return asked


def test_the_same_request_is_drawn_once_and_a_changed_one_again(layouts_asked):
    with LayoutProcesses(processes=1, rasterisers=1) as layout:
        first = layout.submit(_bars(100), "6.4", PNG_SCALE)
        again = layout.submit(_bars(100), "6.4", PNG_SCALE)
        changed = layout.submit(_bars(101), "6.4", PNG_SCALE)
        other_scale = layout.submit(_bars(100), "6.4", 1)
        pngs = [d.result() for d in (first, again, changed, other_scale)]
    assert again is first
    assert changed is not first and other_scale is not first
    assert pngs[0] == pngs[1] != pngs[2]
    assert pngs[3] != pngs[0]
    assert len(layouts_asked) == 3  # (the warm-up is not a chart's request)


@pytest.fixture
def submits(monkeypatch):
    """The drawing each chart submitted got, in the order they were submitted."""
    made: list[rendering.Drawing] = []
    submit = LayoutProcesses.submit

    def recording(self, spec, vl_version, scale):
        made.append(submit(self, spec, vl_version, scale))
        return made[-1]

    monkeypatch.setattr(LayoutProcesses, "submit", recording)
    return made


def _files(out):
    return {
        p.relative_to(out).as_posix(): hashlib.md5(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def _segment(table, out, *args):
    proc = invoke_cli("segment", table, "--out", out, "--quiet", "--stability", "0", *args)
    assert proc.returncode == 0, proc.stderr
    return _files(out)


@pytest.fixture(params=["mall", "synthetic"])
def table(request, tmp_path):
    if request.param == "mall":
        return shared_file("mall_customers.csv")
    path = tmp_path / "customers.csv"
    custseg.make_customers(3000, random_state=3).to_csv(path, index=False)
    return path


def test_the_k_choice_chart_drawn_ahead_is_the_reports(table, tmp_path, submits, monkeypatch):
    ahead = _segment(table, tmp_path / "ahead")
    charts = sum(name.startswith("charts/") for name in ahead)
    # The k_selection chart, queued before the report, is the report's own: drawn once.
    assert len(submits) == charts + 1
    assert submits[0] in submits[1:]
    assert len({id(d) for d in submits}) == charts
    # A run that draws nothing ahead writes the same files, byte for byte.
    run = custseg.segmentation.pipeline.run
    monkeypatch.setattr(
        custseg.segmentation.pipeline,
        "run",
        lambda *args, on_choice=None, **kwargs: run(*args, **kwargs),
    )
    submits.clear()
    assert _segment(table, tmp_path / "plain") == ahead
    assert len(submits) == charts
