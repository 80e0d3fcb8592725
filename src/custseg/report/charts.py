"""The report's charts, as Vega-Altair charts built from a run's aggregates.

Why Vega-Altair: one chart definition (a Vega-Lite JSON spec) serves both
outputs. The HTML report embeds the spec and draws it with the Vega JavaScript
libraries inlined from ``vl-convert-python``; the PNG files are rendered from
the same spec by ``vl-convert-python`` itself, a compiled Vega engine that needs
no browser, no Node.js and no network. Matplotlib would need a second,
interactive library for the HTML; Plotly's static export needs Kaleido and a
Chromium. The specs are plain JSON, so the same input gives the same report.

Every chart takes the segment colour scale from :func:`segment_scale`, so a
segment has one colour everywhere. Field names inside the specs are generic
(``f0``, ``value``); column names appear only as titles, so names with dots or
brackets never break a spec.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from custseg.report import data as rd
from custseg.report.palette import NEUTRAL, segment_colors, segment_shapes
from custseg.verdicts import STABLE_JACCARD, WEAK_JACCARD

__all__ = ["CHART_BUILDERS", "ChartSpec", "build_charts", "k_selection_ahead", "segment_scale"]

FONT = "Liberation Sans, Arial, Helvetica, sans-serif"
#: The widest a chart gets, legend and axis labels included, in CSS pixels: it fits an
#: 820-pixel window and an A4 page (186 mm at 96 px per inch) without being shrunk, so
#: chart text prints at the size it is drawn.
WIDTH = 680
_COLUMNS = 2  # small-multiple panels per row
_LABEL_PX = 230  # room for "3 · High income · Low spending" left of a bar

#: Known K criteria: title, axis title and whether higher values are better.
CRITERIA: dict[str, tuple[str, str, bool | None]] = {
    "silhouette": ("Silhouette", "Mean silhouette (−1 to 1)", True),
    "calinski_harabasz": ("Calinski-Harabasz", "Calinski-Harabasz index", True),
    "davies_bouldin": ("Davies-Bouldin", "Davies-Bouldin index", False),
    "gap": ("Gap statistic", "Gap (log inertia vs reference)", True),
    "bic": ("BIC", "Bayesian information criterion", False),
    "aic": ("AIC", "Akaike information criterion", False),
    "stability": ("Stability", "Mean ARI between resamples (0 to 1)", True),
}
_SKIP_SUFFIXES = ("_se", "_sd", "_std", "_sk", "_seconds", "_time", "_rows")
# "score" is what the K rule ranks: its choice is the chosen K the chart shades.
_SKIP_COLUMNS = {"k", "inertia", "rows", "n", "seconds", "sample_rows", "chosen", "score"}


@dataclass(frozen=True)
class ChartSpec:
    """A chart of the report.

    Attributes
    ----------
    name : str
        File stem of its PNG (``charts/<name>.png``) and its HTML anchor.
    section : str
        The report section that shows it.
    chart : alt.TopLevelMixin
    caption : str
        One sentence under the chart.
    """

    name: str
    section: str
    chart: Any
    caption: str
    datasets: dict[str, list[dict]] = field(default_factory=dict, repr=False)

    def to_dict(self, *, validate: bool = False) -> dict[str, Any]:
        """The Vega-Lite spec with its data; ``validate`` checks it against the schema."""
        spec = self.chart.to_dict(validate=validate)
        spec["config"] = CONFIG
        spec["datasets"] = {name: self.datasets[name] for name in sorted(self.datasets)}
        return spec


# Data goes into the spec's top-level "datasets" by name instead of inline: Altair
# deep-copies inline values at every layer and concat, which made building the charts
# take seconds; a name costs nothing to copy.
_DATASETS: ContextVar[dict[str, list[dict]]] = ContextVar("custseg_report_datasets")


def _values(frame: pd.DataFrame | list[dict]) -> alt.Data:
    records = frame.to_dict(orient="records") if isinstance(frame, pd.DataFrame) else frame
    # A DataFrame turns None back into NaN, which JSON cannot hold: a gap is null.
    records = [
        {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in r.items()}
        for r in records
    ]
    text = json.dumps(records, sort_keys=True, separators=(",", ":"), allow_nan=False)
    name = "data-" + hashlib.sha256(text.encode()).hexdigest()[:16]
    _DATASETS.get()[name] = records
    return alt.Data(name=name)


class _OneLevelCopies:
    """Charts whose ``copy()`` copies the chart object, not everything under it.

    Altair copies a chart's whole tree at every layer, concat, ``properties()`` and
    ``to_dict()``, and a composed chart copies its sub-charts again at each of those:
    the K chart's nine layered panels cost about a second. Altair only ever changes
    the copy's own fields (its data, layers, size), and the report never changes a
    chart once built, so a one-level copy gives the same spec.
    """

    def copy(self, deep: Any = True, ignore: list[str] | None = None) -> Any:
        return super().copy(deep=False if deep is True else deep, ignore=ignore)  # type: ignore[misc]


class _Chart(_OneLevelCopies, alt.Chart):
    def __add__(self, other: Any) -> _LayerChart:
        return _LayerChart(layer=[self, other])


class _LayerChart(_OneLevelCopies, alt.LayerChart):
    pass


class _ConcatChart(_OneLevelCopies, alt.ConcatChart):
    pass


class _VConcatChart(_OneLevelCopies, alt.VConcatChart):
    pass


def _layer(*charts: Any, **kwargs: Any) -> _LayerChart:
    """``alt.layer`` of charts without row, column or facet channels."""
    return _LayerChart(layer=list(charts), **kwargs)


def _concat(*charts: Any, **kwargs: Any) -> _ConcatChart:
    return _ConcatChart(concat=list(charts), **kwargs)


def _vconcat(*charts: Any, **kwargs: Any) -> _VConcatChart:
    return _VConcatChart(vconcat=list(charts), **kwargs)


def segment_scale(run: rd.RunData) -> alt.Scale:
    """The one colour scale every chart uses: segment label → palette colour."""
    return alt.Scale(
        domain=[s["label"] for s in run.segments],
        range=segment_colors([s["id"] for s in run.segments]),
    )


def _segment_legend() -> alt.Legend:
    # Below the plot, in two columns: the plot keeps the page's width.
    return alt.Legend(
        title="Segment", orient="bottom", direction="vertical", columns=2, labelLimit=300
    )


def _segment_color(run: rd.RunData, legend: bool = True) -> alt.Color:
    return alt.Color(
        "segment:N", scale=segment_scale(run), legend=_segment_legend() if legend else None
    )


def _segment_shape(run: rd.RunData, legend: bool = True) -> alt.Shape:
    return alt.Shape(
        "segment:N",
        scale=alt.Scale(
            domain=[s["label"] for s in run.segments],
            range=segment_shapes([s["id"] for s in run.segments]),
        ),
        legend=_segment_legend() if legend else None,
    )


#: Shared look of every chart: set on the finished spec as plain JSON (cheaper than
#: Altair's configure_* methods, which deep-copy the whole chart each time).
CONFIG: dict[str, Any] = {
    "font": FONT,
    "padding": 8,
    "background": "white",
    "axis": {
        "labelFontSize": 12,
        "titleFontSize": 12,
        "titleFontWeight": "normal",
        "labelColor": "#222",
        "titleColor": "#222",
        "gridColor": "#e6e6e6",
    },
    "title": {
        "fontSize": 14,
        "anchor": "start",
        "subtitleFontSize": 11,
        "subtitleColor": "#555",
        "offset": 8,
    },
    "legend": {"labelFontSize": 12, "titleFontSize": 12, "symbolSize": 140},
    "header": {"labelFontSize": 12, "titleFontSize": 12},
    "view": {"stroke": "#ccc"},
}


def _panel_width(n_panels: int, columns: int = _COLUMNS) -> int:
    columns = min(columns, max(n_panels, 1))
    return int((WIDTH - 90 * columns) / columns)


def _heat_cells(
    base: alt.Chart, color: alt.Color, tooltip: list, text: Any, white_text_when: str, **rect: Any
) -> alt.LayerChart:
    """Coloured cells with their value written on them, white where the cell is dark."""
    cells = base.mark_rect(stroke="white", **rect).encode(color=color, tooltip=tooltip)
    labels = base.mark_text(fontSize=12).encode(
        text=text,
        # The channel itself, not alt.condition's dict, which Altair checks against the schema.
        color=alt.ColorValue(condition={"test": white_text_when, "value": "white"}, value="black"),
    )
    return cells + labels


def _segment_bars(
    run: rd.RunData, recs: list[dict], x: alt.X, value_tooltip: alt.Tooltip
) -> tuple[alt.Chart, alt.Chart]:
    """One horizontal bar a segment in segment order: the shared base and the bars."""
    order = [s["label"] for s in run.segments]
    base = _Chart(_values(recs)).encode(
        y=alt.Y("segment:N", sort=order, title=None, axis=alt.Axis(labelLimit=_LABEL_PX)),
        x=x,
    )
    bars = base.mark_bar().encode(
        color=_segment_color(run, legend=False),
        tooltip=[alt.Tooltip("segment:N"), value_tooltip],
    )
    return base, bars


def _value_text(base: alt.Chart, field: str, fmt: str) -> alt.Chart:
    # At the end of each bar, in data units: it stays there however wide the chart is drawn.
    return base.mark_text(align="left", dx=4, fontSize=12, color="#222").encode(
        text=alt.Text(field, format=fmt)
    )


def _bars_layout(
    chart: alt.LayerChart | alt.FacetChart, n_bars: int, title: str, subtitle: str
) -> alt.LayerChart | alt.FacetChart:
    return chart.properties(
        width=WIDTH - _LABEL_PX - 40,
        height=30 * n_bars,
        title=alt.Title(title, subtitle=subtitle),
    )


def _per_segment(
    run: rd.RunData, values: dict[int, float], key: str, digits: int
) -> list[dict[str, Any]]:
    """``values`` keyed by segment id as records of the segments still in the run."""
    return [
        {"segment": run.label_of[s], key: round(v, digits)}
        for s, v in values.items()
        if s in run.label_of
    ]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- 1. data overview ------------------------------------------------------------------
def distributions(run: rd.RunData) -> ChartSpec | None:
    hists = rd.histograms(run)
    if not hists:
        return None
    width = _panel_width(len(hists), 2)
    panels = [
        _Chart(_values(bins))
        .mark_bar(color=NEUTRAL, opacity=0.85, stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X(
                "start:Q",
                bin="binned",
                title=feature,
                axis=alt.Axis(tickCount=6, labelOverlap=True),
            ),
            x2=alt.X2("end:Q"),
            y=alt.Y("count:Q", title="Customers"),
            tooltip=[
                alt.Tooltip("start:Q", title="from"),
                alt.Tooltip("end:Q", title="to"),
                alt.Tooltip("count:Q", title="customers"),
            ],
        )
        .properties(width=width, height=150)
        for feature, bins in hists.items()
    ]
    chart = _concat(*panels, columns=2, spacing=28).properties(
        title=alt.Title(
            "Distribution of each feature",
            subtitle=f"{_capital(rd.sample_note(run))}; missing values left out",
        )
    )
    return ChartSpec(
        "data_distributions",
        "overview",
        chart,
        "How each feature is spread across the customers, before any segmentation.",
    )


def correlation(run: rd.RunData) -> ChartSpec | None:
    if len(run.numeric) < 2:
        return None
    corr = rd.correlations(run)
    side = int(min(340, max(200, 70 * len(run.numeric))))
    base = _Chart(_values(corr)).encode(
        x=alt.X(
            "a:N",
            sort=run.numeric,
            title=None,
            axis=alt.Axis(labelAngle=-25, labelLimit=200, orient="bottom"),
        ),
        y=alt.Y("b:N", sort=run.numeric, title=None, axis=alt.Axis(labelLimit=200)),
    )
    cells = _heat_cells(
        base,
        color=alt.Color(
            "r:Q",
            scale=alt.Scale(domain=[-1, 1], scheme="blueorange"),
            legend=alt.Legend(title="Correlation (r)", gradientLength=side - 40),
        ),
        tooltip=[
            alt.Tooltip("a:N", title="feature"),
            alt.Tooltip("b:N", title="with"),
            alt.Tooltip("r:Q", title="r", format=".2f"),
        ],
        text=alt.Text("r:Q", format=".2f"),
        white_text_when="abs(datum.r) > 0.6",
    )
    chart = cells.properties(
        width=side,
        height=side,
        title=alt.Title(
            "Correlation between features",
            subtitle="Pearson r: 1 = rise together, −1 = one rises as the other falls",
        ),
    )
    return ChartSpec(
        "data_correlation",
        "overview",
        chart,
        "Strongly correlated features count twice in the distances; consider "
        "keeping only one of a pair with |r| above 0.8.",
    )


# -- 2. choosing K ---------------------------------------------------------------------
#: The ring around each criterion's own choice; no segment has this colour.
CHOICE_COLOR = "#D55E00"


def _criterion_columns(table: pd.DataFrame) -> list[str]:
    cols = []
    for c in table.columns:
        low = c.lower()
        if low in _SKIP_COLUMNS or low.endswith(_SKIP_SUFFIXES):
            continue
        if table[c].notna().sum() >= 1:
            cols.append(c)
    known = [c for c in CRITERIA if c in cols]
    return known + [c for c in cols if c not in CRITERIA]


def _k_best(table: pd.DataFrame, col: str, votes: dict[str, Any]) -> int | None:
    if votes.get(col) is not None:
        return _int_or_none(votes[col])
    higher = CRITERIA.get(col, ("", "", None))[2]
    series = table[["k", col]].dropna()
    if higher is None or series.empty:
        return None
    idx = series[col].idxmax() if higher else series[col].idxmin()
    return int(series.loc[idx, "k"])


def _criterion_title(col: str) -> str:
    if col == "inertia":
        return "Elbow (inertia)"
    title, _, higher = CRITERIA.get(col, (col.replace("_", " ").capitalize(), col, None))
    if higher is not None:
        title += " (higher is better)" if higher else " (lower is better)"
    return title


def _choices(
    table: pd.DataFrame, ksel: dict[str, Any], criteria: list[str]
) -> dict[str, int | None]:
    """Each criterion's choice of K, None when it chose none within the K tried."""
    votes = dict(ksel.get("votes") or {})
    tried = {int(k) for k in table["k"]}
    choices: dict[str, int | None] = {}
    if "inertia" in table.columns:
        choices["inertia"] = _int_or_none(votes.get("elbow", ksel.get("elbow")))
    for col in criteria:
        choices[col] = _k_best(table, col, votes)
    # A vote for a K that was not tried is not drawn anywhere: the chart shows the K tried.
    return {c: (k if k in tried else None) for c, k in choices.items()}


