"""Build ``report.html`` and ``charts/*.png`` from a finished run, in memory or in its folder."""

from __future__ import annotations

import re
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from custseg.io import remove_file, write_bytes, write_text
from custseg.report import data as rd
from custseg.report.charts import CHART_BUILDERS, ChartSpec, build_charts
from custseg.report.html import render_html
from custseg.report.personas import make_personas

if TYPE_CHECKING:
    from custseg.segmentation.result import SegmentationResult

__all__ = [
    "ReportFiles",
    "borderline_shares",
    "build_report",
    "report_from_result",
    "stability_scores",
    "write_report",
]

PNG_SCALE = 2  # pixels per CSS pixel: sharp on screens and in print
RASTER_THREADS = 2  # the machine's cores are shared with the layout thread
# The smallest chart that starts vl-convert's engine and loads its fonts.
_WARM_UP_SPEC: dict[str, Any] = {
    "mark": "text",
    "data": {"values": [{"t": "0"}]},
    "encoding": {"text": {"field": "t", "type": "nominal"}},
}


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


def render_png(spec: dict[str, Any], vl_version: str) -> bytes:
    """Render a Vega-Lite spec to PNG with vl-convert (no browser)."""
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=PNG_SCALE, vl_version=vl_version)


class PngRenderer:
    """Renders charts to PNG in the background, byte for byte what :func:`render_png` gives.

    vl-convert lays a chart out on its one JavaScript thread, and its first chart also
    starts that engine; turning the laid-out chart into pixels is native code that
    releases the GIL. So the engine starts as soon as the renderer exists (while the
    report's charts are still being built), one thread lays the charts out in order,
    and :data:`RASTER_THREADS` turn each into pixels while the next is laid out.

    Use it as a context manager; :meth:`submit` a spec, then ``.result()`` its future.
    """

    def __init__(self, vl_version: str) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._vl_version = vl_version
        self._layout = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custseg-layout")
        self._raster = ThreadPoolExecutor(RASTER_THREADS, thread_name_prefix="custseg-raster")
        self._layout.submit(self._svg, _WARM_UP_SPEC)

    def _svg(self, spec: dict[str, Any]) -> str:
        import vl_convert

        return vl_convert.vegalite_to_svg(spec, vl_version=self._vl_version)

    def _png(self, spec: dict[str, Any]) -> Future[bytes]:
        import vl_convert

        return self._raster.submit(vl_convert.svg_to_png, self._svg(spec), scale=PNG_SCALE)

    def submit(self, spec: dict[str, Any]) -> _PngJob:
        """Queue ``spec``; the returned job's ``result()`` is its PNG bytes."""
        return _PngJob(self._layout.submit(self._png, spec))

    def __enter__(self) -> PngRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._layout.shutdown(cancel_futures=True)
        self._raster.shutdown(cancel_futures=True)


@dataclass(frozen=True)
class _PngJob:
    layout: Future[Future[bytes]]

    def result(self) -> bytes:
        return self.layout.result().result()


def build_report(
    run_dir: str | Path, *, out_dir: str | Path | None = None, png: bool = True
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

    Returns
    -------
    ReportFiles

    Raises
    ------
    InputError
        A file of the run is missing or the files do not belong together.
    """
    out = Path(out_dir) if out_dir is not None else Path(run_dir)
    return write_report(rd.load_run(run_dir), out, png=png)


def report_from_result(
    result: SegmentationResult, out_dir: str | Path, *, png: bool = True
) -> ReportFiles:
    """Write the report of a segmentation still in memory into ``out_dir``.

    The same bytes as :func:`build_report` on the folder ``result`` is saved to,
    without reading ``segments.csv`` back: the report keeps at most
    :data:`custseg.report.data.SAMPLE_ROWS` rows, whatever the table's size.
    """
    return write_report(rd.run_from_result(result), Path(out_dir), png=png)


def write_report(run: rd.RunData, out: Path, *, png: bool = True) -> ReportFiles:
    """Write ``report.html`` (and ``charts/*.png`` when ``png``) of ``run`` into ``out``."""
    vl_version = _vl_version()
    if not png:
        return _write_report(run, out, vl_version, None)
    with PngRenderer(vl_version) as renderer:
        return _write_report(run, out, vl_version, renderer)


def _write_report(
    run: rd.RunData, out: Path, vl_version: str, renderer: PngRenderer | None
) -> ReportFiles:
    stab, ari = stability_scores(run.summary)
    border = borderline_shares(run)
    specs: dict[str, dict[str, Any]] = {}
    pngs: dict[str, _PngJob] = {}

    def take(chart: ChartSpec) -> None:
        specs[chart.name] = chart.to_dict()
        if renderer is not None:
            pngs[chart.name] = renderer.submit(specs[chart.name])

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
    if renderer is not None:
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
