"""Build ``report.html`` and ``charts/*.png`` from a finished run, in memory or in its folder."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from custseg.io import remove_file, write_bytes, write_text
from custseg.report import data as rd
from custseg.report.charts import CHART_BUILDERS, ChartSpec, build_charts, k_selection_ahead
from custseg.report.html import render_html
from custseg.report.personas import make_personas
from custseg.report.rendering import Drawing, LayoutProcesses, RenderError, render_png

if TYPE_CHECKING:
    import pandas as pd

    from custseg.segmentation.result import SegmentationResult

__all__ = [
    "ReportFiles",
    "borderline_shares",
    "build_report",
    "k_choice_ahead",
    "report_from_result",
    "stability_scores",
    "write_report",
]

PNG_SCALE = 2  # pixels per CSS pixel: sharp on screens and in print


@dataclass(frozen=True)
class ReportFiles:
    """Where the report went.

    Attributes
    ----------
    html : Path
        ``report.html``.
    charts : list of Path
        ``charts/<name>.png``, in report order.
    """

    html: Path
    charts: list[Path]


def _vl_version() -> str:
    import altair as alt

    match = re.match(r"v?(\d+\.\d+)", alt.SCHEMA_VERSION)
    return match.group(1) if match else alt.SCHEMA_VERSION


def _as_float(value: Any) -> float | None:
    if isinstance(value, dict):
        for key in ("jaccard", "mean_jaccard", "stability", "value"):
            if key in value:
                return _as_float(value[key])
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if np.isfinite(out) else None


def stability_scores(summary: dict[str, Any]) -> tuple[dict[int, float], float | None]:
    """Per-segment stability (mean best-match Jaccard) and the mean ARI, when computed.

    Reads ``summary["stability"]`` in the shapes a run may write it — a mapping or
    list per segment under ``segments``/``per_segment``/``jaccard`` — or a
    ``stability`` entry in each segment of ``summary["segments"]``. Absent → empty.
    """
    values: dict[int, float] = {}
    block = summary.get("stability")
    ari = None
    if isinstance(block, dict):
        ari = _as_float(block.get("ari", block.get("mean_ari")))
        per = next((block[k] for k in ("segments", "per_segment", "jaccard") if k in block), None)
        if isinstance(per, dict):
            for key, val in per.items():
                v = _as_float(val)
                if v is not None and re.fullmatch(r"-?\d+", str(key)):
                    values[int(key)] = v
        elif isinstance(per, list):
            for item in per:
                if isinstance(item, dict):
                    sid = item.get("id", item.get("segment"))
                    v = _as_float(item)
                    if sid is not None and v is not None:
                        values[int(sid)] = v
    for seg in summary.get("segments", []):
        if "stability" in seg and int(seg["id"]) not in values:
            v = _as_float(seg["stability"])
            if v is not None:
                values[int(seg["id"])] = v
    return values, ari


def borderline_shares(run: rd.RunData) -> dict[int, float]:
    """Share of borderline customers per segment.

    From the summary's ``borderline.by_segment`` (every row); a run without it falls
    back to the ``borderline`` column of the rows the report holds.
    """
    block = run.summary.get("borderline")
    if isinstance(block, dict) and isinstance(block.get("by_segment"), dict):
        out = {}
        for key, val in block["by_segment"].items():
            v = _as_float(val)
            if v is not None and re.fullmatch(r"-?\d+", str(key)) and int(key) >= 0:
                out[int(key)] = v
        return out
    col = "borderline_custseg" if "borderline_custseg" in run.table.columns else "borderline"
    out = {}
    if col in run.table.columns:
        flags = run.table[col].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
        for seg in run.segments:
            members = run.labels == seg["id"]
            if members.any() and seg["id"] >= 0:
                out[seg["id"]] = float(flags[members].mean())
        return out
    for seg in run.summary.get("segments", []):
        v = _as_float(seg.get("borderline_share"))
        if v is not None:
            out[int(seg["id"])] = v
    return out


def _feature_stats(run: rd.RunData) -> dict[str, dict[str, Any]]:
    """Per numeric feature its model record (mean, min, max, std, deciles)."""
    meta = {f["name"]: f for f in run.model.features}
    stats = {}
    for j, f in enumerate(run.numeric):
        x = run.X[run.fitted, j]
        finite = np.isfinite(x).any()
        m = dict(meta.get(f, {}))
        m.setdefault("mean", float(np.nanmean(x)) if finite else 0.0)
        m.setdefault("min", float(np.nanmin(x)) if finite else 0.0)
        stats[f] = m
    return stats


def _png_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` as drawn for its PNG: without the accessibility labels of its marks.

    A label per point (its tooltip's text) only goes into the SVG vl-convert makes on
    the way to pixels, and costs a scatter plot a third of its layout; the pixels are
    the same. The HTML report keeps them.
    """
    return {**spec, "config": {**spec["config"], "aria": False}}


@dataclass(frozen=True)
class _PngJob:
    """A chart queued with the helper processes.

    Its PNG is the helper's, or, when no helper could draw it, the same bytes drawn
    here by :func:`custseg.report.rendering.render_png`.
    """

    spec: dict[str, Any]
    vl_version: str
    drawn: Drawing

    def result(self) -> bytes:
        try:
            return self.drawn.result()
        except RenderError:
            return render_png(self.spec, self.vl_version, PNG_SCALE)