def _votes_panel(
    choices: dict[str, int | None], chosen: int, x: alt.X, ks: list[int]
) -> alt.LayerChart:
    """One row per criterion: a dot at the K it chooses; the chosen K shaded."""
    names = [_criterion_title(c).split(" (")[0] for c in choices]
    recs = [
        {"criterion": n, "k": k, "text": f"K = {k}" if k is not None else "none in range"}
        for n, k in zip(names, choices.values(), strict=True)
    ]
    y = alt.Y("criterion:N", sort=names, title=None, axis=alt.Axis(labelLimit=200))
    band = (
        _Chart(_values([{"k": chosen - 0.4, "k2": chosen + 0.4}]))
        .mark_rect(color="#dddddd")
        .encode(x=x, x2=alt.X2("k2:Q"))
    )
    base = _Chart(_values(recs)).encode(y=y)
    dots = base.mark_point(filled=True, size=160, color=NEUTRAL, shape="circle").encode(
        x=x,
        tooltip=[alt.Tooltip("criterion:N"), alt.Tooltip("text:N", title="chooses")],
    )
    missing = [r for r in recs if r["k"] is None]
    layers = [band, dots]
    if missing:
        layers.append(
            _Chart(_values(missing))
            .mark_text(align="left", fontSize=12, color=NEUTRAL, fontStyle="italic")
            .encode(y=y, x=alt.XValue(4), text=alt.Text("text:N"))
        )
    return _layer(*layers).properties(
        width=WIDTH - 200,
        height=26 * len(recs),
        title=alt.Title(
            f"What each criterion chooses; shaded: the chosen K = {chosen}",
            subtitle=f"K = {min(ks)} to {max(ks)} tried; "
            f"{sum(1 for k in choices.values() if k == chosen)} of {len(choices)} "
            "criteria choose the chosen K",
        ),
    )


