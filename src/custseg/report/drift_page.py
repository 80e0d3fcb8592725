"""``drift.html``: a short, self-contained page (inline CSS and SVG, no scripts).

Under the verdict and its reasons: per feature its PSI with the watch and retrain
lines, its training and new mean and median, and the two distributions overlaid
on the PSI bins; per segment its share in training and in the new data. Nothing
is fetched from the network, so the file opens the same offline, attached to an
e-mail, or years later; it prints on A4 with every table beside its header.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from html import escape
from pathlib import Path

from custseg.io import write_json, write_text
from custseg.lifecycle.drift import DRIFT_FILES, PSI_RETRAIN, PSI_WATCH, DriftReport
from custseg.report.palette import NEUTRAL, RETRAIN, STABLE, WATCH, segment_color

__all__ = ["render_drift_html", "save_drift"]

# The verdict colours (RETRAIN is no segment's colour); the value is also written
# beside each bar, so no colour has to be told apart.
_COLORS = {"stable": STABLE, "watch": WATCH, "retrain": RETRAIN}
_TRAINING = "#8C8C8C"
_NEW = "#000000"
_DIST_W, _DIST_H = 300, 90
_CHAR_W = 7  # a generous average glyph width at 12px, to size the label column
_BAR_W = 420
_ROW_H = 24


def _label_width(labels: list[str]) -> int:
    return max(120, _CHAR_W * max((len(t) for t in labels), default=0) + 16)


def _svg_psi(features: list[dict]) -> str:
    label_w = _label_width([f["name"] for f in features])
    values = [f["psi"] or 0.0 for f in features]
    top = max([*values, PSI_RETRAIN * 1.2])
    height = _ROW_H * len(features) + 30
    width = label_w + _BAR_W + 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="PSI per feature">'
    ]
    for i, (f, v) in enumerate(zip(features, values, strict=True)):
        y = 10 + i * _ROW_H
        w = _BAR_W * v / top
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(f["name"])}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{_ROW_H - 8}" '
            f'fill="{_COLORS[f["grade"]]}"><title>{escape(f["name"])}: PSI {v:.3f}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}">{v:.3f}</text>'
        )
    bottom = 10 + _ROW_H * len(features)
    # "watch" ends at its line and "retrain" starts at its own: the two never overlap.
    for limit, label, anchor in ((PSI_WATCH, "watch", "end"), (PSI_RETRAIN, "retrain", "start")):
        x = label_w + _BAR_W * limit / top
        parts.append(
            f'<line x1="{x:.1f}" y1="5" x2="{x:.1f}" y2="{bottom}" stroke="#555" '
            f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{bottom + 14}" '
            f'text-anchor="{anchor}" class="axis">{label} {limit}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _svg_shares(segments: list[dict]) -> str:
    label_w = _label_width([f"{s['id']} · {s['name']}" for s in segments])
    top = max([s["training_share"] for s in segments] + [s["new_share"] for s in segments] + [0.01])
    row = _ROW_H + 14
    height = row * len(segments) + 20
    width = label_w + _BAR_W + 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="Segment shares, training and new">'
    ]
    for i, s in enumerate(segments):
        y = 8 + i * row
        label = escape(f"{s['id']} · {s['name']}")
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{label}</text>')
        # New shares take the segment's colour in report.html (ids, and so colours,
        # stay the same across retraining with --previous).
        bars = (("training_share", _TRAINING), ("new_share", segment_color(int(s["id"]))))
        for j, (key, color) in enumerate(bars):
            w = _BAR_W * s[key] / top
            yy = y + 2 + j * (_ROW_H // 2 + 2)
            parts.append(
                f'<rect x="{label_w}" y="{yy}" width="{w:.1f}" height="{_ROW_H // 2}" '
                f'fill="{color}"><title>{key.replace("_", " ")}: {s[key]:.1%}</title></rect>'
                f'<text x="{label_w + w + 6:.1f}" y="{yy + 10}" class="axis">'
                f"{s[key]:.1%}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _steps(
    limits: list[float],
    shares: list[float],
    x: Callable[[float], float],
    y: Callable[[float], float],
) -> str:
    """SVG path of a histogram with unequal bins: height = share / bin width."""
    points = [f"M{x(limits[0]):.1f},{y(0):.1f}"]
    for (lo, hi), share in zip(itertools.pairwise(limits), shares, strict=True):
        h = share / (hi - lo) if hi > lo else 0.0
        points.append(f"L{x(lo):.1f},{y(h):.1f}L{x(hi):.1f},{y(h):.1f}")
    points.append(f"L{x(limits[-1]):.1f},{y(0):.1f}Z")
    return "".join(points)


def _svg_distribution(f: dict) -> str:
    """Training (grey) and new (black outline) distributions of one feature, overlaid."""
    bins = f.get("bins") or {}
    edges = bins.get("edges") or []
    low, high = bins.get("low"), bins.get("high")
    if low is None or high is None or not high > low:
        return ""
    limits = [low, *[e for e in edges if low < e < high], high]
    if len(limits) - 1 != len(bins["training"]):
        return ""
    widths = [max(b - a, 1e-12) for a, b in itertools.pairwise(limits)]
    top = max(s / w for s, w in zip(bins["training"] + bins["new"], widths * 2, strict=True))
    pad = 4

    def x(v: float) -> float:
        return pad + (_DIST_W - 2 * pad) * (v - low) / (high - low)

    def y(v: float) -> float:
        return _DIST_H - 18 - (_DIST_H - 26) * (v / top if top > 0 else 0)

    means = [
        (f.get("training_mean"), _TRAINING, "4 3"),
        (f.get("new_mean"), _NEW, "4 3"),
    ]
    marks = "".join(
        f'<line x1="{x(m):.1f}" x2="{x(m):.1f}" y1="4" y2="{_DIST_H - 18}" stroke="{c}" '
        f'stroke-width="1.5" stroke-dasharray="{d}"/>'
        for m, c, d in means
        if m is not None and low <= m <= high
    )
    name = escape(f["name"])
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_DIST_W}" height="{_DIST_H}" '
        f'role="img" aria-label="{name}: training and new distributions">'
        f'<path d="{_steps(limits, bins["training"], x, y)}" fill="#d9d9d9" '
        f'stroke="{_TRAINING}" stroke-width="1"/>'
        f'<path d="{_steps(limits, bins["new"], x, y)}" fill="none" stroke="{_NEW}" '
        f'stroke-width="2"/>{marks}'
        f'<line x1="{pad}" x2="{_DIST_W - pad}" y1="{_DIST_H - 18}" y2="{_DIST_H - 18}" '
        f'stroke="#555"/>'
        f'<text x="{pad}" y="{_DIST_H - 4}" class="axis">{_num(low)}</text>'
        f'<text x="{_DIST_W - pad}" y="{_DIST_H - 4}" class="axis" text-anchor="end">'
        f"{_num(high)}</text></svg>"
    )


def _feature_moves(features: list[dict]) -> str:
    """Per feature: training vs new mean and median, and the two distributions."""
    rows = []
    for f in features:
        rows.append(
            f"<tr><td>{escape(f['name'])}</td>"
            f"<td>{_num(f.get('training_mean'))} → {_num(f.get('new_mean'))}</td>"
            f"<td>{_num(f.get('training_median'))} → {_num(f.get('new_median'))}</td>"
            f"<td>{_fmt(f['psi'], '.3f')} ({escape(f['grade'])})</td>"
            f"<td>{_svg_distribution(f)}</td></tr>"
        )
    return (
        '<table class="moves"><thead><tr><th>feature</th><th>mean: training → new</th>'
        "<th>median: training → new</th><th>PSI</th><th>distribution</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _segment_table(segments: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{escape(str(s['id']))} · {escape(s['name'])}</td>"
        f"<td>{s['training_share']:.1%}</td><td>{s['new_share']:.1%}</td>"
        f"<td>{(s['new_share'] - s['training_share']) * 100:+.1f} pts</td></tr>"
        for s in segments
    )
    return (
        "<table><thead><tr><th>segment</th><th>training</th><th>new</th><th>change</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def render_drift_html(report: DriftReport) -> str:
    """The drift report as one HTML document (no external resources, no timestamps)."""
    color = _COLORS[report.verdict]
    reasons = "".join(f"<li>{escape(r)}</li>" for r in report.reasons) or (
        "<li>Every signal is within its stable range.</li>"
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.notes)
    fit, border = report.fit, report.borderline
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>custseg drift: {escape(report.verdict)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222;
  padding: 0 1rem; }}
.verdict {{ display: inline-block; padding: .3rem .9rem; border-radius: .3rem; color: #fff;
  background: {color}; font-weight: 600; text-transform: uppercase; }}
svg {{ font-size: 12px; }} svg .axis {{ fill: #555; font-size: 11px; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .2rem .8rem; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.legend span {{ display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; }}
table.moves td {{ vertical-align: middle; }}
.keep {{ break-inside: avoid; }}
.scroll {{ overflow-x: auto; max-width: 100%; }}
@media print {{
  @page {{ size: A4; margin: 12mm; }}
  body {{ margin: 0; max-width: none; font-size: 10pt; }}
  thead {{ display: table-header-group; }}
  tr, table, .keep {{ break-inside: avoid; }}
  h2 {{ break-after: avoid; }}
  .scroll {{ overflow: visible; }}
}}
</style>
</head>
<body>
<h1>Segment drift</h1>
<p>Input: <code>{escape(report.source)}</code> — {report.rows["scored"]} of
{report.rows["rows"]} customers scored with the model, without refitting.</p>
<p class="verdict">{escape(report.verdict)}</p>
<ul>{reasons}</ul>
<div class="keep">
<h2>Feature drift (PSI)</h2>
<p>Population stability index of each feature against its training deciles; watch from
{PSI_WATCH}, retrain from {PSI_RETRAIN}.</p>
<div class="scroll">{_svg_psi(report.features)}</div>
</div>
<div class="keep">
<h2>How each feature moved</h2>
<p class="legend"><span style="background:#d9d9d9;border:1px solid {_TRAINING}"></span>training
<span style="background:none;border:2px solid {_NEW}"></span>new data — on the PSI bins;
dashed lines mark the two means.</p>
<div class="scroll">{_feature_moves(report.features)}</div>
</div>
<div class="keep">
<h2>Segment shares</h2>
<p class="legend"><span style="background:{_TRAINING}"></span>training (upper bar)
<span style="background:{NEUTRAL}"></span>new data (lower bar, in the segment's report colour)
— share PSI {report.share_psi:.3f}
({escape(report.share_grade)})</p>
<div class="scroll">{_svg_shares(report.segments)}</div>
{_segment_table(report.segments)}
</div>
<div class="keep">
<h2>Fit</h2>
<table>
<thead><tr><th>measure</th><th>training</th><th>new</th><th>grade</th></tr></thead>
<tbody><tr><td>mean distance to centre</td><td>{_fmt(fit["training_mean_distance"], ".3f")}</td>
<td>{_fmt(fit["new_mean_distance"], ".3f")}</td><td>{escape(fit["grade"])}</td></tr>
<tr><td>borderline share (margin &lt; {border["margin"]})</td>
<td>{_fmt(border["training_share"], ".1%")}</td><td>{_fmt(border["new_share"], ".1%")}</td>
<td>{escape(border["grade"])}</td></tr></tbody>
</table>
</div>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body>
</html>
"""


def save_drift(report: DriftReport, out_dir: str | Path) -> dict[str, Path]:
    """Write ``drift.json`` and this self-contained ``drift.html`` into ``out_dir``."""
    out = Path(out_dir)
    json_name, html_name = DRIFT_FILES
    return {
        "drift_json": write_json(report.to_dict(), out / json_name),
        "drift_html": write_text(render_drift_html(report), out / html_name),
    }