def _submit(spec: dict[str, Any], layout: LayoutProcesses, vl_version: str) -> _PngJob:
    """Queue the PNG of the chart ``spec`` with ``layout``."""
    drawn = _png_spec(spec)
    return _PngJob(drawn, vl_version, layout.submit(drawn, vl_version, PNG_SCALE))


def k_choice_ahead(
    k: int, k_selection: dict[str, Any], table: pd.DataFrame
) -> Callable[[LayoutProcesses], object] | None:
    """The ``k_selection`` chart of a run, made as soon as its K is chosen.

    The chart is made from the ``k`` and ``k_selection`` the run's summary will hold
    and its ``k_selection`` table. Returns a function that queues its drawing with
    chart helpers (None when the run has no such chart). The report later takes the
    drawing only when its own chart is the same byte for byte (see
    :meth:`LayoutProcesses.submit`), as it is when the final fit keeps the K chosen.
    """
    chart = k_selection_ahead({"k": k, "k_selection": k_selection}, rd.sweep_table(table))
    if chart is None:
        return None
    spec, vl_version = chart.to_dict(), _vl_version()
    return lambda layout: _submit(spec, layout, vl_version)


def build_report(
    run_dir: str | Path,
    *,
    out_dir: str | Path | None = None,
    png: bool = True,
    layout: LayoutProcesses | None = None,
) -> ReportFiles:
    """Write ``report.html`` and ``charts/*.png`` for the run saved in ``run_dir``.

    Parameters
    ----------
    run_dir : str or Path
        The ``--out`` folder of a finished ``custseg segment`` run: it must hold
        ``summary.json``, ``segments.csv`` and ``model.json``.
    out_dir : str or Path, optional
        Where to write; default ``run_dir``.
    png : bool, default=True
        Also write one PNG per chart into ``charts/``.
    layout : LayoutProcesses, optional
        Helper processes started earlier to draw the charts (their start then
        overlaps the caller's own work); by default the report starts its own.

    Returns
    -------
    ReportFiles

    Raises
    ------
    InputError
        A file of the run is missing or the files do not belong together.
    """
    out = Path(out_dir) if out_dir is not None else Path(run_dir)
    return write_report(rd.load_run(run_dir), out, png=png, layout=layout)


def report_from_result(
    result: SegmentationResult,
    out_dir: str | Path,
    *,
    png: bool = True,
    layout: LayoutProcesses | None = None,
) -> ReportFiles:
    """Write the report of a segmentation still in memory into ``out_dir``.

    The same bytes as :func:`build_report` on the folder ``result`` is saved to,
    without reading ``segments.csv`` back: the report keeps at most
    :data:`custseg.report.data.SAMPLE_ROWS` rows, whatever the table's size.
    ``png`` and ``layout`` are those of :func:`build_report`.
    """
    return write_report(rd.run_from_result(result), Path(out_dir), png=png, layout=layout)


def write_report(
    run: rd.RunData, out: Path, *, png: bool = True, layout: LayoutProcesses | None = None
) -> ReportFiles:
    """Write ``report.html`` (and ``charts/*.png`` when ``png``) of ``run`` into ``out``.

    The charts are drawn by ``layout``, or by helper processes started here.
    """
    if not png:
        return _write_report(run, out, None)
    if layout is not None:
        return _write_report(run, out, layout)
    with LayoutProcesses() as own:
        return _write_report(run, out, own)


def _write_report(run: rd.RunData, out: Path, layout: LayoutProcesses | None) -> ReportFiles:
    vl_version = _vl_version()
    stab, ari = stability_scores(run.summary)
    border = borderline_shares(run)
    specs: dict[str, dict[str, Any]] = {}
    pngs: dict[str, _PngJob] = {}

    def take(chart: ChartSpec) -> None:
        spec = specs[chart.name] = chart.to_dict()
        if layout is not None:
            pngs[chart.name] = _submit(spec, layout, vl_version)

    charts = build_charts(run, stab, border, on_chart=take)
    personas = make_personas(run.summary, _feature_stats(run), rd.category_shares(run))
    left_out = int(run.summary.get("input", {}).get("rows", 0)) - int(
        run.summary.get("input", {}).get("rows_fitted", 0)
    )
    if left_out > 0:
        run.notes.append(
            f"{left_out:,} row(s) were left out of fitting (missing values) and are not drawn."
        )
    html = render_html(
        run,
        charts,
        specs,
        personas,
        stability=stab,
        borderline=border,
        ari=ari,
        vl_version=vl_version,
        values=rd.value_shares(run),
    )
    paths = []
    if layout is not None:
        chart_dir = out / "charts"
        for chart in charts:
            paths.append(write_bytes(pngs[chart.name].result(), chart_dir / f"{chart.name}.png"))
        # A rebuild must not leave charts of an earlier run that this run no longer has.
        made = {c.name for c in charts}
        for name in CHART_BUILDERS:
            if name not in made:
                remove_file(chart_dir / f"{name}.png")
    html_path = write_text(html, out / "report.html")
    return ReportFiles(html_path, paths)