def _curve_panel(
    table: pd.DataFrame, col: str, x: alt.X, chosen: int, best: int | None
) -> alt.LayerChart:
    rows = table[["k", col]].dropna().rename(columns={col: "value"})
    recs = [{"k": int(r.k), "value": float(r.value)} for r in rows.itertuples()]
    title = _criterion_title(col)
    y_title = (
        "Within-segment sum of squares"
        if col == "inertia"
        else CRITERIA.get(col, ("", col.replace("_", " "), None))[1]
    )
    base = _Chart(_values(recs)).encode(
        x=x,
        y=alt.Y("value:Q", title=y_title, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("k:Q", title="K"), alt.Tooltip("value:Q", title=title, format=".4g")],
    )
    rule = (
        _Chart(_values([{"k": chosen}]))
        .mark_rule(color="black", strokeDash=[5, 4], strokeWidth=1.5)
        .encode(x=x)
    )
    layers = [rule, base.mark_line(color=NEUTRAL, strokeWidth=2)]
    layers.append(base.mark_point(color=NEUTRAL, filled=True, size=40))
    at_chosen = [r for r in recs if r["k"] == chosen]
    if at_chosen:
        layers.append(
            _Chart(_values(at_chosen))
            .mark_point(shape="circle", filled=True, size=110, color="black")
            .encode(x=x, y=alt.Y("value:Q"))
        )
    hit = [r for r in recs if r["k"] == best]
    if hit:
        layers.append(
            _Chart(_values(hit))
            .mark_point(shape="circle", size=380, filled=False, color=CHOICE_COLOR, strokeWidth=3)
            .encode(x=x, y=alt.Y("value:Q"))
        )
        subtitle = f"ringed: its choice, K = {best}"
    else:
        subtitle = "no choice within the K tried"
    return _layer(*layers).properties(
        width=_panel_width(2, 2), height=150, title=alt.Title(title, subtitle=subtitle)
    )


