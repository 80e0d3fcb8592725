"""The self-contained ``report.html``: text, tables, chart specs and the Vega libraries.

The page needs nothing from the network: the Vega, Vega-Lite and Vega-Embed
JavaScript comes from ``vl_convert.javascript_bundle`` (bundled with the
``vl-convert-python`` wheel) and is inlined, the chart specs are inlined as
JSON, the styles are inlined, and fonts are the reader's system fonts. The
page holds no timestamp, so the same run gives the same bytes.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Collection
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.io import write_text
from custseg.io.paths import cache_dir
from custseg.report import data as rd
from custseg.report.charts import CRITERIA, ChartSpec
from custseg.report.palette import segment_color
from custseg.report.personas import ACTIONS, Persona
from custseg.verdicts import (
    CLEAR_SILHOUETTE,
    NO_STRUCTURE_SILHOUETTE,
    STRUCTURE_HEADLINES,
    WEAK_JACCARD,
    silhouette_verdict,
    structure_words,
)

__all__ = ["SECTIONS", "render_html", "vega_bundle"]

#: Section anchor → heading, in page order.
SECTIONS: dict[str, str] = {
    "glance": "The segments at a glance",
    "overview": "1. Data overview",
    "choosing-k": "2. Choosing the number of segments",
    "segment-map": "3. Segment map",
    "profiles": "4. Segment profiles",
    "personas": "5. Personas",
    "quality": "6. Quality",
}

_BUNDLE_MARK = "window.vegaEmbed="  # the default bundle ends by setting globals

METRIC_NOTES = {
    "silhouette": (
        "Silhouette",
        f"−1 to 1, higher is better: above {CLEAR_SILHOUETTE:.2f} clear, "
        f"{NO_STRUCTURE_SILHOUETTE:.2f}–{CLEAR_SILHOUETTE:.2f} weak, "
        f"{NO_STRUCTURE_SILHOUETTE:.2f} or below no structure (see docs/verdicts.md).",
    ),
    "calinski_harabasz": (
        "Calinski-Harabasz",
        "Between- to within-segment dispersion; higher "
        "is better, compare across K on the same data.",
    ),
    "davies_bouldin": (
        "Davies-Bouldin",
        "Average similarity of each segment to its closest one; lower is better, 0 is ideal.",
    ),
    "inertia": ("Inertia", "Sum of squared distances to the segment centres, in scaled units."),
}

CSS = """
:root { --ink:#1f1f1f; --muted:#5a5a5a; --line:#d9d9d9; --bg:#fafafa; }
* { box-sizing: border-box; }
body { margin:0; font-family: "Liberation Sans", Arial, Helvetica, sans-serif; color:var(--ink);
  background:#fff; line-height:1.45; font-size:15px; }
header.top { background:#1f2d3d; color:#fff; padding:18px 0 12px; }
header.top h1 { margin:0 0 4px; font-size:24px; }
header.top p { margin:0; color:#d6dde5; }
nav { position:sticky; top:0; background:#fff; border-bottom:1px solid var(--line); z-index:5; }
nav ul { list-style:none; margin:0 auto; padding:8px 24px; display:flex; flex-wrap:wrap;
  gap:4px 18px; max-width:1040px; }
nav a { color:#1f4e79; text-decoration:none; font-size:14px; }
nav a:hover { text-decoration:underline; }
.wrap { max-width:1040px; margin:0 auto; padding:0 24px; }
section { padding:8px 0 24px; border-bottom:1px solid var(--line); }
h2 { font-size:21px; margin:24px 0 8px; }
h3 { font-size:16px; margin:18px 0 6px; }
p.lead { color:var(--muted); margin-top:0; }
figure { margin:16px 0; padding:12px; border:1px solid var(--line); border-radius:6px;
  background:#fff; overflow-x:auto; }
figcaption { color:var(--muted); font-size:13px; margin-top:6px; }
.vis { min-height:40px; }
table { border-collapse:collapse; margin:8px 0 12px; font-size:14px; }
th, td { text-align:left; padding:4px 10px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { background:var(--bg); font-weight:bold; }
td.num, th.num { text-align:right; font-variant-numeric: tabular-nums; }
.facts { display:flex; flex-wrap:wrap; gap:12px; margin:12px 0; }
.fact { border:1px solid var(--line); border-radius:6px; padding:8px 14px; min-width:130px; }
.fact b { display:block; font-size:22px; }
.fact span { color:var(--muted); font-size:13px; }
.cards { display:grid; grid-template-columns:repeat(auto-fill, minmax(440px, 1fr)); gap:14px; }
.card { border:1px solid var(--line); border-left:10px solid; border-radius:6px;
  padding:10px 14px; break-inside:avoid; }
.card h3 { margin:2px 0 2px; }
.card .size { color:var(--muted); margin:0 0 6px; }
.card ul { margin:4px 0 8px 18px; padding:0; }
.card .action { background:var(--bg); padding:6px 10px; border-radius:4px; }
.card .why { color:var(--muted); font-size:13px; }
.swatch { display:inline-block; width:12px; height:12px; border-radius:2px;
  vertical-align:-1px; margin-right:6px; }
.note { color:var(--muted); font-size:13px; }
.warn { background:#fff4e5; border-left:4px solid #E69F00; padding:6px 10px; margin:6px 0; }
footer { color:var(--muted); font-size:13px; padding:16px 0 32px; }
.scroll { overflow-x:auto; max-width:100%; }
table.glance td { font-size:14px; }
table.glance td:first-child { font-weight:bold; }
table.glance ul { margin:0; padding-left:16px; }
.vis svg { max-width:100%; height:auto; }
@media (max-width: 900px) {
  .wrap { padding:0 12px; }
  figure { padding:6px; }
  .cards { grid-template-columns:1fr; }
}
@media print {
  @page { size: A4; margin: 12mm; }
  body { font-size:10.5pt; }
  thead { display:table-header-group; }
  tr, .keep { break-inside:avoid; }
  h2, h3 { break-after:avoid; }
  .scroll { overflow:visible; }
  nav, header.top p.hint { display:none; }
  header.top { background:none; color:#000; padding:0; }
  header.top p { color:#333; }
  .wrap { max-width:none; padding:0; }
  section { border:none; padding-bottom:8px; }
  h2 { break-after:avoid; }
  figure, .card, table, .facts { break-inside:avoid; }
  figure { border:none; padding:0; margin:8px 0; overflow:visible; }
  .vis svg, .vis canvas { max-width:100% !important; height:auto !important; }
  figcaption .note { display:none; }
  .cards { grid-template-columns:1fr 1fr; }
  a { color:inherit; text-decoration:none; }
}
"""

RENDER_JS = """
(function () {
  var nodes = document.querySelectorAll('[data-spec]');
  var jobs = [];
  nodes.forEach(function (el) {
    var spec = JSON.parse(document.getElementById(el.getAttribute('data-spec')).textContent);
    jobs.push(vegaEmbed(el, spec, {renderer: 'svg', actions: false, mode: 'vega-lite'})
      .then(function () { el.setAttribute('data-rendered', 'true'); })
      .catch(function (err) {
        el.textContent = 'This chart could not be drawn: ' + err;
        console.error(err);
      }));
  });
  Promise.all(jobs).then(function () { document.body.setAttribute('data-rendered', 'true'); });
})();
"""


@functools.cache
def vega_bundle(vl_version: str) -> str:
    """The Vega, Vega-Lite and Vega-Embed libraries as one script.

    ``vl_convert.javascript_bundle`` takes 1.5-4 s to bundle the libraries, the
    same bytes every time for a given vl-convert and Vega-Lite version, so the
    result is kept per process and in ``~/.cache/custseg`` (or
    ``$CUSTSEG_CACHE_DIR``), keyed by both versions. A cache that cannot be read
    or written is simply not used.
    """
    import vl_convert

    key = f"vega-bundle-vlc{getattr(vl_convert, '__version__', 'x')}-vl{vl_version}.js"
    folder = cache_dir()
    cached = folder / key if folder is not None else None
    if cached is not None:
        try:
            js = cached.read_text(encoding="utf-8")
            if _BUNDLE_MARK in js[-2000:]:
                return js
        except OSError:
            pass
    # The stub makes the snippet required; the library defaults it to the snippet
    # that puts vegaEmbed, vegaLite and vega on window, which the report uses.
    js = vl_convert.javascript_bundle(vl_version=vl_version)  # type: ignore[call-arg]
    # A literal "</script" inside the code would end the inline script early.
    js = js.replace("</script", "<\\/script")
    if cached is not None and _BUNDLE_MARK in js[-2000:]:
        with contextlib.suppress(OSError):
            write_text(js, cached)
    return js


def _json(spec: dict[str, Any]) -> str:
    text = json.dumps(spec, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c")


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) < 1000 else f"{value:,.0f}"
    return escape(str(value))


def _figure(chart: ChartSpec) -> str:
    return (
        f'<figure id="chart-{chart.name}" class="chart">'
        f'<div class="vis" data-spec="spec-{chart.name}" role="img" '
        f'aria-label="{escape(chart.name.replace("_", " "))}"></div>'
        f"<figcaption>{escape(chart.caption)} "
        f'<span class="note">PNG: charts/{chart.name}.png</span></figcaption></figure>\n'
    )


def _table(
    headers: list[str], rows: list[list[str]], numeric: Collection[int] = frozenset()
) -> str:
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>\n"


def _swatch(segment_id: int) -> str:
    return f'<span class="swatch" style="background:{segment_color(segment_id)}"></span>'


def _keep(*blocks: str) -> str:
    """Blocks that print on one page: a heading with what it introduces."""
    return f'<div class="keep">{"".join(blocks)}</div>'


# -- sections ---------------------------------------------------------------------------
def _verdicts(summary: dict[str, Any]) -> dict[int, str]:
    """Per segment, the stability verdict word the run wrote (e.g. ``stable``)."""
    block = summary.get("stability")
    per = block.get("segments") if isinstance(block, dict) else None
    if not isinstance(per, list):
        return {}
    return {
        int(item["id"]): str(item["verdict"])
        for item in per
        if isinstance(item, dict) and "id" in item and item.get("verdict")
    }


def _trust(sid: int, stab: dict[int, float], border: dict[int, float], verdicts: dict) -> str:
    parts = []
    if sid in stab:
        word = verdicts.get(sid)
        parts.append(f"{escape(word)} ({stab[sid]:.2f})" if word else f"stability {stab[sid]:.2f}")
    else:
        parts.append("stability not measured")
    if sid in border:
        parts.append(f"{border[sid]:.0%} borderline")
    return "; ".join(parts)


def _value_note(values: rd.ValueShares | None) -> str:
    if values is None:
        return ""
    how = "" if values.exact else " (estimated from the sample of customers the report holds)"
    return (
        f'<p class="note">Share of {escape(values.column)}: each segment\'s part of the '
        f"total {escape(values.column)} of the segmented customers{escape(how)}.</p>"
    )


def _glance(
    run: rd.RunData,
    personas: list[Persona],
    stab: dict[int, float],
    border: dict[int, float],
    values: rd.ValueShares | None,
) -> str:
    """One row per segment: who, how many, what sets it apart, what to do, how far to trust."""
    s = run.summary
    ksel = s.get("k_selection", {})
    lead = (
        f"<p><b>{len(run.segments)} segments</b> of {run.fitted_total:,} customers "
        f"on {escape(', '.join(s['features']))}."
    )
    if ksel.get("structure"):
        lead += f" Structure: <b>{escape(str(ksel['structure']))}</b>"
        if ksel.get("structure_reason"):
            lead += f" — {escape(str(ksel['structure_reason']).rstrip('.'))}"
        lead += "."
    lead += "</p>"
    verdicts = _verdicts(s)
    headers = ["segment", "customers"]
    if values is not None:
        headers.append(f"share of {values.column}")
    headers += ["what sets it apart", "suggested action", "how far to trust it"]
    rows = []
    for p in personas:
        cells = [
            _swatch(p.id) + escape(p.label),
            f"{p.size:,} ({p.share:.0%})",
        ]
        if values is not None:
            share = values.shares.get(p.id)
            cells.append("–" if share is None else f"<b>{share:.0%}</b>")
        facts = "".join(f"<li>{escape(d)}</li>" for d in p.distinctions[:2])
        cells += [
            f"<ul>{facts}</ul>",
            escape(p.action_title),
            _trust(p.id, stab, border, verdicts),
        ]
        rows.append(cells)
    table = _table(headers, rows, {1, 2} if values is not None else {1}).replace(
        "<table>", '<table class="glance">', 1
    )
    return (
        lead
        + f'<div class="scroll">{table}</div>'
        + _value_note(values)
        + '<p class="note">Details: the personas (section 5) explain each action; '
        "section 6 explains stability and borderline customers.</p>"
    )


def _overview(run: rd.RunData, charts: list[ChartSpec]) -> str:
    s = run.summary
    used = s["features"]
    inp = s.get("input", {})
    missing = s.get("missing", {})
    facts = [
        (f"{inp.get('rows', len(run.table)):,}", "rows read"),
        (f"{inp.get('rows_fitted', run.fitted_total):,}", "rows segmented"),
        (str(len(used)), "features used"),
        (str(len(s.get("skipped", []))), "columns not used"),
        (f"{missing.get('rows_with_missing', 0):,}", "rows with a missing value"),
    ]
    out = (
        ['<div class="facts">']
        + [f'<div class="fact"><b>{escape(v)}</b><span>{escape(t)}</span></div>' for v, t in facts]
        + ["</div>"]
    )
    out.append(
        f"<p>Scaling: <b>{escape(str(s.get('scaling', '')))}</b>; missing values: "
        f"<b>{escape(str(missing.get('handling', '')))}</b>"
        + (" (filled with the column median)" if missing.get("handling") == "impute" else "")
        + ".</p>"
    )
    skipped = {x["column"]: x["reason"] for x in s.get("skipped", [])}
    counts = missing.get("counts", {})
    rows = []
    for info in s.get("columns", []):
        name = info["name"]
        status = "feature" if name in used else "not used"
        reason = "" if name in used else skipped.get(name, "")
        miss = counts.get(name, info.get("missing", 0))
        rows.append(
            [
                escape(name),
                escape(info.get("role", "")),
                status,
                escape(reason),
                f"{int(miss or 0):,}",
            ]
        )
    columns = _table(["column", "detected role", "use", "why not used", "missing"], rows, {4})
    out.append(_keep("<h3>Columns</h3>", f'<div class="scroll">{columns}</div>'))
    out += [_figure(c) for c in charts]
    return "".join(out)


def _choosing_k(run: rd.RunData, charts: list[ChartSpec]) -> str:
    ksel = run.summary.get("k_selection", {})
    k = run.summary.get("k")
    out = [f"<p><b>K = {escape(str(k))}</b>: {escape(str(ksel.get('reason', '')))}.</p>"]
    if ksel.get("structure"):
        text = STRUCTURE_HEADLINES.get(str(ksel["structure"]), f"Structure: {ksel['structure']}.")
        if ksel.get("structure_reason"):
            text += f" Why: {str(ksel['structure_reason']).rstrip('.')}."
        cls = "warn" if ksel["structure"] != "clear" else "note"
        out.append(f'<p class="{cls}">{escape(text)}</p>')
    votes = ksel.get("votes") or {}
    if votes:
        titles = {"elbow": "Elbow (knee of the inertia curve)"}
        tried = {int(row["k"]) for row in ksel.get("table") or [] if "k" in row}
        # A vote for a K outside the range tried is not a K the reader can look at.
        rows = [
            [
                escape(titles.get(c) or CRITERIA.get(c, (str(c).replace("_", " "),))[0]),
                escape(str(v))
                if not tried or str(v) in {str(k) for k in tried}
                else f"none within {min(tried)}–{max(tried)}",
            ]
            for c, v in votes.items()
        ]
        agree = ksel.get("agreement")
        prefers = _table(["criterion", "K"], rows, {1})
        out.append(_keep("<h3>What each criterion prefers</h3>", prefers))
        if agree is not None:
            total = ksel.get("n_criteria", len(votes))
            out.append(
                f'<p class="note">{escape(str(agree))} of {escape(str(total))} criteria agree '
                f"on the chosen K.</p>"
            )
    if not charts and (ksel.get("method") == "given" or not ksel.get("table")):
        out.append('<p class="note">K was given (--k), so no range of K was tried.</p>')
    out += [_figure(c) for c in charts]
    table = rd.k_table(run)
    if not table.empty:
        # The numbers behind the chart, for print and for readers who cannot hover.
        cols = list(table.columns)
        names = {"k": "K", "inertia": "Inertia", "gap_se": "Gap std. error"}
        headers = [
            names.get(c) or CRITERIA.get(c, (c.replace("_", " ").capitalize(),))[0] for c in cols
        ]
        rows = []
        for rec in table.to_dict(orient="records"):
            cells = [
                str(int(rec[c])) if c == "k" else ("–" if pd.isna(rec[c]) else f"{rec[c]:.4g}")
                for c in cols
            ]
            if int(rec["k"]) == k:
                cells = [f"<b>{c}</b>" for c in cells]
            rows.append(cells)
        every = _table(headers, rows, set(range(len(cols))))
        out.append(_keep("<h3>Every K tried</h3>", f'<div class="scroll">{every}</div>'))
    return "".join(out)


def _profiles(run: rd.RunData, charts: list[ChartSpec]) -> str:
    out = []
    sizes = [c for c in charts if c.name == "segment_sizes"]
    out += [_figure(c) for c in sizes]
    headers = ["segment", "customers", "share"] + [f"mean {f}" for f in run.numeric]
    rows = []
    for seg in sorted(run.summary["segments"], key=lambda s: (int(s["id"]) < 0, int(s["id"]))):
        sid = int(seg["id"])
        rows.append(
            [
                _swatch(sid) + escape(run.label_of.get(sid, seg["name"])),
                f"{int(seg['size']):,}",
                f"{float(seg['share']):.1%}",
            ]
            + [_fmt(seg.get("mean", {}).get(f), 1) for f in run.numeric]
        )
    means = _table(headers, rows, set(range(1, len(headers))))
    out.append(_keep("<h3>Means by segment</h3>", f'<div class="scroll">{means}</div>'))
    out += [_figure(c) for c in charts if c.name != "segment_sizes"]
    return "".join(out)


def _personas(personas: list[Persona], values: rd.ValueShares | None = None) -> str:
    cards = []
    for p in personas:
        items = "".join(f"<li>{escape(d)}</li>" for d in p.distinctions)
        value = ""
        if values is not None and p.id in values.shares:
            value = f" · {values.shares[p.id]:.0%} of {escape(values.column)}"
        cards.append(
            f'<div class="card" style="border-left-color:{segment_color(p.id)}">'
            f"<h3>{escape(p.label)}</h3>"
            f'<p class="size">{p.size:,} customers · {p.share:.1%} of segmented customers'
            f"{value}</p>"
            f"<ul>{items}</ul>"
            f'<p class="action"><b>Suggested action — {escape(p.action_title)}.</b> '
            f"{escape(p.action)}</p>"
            f'<p class="why">Why: rule {p.rule} — {escape(p.because)}.</p></div>'
        )
    rules = "".join(f"<li><b>{escape(t)}</b>: {escape(a)}</li>" for t, a in ACTIONS.values())
    return (
        '<div class="cards">' + "".join(cards) + "</div>"
        '<details class="note"><summary>How the distinctions and actions are chosen</summary>'
        "<p>A feature is listed when the segment's mean is at least half a standard deviation "
        "from the overall mean, or for an amount at most half or at least twice it (the "
        "strongest three); a category only when it is linked to the segments and differs by "
        "15 points or more, by a test. Each column is read as a kind (money, count, score, "
        "share, flag, ...) and a signal (spend, frequency, recency, risk, ...) from its name "
        "and values; the first matching rule below suggests the action. See "
        "docs/personas.md.</p>"
        f"<ol>{rules}</ol></details>"
    )


def _quality(
    run: rd.RunData,
    charts: list[ChartSpec],
    stab: dict[int, float],
    border: dict[int, float],
    ari: float | None,
) -> str:
    metrics = run.summary.get("metrics", {})
    rows = []
    for key, value in metrics.items():
        title, note = METRIC_NOTES.get(key, (key.replace("_", " ").capitalize(), ""))
        if isinstance(value, int | float) or value is None:
            cell = _fmt(value)
            if key == "silhouette" and value is not None:
                cell += escape(f" ({structure_words(silhouette_verdict(float(value)))})")
            rows.append([escape(title), cell, escape(note)])
    out = [_table(["metric", "value", "how to read it"], rows, {1})]
    if stab or ari is not None:
        text = "Stability from bootstrap resamples"
        if ari is not None:
            text += f": mean adjusted Rand index between runs {ari:.2f}"
        out.append(f"<p>{escape(text)}.</p>")
        weak = [run.label_of[s] for s, v in stab.items() if v < WEAK_JACCARD and s in run.label_of]
        if weak:
            out.append(
                f'<p class="warn">Unstable, not to be trusted on their own (Jaccard below '
                f"{WEAK_JACCARD:.2f}): {escape(', '.join(weak))}.</p>"
            )
    else:
        out.append('<p class="note">Stability was not computed for this run.</p>')
    block = run.summary.get("borderline")
    if isinstance(block, dict) and block.get("share") is not None:
        threshold = block.get("threshold")
        rule = f" (margin below {threshold})" if threshold is not None else ""
        out.append(
            f"<p>{float(block['share']):.1%} of the customers are borderline{escape(rule)}: "
            "almost as close to a second segment's centre as to their own.</p>"
        )
    out += [_figure(c) for c in charts]
    warnings = run.summary.get("warnings") or []
    if warnings:
        out.append(_keep("<h3>Warnings</h3>", f'<p class="warn">{escape(str(warnings[0]))}</p>'))
        out += [f'<p class="warn">{escape(str(w))}</p>' for w in warnings[1:]]
    else:
        out.append(_keep("<h3>Warnings</h3>", '<p class="note">No warnings.</p>'))
    for note in run.notes:
        out.append(f'<p class="note">{escape(note)}</p>')
    return "".join(out)


def render_html(
    run: rd.RunData,
    charts: list[ChartSpec],
    specs: dict[str, dict[str, Any]],
    personas: list[Persona],
    *,
    stability: dict[int, float],
    borderline: dict[int, float],
    ari: float | None,
    vl_version: str,
    values: rd.ValueShares | None = None,
) -> str:
    """The whole report as one HTML string (see the module docstring)."""
    by_section: dict[str, list[ChartSpec]] = {key: [] for key in SECTIONS}
    for chart in charts:
        by_section[chart.section].append(chart)
    s = run.summary
    source = Path(str(s.get("input", {}).get("path", "input"))).name
    bodies = {
        "glance": _glance(run, personas, stability, borderline, values),
        "overview": _overview(run, by_section["overview"]),
        "choosing-k": _choosing_k(run, by_section["choosing-k"]),
        "segment-map": "".join(_figure(c) for c in by_section["segment-map"])
        or '<p class="note">A map needs at least two numeric features.</p>',
        "profiles": _profiles(run, by_section["profiles"]),
        "personas": _personas(personas, values),
        "quality": _quality(run, by_section["quality"], stability, borderline, ari),
    }
    sections = "".join(
        f'<section id="{key}"><h2>{escape(title)}</h2>{bodies[key]}</section>\n'
        for key, title in SECTIONS.items()
    )
    spec_tags = "".join(
        f'<script type="application/json" id="spec-{c.name}">{_json(specs[c.name])}</script>\n'
        for c in charts
    )
    nav = "".join(f'<li><a href="#{k}">{escape(t)}</a></li>' for k, t in SECTIONS.items())
    title = f"Customer segments: {source}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header class="top"><div class="wrap"><h1>{escape(title)}</h1>'
        f"<p>{len(run.segments)} segments of {run.fitted_total:,} customers · "
        f"{escape(str(s.get('algorithm', '')))} · seed {escape(str(s.get('random_state', '')))}"
        f" · custseg {escape(str(s.get('custseg_version', '')))}</p></div></header>\n"
        f"<nav><ul>{nav}</ul></nav>\n"
        f'<main class="wrap">\n{sections}</main>\n'
        '<footer class="wrap">Made by custseg from summary.json, segments.csv and model.json; '
        "it holds features and aggregates only, no customer IDs, names or e-mails. "
        "Rebuild with <code>custseg report DIR</code>.</footer>\n"
        f"{spec_tags}"
        "<noscript><p>The charts need JavaScript; the PNG files in charts/ show the same "
        "charts.</p></noscript>\n"
        f"<script>{vega_bundle(vl_version)}</script>\n<script>{RENDER_JS}</script>\n"
        "</body>\n</html>\n"
    )
