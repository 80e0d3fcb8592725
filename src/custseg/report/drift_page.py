"""``drift.html``: a short, self-contained page (inline CSS and SVG, no scripts).

Two horizontal bar charts — per-feature PSI with the watch and retrain lines,
and each segment's share in training and in the new data — under the verdict
and its reasons. Nothing is fetched from the network, so the file opens the
same offline, attached to an e-mail, or years later.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from custseg.lifecycle.drift import PSI_RETRAIN, PSI_WATCH
from custseg.report.palette import NEUTRAL, segment_color

if TYPE_CHECKING:
    from custseg.lifecycle.drift import DriftReport

__all__ = ["render_drift_html"]

# Okabe-Ito colours (colour-blind safe); the value is also written beside each bar.
_COLORS = {"stable": "#009E73", "watch": "#E69F00", "retrain": "#D55E00"}
_TRAINING = "#BBBBBB"
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
    for limit, label in ((PSI_WATCH, "watch"), (PSI_RETRAIN, "retrain")):
        x = label_w + _BAR_W * limit / top
        parts.append(
            f'<line x1="{x:.1f}" y1="5" x2="{x:.1f}" y2="{bottom}" stroke="#555" '
            f'stroke-dasharray="4 3"/><text x="{x:.1f}" y="{bottom + 14}" '
            f'text-anchor="middle" class="axis">{label} {limit}</text>'
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
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
.verdict {{ display: inline-block; padding: .3rem .9rem; border-radius: .3rem; color: #fff;
  background: {color}; font-weight: 600; text-transform: uppercase; }}
svg {{ font-size: 12px; }} svg .axis {{ fill: #555; font-size: 11px; }}
table {{ border-collapse: collapse; }} td, th {{ padding: .2rem .8rem; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
.legend span {{ display: inline-block; width: .8rem; height: .8rem; margin: 0 .3rem 0 1rem; }}
</style>
</head>
<body>
<h1>Segment drift</h1>
<p>Input: <code>{escape(report.source)}</code> — {report.rows["scored"]} of
{report.rows["rows"]} customers scored with the model, without refitting.</p>
<p class="verdict">{escape(report.verdict)}</p>
<ul>{reasons}</ul>
<h2>Feature drift (PSI)</h2>
<p>Population stability index of each feature against its training deciles; watch from
{PSI_WATCH}, retrain from {PSI_RETRAIN}.</p>
{_svg_psi(report.features)}
<h2>Segment shares</h2>
<p class="legend"><span style="background:{_TRAINING}"></span>training (upper bar)
<span style="background:{NEUTRAL}"></span>new data (lower bar, in the segment's report colour)
— share PSI {report.share_psi:.3f}
({escape(report.share_grade)})</p>
{_svg_shares(report.segments)}
<h2>Fit</h2>
<table>
<tr><th>measure</th><th>training</th><th>new</th><th>grade</th></tr>
<tr><td>mean distance to centre</td><td>{_fmt(fit["training_mean_distance"], ".3f")}</td>
<td>{_fmt(fit["new_mean_distance"], ".3f")}</td><td>{escape(fit["grade"])}</td></tr>
<tr><td>borderline share (margin &lt; {border["margin"]})</td>
<td>{_fmt(border["training_share"], ".1%")}</td><td>{_fmt(border["new_share"], ".1%")}</td>
<td>{escape(border["grade"])}</td></tr>
</table>
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
</body>
</html>
"""