def k_selection(run: rd.RunData) -> ChartSpec | None:
    return _k_selection(run.summary, rd.k_table(run))


def k_selection_ahead(summary: dict[str, Any], extra_k: pd.DataFrame | None) -> ChartSpec | None:
    """The ``k_selection`` chart, configured, of a run whose summary will hold ``summary``'s
    ``k`` and ``k_selection`` and whose ``k_selection.csv`` is ``extra_k``.

    It needs no more of the run: it can be made as soon as K is chosen.
    """
    with alt.utils.schemapi.debug_mode(False):
        return _with_data(lambda: _k_selection(summary, rd.criteria_table(summary, extra_k)))


def _k_selection(summary: dict[str, Any], table: pd.DataFrame) -> ChartSpec | None:
    if table.empty or len(table) < 2:
        return None
    ksel = summary.get("k_selection", {})
    chosen = int(summary.get("k", ksel.get("chosen", 0)))
    ks = [int(k) for k in table["k"]]
    x = alt.X(
        "k:Q",
        title="Number of segments (K)",
        scale=alt.Scale(domain=[min(ks) - 0.5, max(ks) + 0.5], nice=False, zero=False),
        axis=alt.Axis(values=ks, format="d", grid=False, labelOverlap=False),
    )
    choices = _choices(table, ksel, _criterion_columns(table))
    curves = [_curve_panel(table, col, x, chosen, best) for col, best in choices.items()]
    chart = _vconcat(
        _votes_panel(choices, chosen, x, ks),
        _concat(*curves, columns=2, spacing=30),
        spacing=28,
    )
    return ChartSpec(
        "k_selection",
        "choosing-k",
        chart,
        "Top: the K each criterion chooses, beside the K chosen. Below: each criterion "
        "against K; the ringed point is its own choice, the black point and dashed line "
        "the K chosen.",
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


# -- 3. segment map --------------------------------------------------------------------
#: At most this many features in the scatter matrix (4 features make 6 panels).
MAX_PAIR_FEATURES = 4
#: A feature enters the scatter matrix when the segments explain at least this share
#: of its variance (η²); the two strongest always do.
MIN_PAIR_ETA2 = 0.1


def _point_style(n_points: int) -> tuple[int, float]:
    """Large, solid marks for a few hundred customers; smaller and lighter when dense."""
    if n_points <= 1000:
        return 70, 0.8
    if n_points <= 2500:
        return 40, 0.6
    return 22, 0.45


def _sample_note(drawn: int, total: int, seed: int) -> str:
    if drawn >= total:
        return f"All {total:,} customers drawn"
    return (
        f"Seeded sample: {drawn:,} of {total:,} customers drawn (seed {seed}; every segment kept)"
    )


_CENTRES_NOTE = "; the large marks with a number are the segment centres (their means)"


def _scatter_layers(
    run: rd.RunData,
    points: alt.Data,
    centres: alt.Data,
    x: alt.X,
    y: alt.Y,
    n_points: int,
    tooltips: tuple[list, list],
    legend: bool = True,
) -> alt.LayerChart:
    """Customers as marks coloured and shaped by segment; each centre large and numbered.

    ``tooltips`` holds the marks' tooltip, then the centres'.
    """
    size, opacity = _point_style(n_points)
    dots = (
        _Chart(points)
        .mark_point(filled=True, size=size, opacity=opacity)
        .encode(
            x=x,
            y=y,
            color=_segment_color(run, legend),
            shape=_segment_shape(run, legend),
            tooltip=tooltips[0],
        )
    )
    centre = _Chart(centres).encode(x=x, y=y)
    marks = centre.mark_point(
        filled=True, size=420, opacity=1, stroke="white", strokeWidth=2.5
    ).encode(
        color=_segment_color(run, legend),
        shape=_segment_shape(run, legend),
        tooltip=tooltips[1],
    )
    # The segment's number beside its centre, white-edged so it reads over any marks.
    halo = centre.mark_text(
        align="left", dx=13, dy=-9, fontSize=15, fontWeight="bold", stroke="white", strokeWidth=4
    ).encode(text=alt.Text("id:N"))
    number = centre.mark_text(
        align="left", dx=13, dy=-9, fontSize=15, fontWeight="bold", color="black"
    ).encode(text=alt.Text("id:N"))
    return _layer(dots, marks, halo, number)


def segment_map(run: rd.RunData, sample: np.ndarray) -> ChartSpec | None:
    # On two features the PCA map is the feature scatter turned: drawn from three on.
    if len(run.numeric) < 3:
        return None
    proj = rd.projection(run, sample)
    if proj is None:
        return None
    e1, e2 = proj.explained
    x = alt.X(
        "x:Q",
        title=f"Principal component 1 ({e1:.0%} of variance)",
        axis=alt.Axis(grid=False),
    )
    y = alt.Y(
        "y:Q",
        title=f"Principal component 2 ({e2:.0%} of variance)",
        axis=alt.Axis(grid=False),
    )
    chart = _scatter_layers(
        run,
        _values(proj.points),
        _values(proj.centres),
        x,
        y,
        n_points=proj.drawn,
        tooltips=(
            [alt.Tooltip("segment:N", title="segment")],
            [alt.Tooltip("segment:N", title="centre of")],
        ),
    ).properties(
        width=WIDTH - 80,
        height=380,
        title=alt.Title(
            "Segment map: the customers on their two main directions (PCA)",
            subtitle=[_sample_note(proj.drawn, proj.total, run.seed) + _CENTRES_NOTE],
        ),
    )
    return ChartSpec(
        "segment_map",
        "segment-map",
        chart,
        f"The two axes keep {e1 + e2:.0%} of the variation of the scaled features; "
        "segments that overlap here may still separate on other directions (see the "
        "pairs of features below).",
    )


def _pair_features(run: rd.RunData) -> list[tuple[str, float]]:
    """The features that separate the segments, strongest first (see MIN_PAIR_ETA2)."""
    ranked = rd.informative_features(run, MAX_PAIR_FEATURES)
    return [item for i, item in enumerate(ranked) if i < 2 or item[1] >= MIN_PAIR_ETA2]


def feature_scatter(run: rd.RunData, sample: np.ndarray) -> ChartSpec | None:
    best = _pair_features(run)
    if len(best) < 2:
        return None
    # The table's column order puts the first on x, as the classic income/spending plot.
    features = sorted((f for f, _ in best), key=run.numeric.index)
    pairs = list(itertools.combinations(features, 2))
    points = rd.feature_points(run, sample, features)
    means = rd.segment_means(run, features)
    columns = 1 if len(pairs) == 1 else 2
    width = WIDTH - 80 if columns == 1 else _panel_width(2, 2)
    height = 380 if columns == 1 else 230
    # Converted once: every panel draws the same customers and centres.
    drawn, centres = _values(points), _values(means)
    panels = []
    for fa, fb in pairs:
        ia, ib = features.index(fa), features.index(fb)
        tip = [
            alt.Tooltip("segment:N", title="segment"),
            alt.Tooltip(f"f{ia}:Q", title=fa),
            alt.Tooltip(f"f{ib}:Q", title=fb),
        ]
        x = alt.X(f"f{ia}:Q", title=fa, scale=alt.Scale(zero=False))
        y = alt.Y(f"f{ib}:Q", title=fb, scale=alt.Scale(zero=False))
        layers = _scatter_layers(run, drawn, centres, x, y, len(points), (tip, tip))
        panels.append(layers.properties(width=width, height=height))
    shares = ", ".join(f"{f} {e:.0%}" for f, e in sorted(best, key=lambda b: -b[1]))
    chart = _concat(*panels, columns=columns, spacing=24).properties(
        title=alt.Title(
            "Every segment on the features that separate them"
            if len(pairs) > 1
            else f"{features[1]} against {features[0]}",
            subtitle=[
                _sample_note(len(points), run.fitted_total, run.seed) + _CENTRES_NOTE,
                f"Share of each feature's variance the segments explain: {shares}",
            ],
        )
    )
    return ChartSpec(
        "feature_scatter",
        "segment-map",
        chart,
        "The customers on the original features that differ most between segments, in "
        "their own units"
        + (
            ", every pair of them: a segment hidden in one panel stands apart in another."
            if len(pairs) > 1
            else "."
        ),
    )


# -- 4. profiles -----------------------------------------------------------------------
def sizes(run: rd.RunData) -> ChartSpec:
    recs = [
        {"segment": s["label"], "size": s["size"], "text": f"{s['size']:,} ({s['share']:.1%})"}
        for s in run.segments
    ]
    base, bars = _segment_bars(
        run,
        recs,
        # Room on the right for the "54 (27.0%)" labels.
        alt.X(
            "size:Q",
            title="Customers",
            scale=alt.Scale(domain=[0, max(r["size"] for r in recs) * 1.2], nice=False),
        ),
        alt.Tooltip("size:Q"),
    )
    text = base.mark_text(align="left", dx=4, fontSize=12, color="#222").encode(
        text=alt.Text("text:N")
    )
    chart = _bars_layout(
        bars + text,
        len(recs),
        "Segment sizes",
        "Customers per segment and share of all segmented customers",
    )
    return ChartSpec(
        "segment_sizes", "profiles", chart, "Segments are numbered by size, largest first."
    )


def heatmap(run: rd.RunData) -> ChartSpec | None:
    recs: list[dict[str, Any]] = []
    for seg in run.summary["segments"]:
        label = run.label_of.get(int(seg["id"]))
        for f in run.numeric:
            z = (seg.get("z") or {}).get(f)
            mean = (seg.get("mean") or {}).get(f)
            if z is None or label is None:
                continue
            recs.append(
                {
                    "segment": label,
                    "feature": f,
                    "z": round(float(z), 3),
                    "mean": float(f"{mean:.4g}") if mean is not None else None,
                    "text": f"{z:+.1f}",
                }
            )
    if not recs:
        return None
    zmax = max(2.0, max(abs(r["z"]) for r in recs))
    base = _Chart(_values(recs)).encode(
        x=alt.X(
            "feature:N",
            sort=run.numeric,
            title=None,
            # Tilted: long feature names stay whole above narrow cells.
            axis=alt.Axis(orient="top", labelAngle=-25, labelAlign="left", labelLimit=200),
        ),
        y=alt.Y(
            "segment:N",
            sort=[s["label"] for s in run.segments],
            title=None,
            axis=alt.Axis(labelLimit=_LABEL_PX),
        ),
    )
    cells = _heat_cells(
        base,
        color=alt.Color(
            "z:Q",
            scale=alt.Scale(domain=[-zmax, zmax], scheme="blueorange"),
            legend=alt.Legend(
                title=["z-score", "(SD from average)"],
                gradientLength=max(60, 34 * len(run.segments) - 30),
            ),
        ),
        tooltip=[
            alt.Tooltip("segment:N"),
            alt.Tooltip("feature:N"),
            alt.Tooltip("mean:Q", title="segment mean"),
            alt.Tooltip("z:Q", title="z-score", format="+.2f"),
        ],
        text=alt.Text("text:N"),
        white_text_when=f"abs(datum.z) > {zmax * 0.6:.3f}",
        strokeWidth=2,
    )
    cell = int(min(130, max(60, (WIDTH - _LABEL_PX - 130) / max(len(run.numeric), 1))))
    chart = cells.properties(
        width=cell * len(run.numeric),
        height=34 * len(run.segments),
        title=alt.Title(
            "How each segment differs from the average",
            subtitle="Segment mean minus the overall mean, in standard deviations; "
            "orange = above, blue = below",
        ),
    )
    return ChartSpec(
        "profile_heatmap", "profiles", chart, "Read across a row to see what sets a segment apart."
    )


def boxplots(run: rd.RunData) -> ChartSpec | None:
    stats = rd.box_stats(run)
    if stats.empty:
        return None
    outliers = rd.box_outliers(run)
    order = [s["label"] for s in run.segments]
    # Segments down the side, named in full; one panel per feature, one under another.
    y = alt.Y("segment:N", sort=order, title=None, axis=alt.Axis(labelLimit=_LABEL_PX))
    means = {f: float(np.nanmean(run.X[run.fitted, j])) for j, f in enumerate(run.numeric)}
    panels = []
    for f in run.numeric:
        part = stats[stats["feature"] == f]
        if part.empty:
            continue
        base = _Chart(_values(part.drop(columns="feature"))).encode(y=y)
        tooltip = [
            alt.Tooltip("segment:N"),
            alt.Tooltip("median:Q"),
            alt.Tooltip("q1:Q", title="lower quartile"),
            alt.Tooltip("q3:Q", title="upper quartile"),
            alt.Tooltip("mean:Q"),
            alt.Tooltip("n:Q", title="customers"),
        ]
        x = alt.X("lower:Q", title=f, scale=alt.Scale(zero=False))
        whisker = base.mark_rule(color=NEUTRAL).encode(x=x, x2=alt.X2("upper:Q"))
        box = base.mark_bar(size=16, stroke=NEUTRAL, strokeWidth=0.8).encode(
            x=alt.X("q1:Q"),
            x2=alt.X2("q3:Q"),
            color=_segment_color(run, legend=False),
            tooltip=tooltip,
        )
        # White with a dark edge: visible on every segment colour, black included.
        median = base.mark_tick(
            color="white", size=16, thickness=3, stroke="#1f1f1f", strokeWidth=0.8
        ).encode(x=alt.X("median:Q"))
        avg = (
            _Chart(_values([{"v": round(means[f], 4)}]))
            .mark_rule(color=NEUTRAL, strokeDash=[4, 3])
            .encode(x=alt.X("v:Q"))
        )
        layers = [avg, whisker, box, median]
        out = outliers[outliers["feature"] == f]
        if not out.empty:
            layers.append(
                _Chart(_values(out.drop(columns="feature")))
                .mark_point(filled=False, size=45, strokeWidth=1.5)
                .encode(
                    y=y,
                    x=alt.X("value:Q"),
                    color=_segment_color(run, legend=False),
                    tooltip=[alt.Tooltip("segment:N"), alt.Tooltip("value:Q", title=f)],
                )
            )
        panels.append(
            _layer(*layers).properties(width=WIDTH - _LABEL_PX - 40, height=24 * len(order))
        )
    chart = _vconcat(*panels, spacing=18).properties(
        title=alt.Title(
            "Spread of each feature by segment",
            subtitle=[
                "Box: middle half of the customers; white line: median; whiskers: up to "
                "1.5 × the box width;",
                "circles: outliers beyond the whiskers; dashed line: overall mean"
                + ("" if not run.sampled else f"; {rd.sample_note(run)}"),
            ],
        )
    )
    return ChartSpec(
        "profile_boxplots",
        "profiles",
        chart,
        "Overlapping boxes mean the feature alone does not tell the segments apart.",
    )


def categories(run: rd.RunData) -> ChartSpec | None:
    shares = rd.category_shares(run)
    if shares.empty:
        return None
    order = ["All customers"] + [s["label"] for s in run.segments]
    scale = alt.Scale(
        domain=order, range=["#777777", *segment_colors([s["id"] for s in run.segments])]
    )
    panels = []
    for col, part in shares.groupby("column", sort=False):
        n_cat = part["category"].nunique()
        used = bool(part["used"].iloc[0])
        bars = (
            _Chart(_values(part.drop(columns="used")))
            .mark_bar()
            .encode(
                y=alt.Y(
                    "category:N",
                    title=None,
                    sort=list(dict.fromkeys(part["category"])),
                    axis=alt.Axis(labelLimit=160),
                ),
                yOffset=alt.YOffset("segment:N", sort=order),
                x=alt.X(
                    "share:Q",
                    title="Share of the segment's customers",
                    axis=alt.Axis(format="%"),
                    scale=alt.Scale(domain=[0, 1]),
                ),
                color=alt.Color(
                    "segment:N",
                    scale=scale,
                    sort=order,
                    legend=_segment_legend(),
                ),
                tooltip=[
                    alt.Tooltip("segment:N"),
                    alt.Tooltip("category:N"),
                    alt.Tooltip("share:Q", format=".1%"),
                ],
            )
        )
        panels.append(
            bars.properties(
                width=WIDTH - 220,
                height=max(60, 11 * len(order) * n_cat),
                title=alt.Title(
                    f"{col}",
                    subtitle="used as a feature"
                    if used
                    else "not used as a feature; shown for context",
                ),
            )
        )
    chart = _vconcat(*panels, spacing=24).properties(
        title=alt.Title(
            "Category shares by segment",
            subtitle="Grey bar: all customers; categories with fewer than "
            f"{rd.MIN_CATEGORY_COUNT} customers are grouped as Other",
        )
    )
    return ChartSpec(
        "category_shares",
        "profiles",
        chart,
        "Compare each segment's bar with the grey bar of all customers.",
    )


# -- 6. quality ------------------------------------------------------------------------
def stability(run: rd.RunData, values: dict[int, float]) -> ChartSpec | None:
    if not values:
        return None
    recs = _per_segment(run, values, "jaccard", 3)
    base, bars = _segment_bars(
        run,
        recs,
        alt.X(
            "jaccard:Q",
            title="Mean best-match Jaccard over resamples (0 to 1)",
            # Room right of a full bar for its value.
            scale=alt.Scale(domain=[0, 1.15], nice=False),
            axis=alt.Axis(values=[0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        ),
        alt.Tooltip("jaccard:Q", format=".2f"),
    )
    text = _value_text(base, "jaccard:Q", ".2f")
    lines = _Chart(
        _values(
            [
                {"x": WEAK_JACCARD, "t": f"{WEAK_JACCARD:.2f} weak"},
                {"x": STABLE_JACCARD, "t": f"{STABLE_JACCARD:.2f} stable"},
            ]
        )
    )
    rules = lines.mark_rule(color=NEUTRAL, strokeDash=[4, 3]).encode(x=alt.X("x:Q"))
    labels = lines.mark_text(
        align="left", dx=3, dy=-4, baseline="bottom", fontSize=10, color=NEUTRAL
    ).encode(x=alt.X("x:Q"), y=alt.YValue(0), text=alt.Text("t:N"))
    chart = _bars_layout(
        rules + bars + text + labels,
        len(recs),
        "Stability of each segment",
        f"≥ {STABLE_JACCARD:.2f} stable, {WEAK_JACCARD:.2f}–{STABLE_JACCARD:.2f} weak, "
        f"< {WEAK_JACCARD:.2f} unstable (Hennig's clusterboot)",
    )
    return ChartSpec(
        "quality_stability",
        "quality",
        chart,
        "How often a segment comes back when the customers are resampled.",
    )


def borderline(run: rd.RunData, values: dict[int, float]) -> ChartSpec | None:
    if not values:
        return None
    recs = _per_segment(run, values, "share", 4)
    base, bars = _segment_bars(
        run,
        recs,
        alt.X(
            "share:Q",
            title="Borderline customers (share of the segment)",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, max(0.25, max(r["share"] for r in recs) * 1.2)], nice=False),
        ),
        alt.Tooltip("share:Q", format=".1%"),
    )
    text = _value_text(base, "share:Q", ".0%")
    chart = _bars_layout(
        bars + text,
        len(recs),
        "Borderline customers per segment",
        "Customers almost as close to another segment's centre",
    )
    return ChartSpec(
        "quality_borderline", "quality", chart, "A high share means the segment's edge is soft."
    )


CHART_BUILDERS: dict[str, Callable[..., ChartSpec | None]] = {
    "data_distributions": distributions,
    "data_correlation": correlation,
    "k_selection": k_selection,
    "segment_map": segment_map,
    "feature_scatter": feature_scatter,
    "segment_sizes": sizes,
    "profile_heatmap": heatmap,
    "profile_boxplots": boxplots,
    "category_shares": categories,
    "quality_stability": stability,
    "quality_borderline": borderline,
}


def build_charts(
    run: rd.RunData,
    stability_values: dict[int, float],
    borderline_values: dict[int, float],
    on_chart: Callable[[ChartSpec], None] | None = None,
) -> list[ChartSpec]:
    """Every chart the run supports, configured, in report order.

    ``on_chart`` is called with each chart as soon as it is made (the report starts
    rendering it while the next is built).
    """
    sample = rd.point_sample(run)
    # Altair checks each part of a chart against the schema as it is made, which costs
    # more than making it; the specs are checked whole by the tests instead.
    with alt.utils.schemapi.debug_mode(False):
        return _build_all(run, sample, stability_values, borderline_values, on_chart)


#: Charts made (and handed to ``on_chart``) before the others: the scatter plots, whose
#: thousands of points take longest to draw, so that their drawing starts first and the
#: others are drawn beside it. The report still shows every chart in its own order.
MADE_FIRST = ("feature_scatter", "segment_map")


def _build_all(
    run: rd.RunData,
    sample: np.ndarray,
    stability_values: dict[int, float],
    borderline_values: dict[int, float],
    on_chart: Callable[[ChartSpec], None] | None,
) -> list[ChartSpec]:
    extra_args: dict[str, tuple[Any, ...]] = {
        "segment_map": (sample,),
        "feature_scatter": (sample,),
        "quality_stability": (stability_values,),
        "quality_borderline": (borderline_values,),
    }
    made: dict[str, ChartSpec] = {}
    for name in (*MADE_FIRST, *(name for name in CHART_BUILDERS if name not in MADE_FIRST)):
        chart = _with_data(functools.partial(CHART_BUILDERS[name], run, *extra_args.get(name, ())))
        if chart is not None:
            made[name] = chart
            if on_chart is not None:
                on_chart(chart)
    return [made[name] for name in CHART_BUILDERS if name in made]


def _with_data(call: Callable[[], ChartSpec | None]) -> ChartSpec | None:
    """The chart ``call`` makes, with the datasets it names."""
    store: dict[str, list[dict]] = {}
    token = _DATASETS.set(store)
    try:
        chart = call()
    finally:
        _DATASETS.reset(token)
    if chart is None:
        return None
    return ChartSpec(chart.name, chart.section, chart.chart, chart.caption, store)
