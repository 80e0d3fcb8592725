"""The dashboard's page: Streamlit widgets laid out around library calls.

Each step calls the library — :func:`custseg.io.read_table` (through
:func:`custseg.io.readers.read_text_bytes`), :func:`custseg.detect_roles`,
:func:`custseg.segment`, :class:`custseg.serving.SegmentMap`,
:func:`custseg.serving.score_records`, and :mod:`custseg.report` when it is
installed — and this module only arranges widgets and charts around them.
Library errors are shown with ``st.error`` and the page stops there.
"""

from __future__ import annotations

import inspect
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from custseg.datasets import make_customers
from custseg.engines import available_engines
from custseg.errors import CustsegError
from custseg.explain import explain_customers
from custseg.features.facts import numeric_facts
from custseg.features.kinds import column_kinds
from custseg.features.roles import detect_roles
from custseg.io.readers import read_text_bytes
from custseg.segmentation.result import SegmentationResult
from custseg.segmentation.segmenter import Segmenter
from custseg.serving import SegmentMap, score_records
from custseg.verdicts import STRUCTURE_HEADLINES, silhouette_verdict, structure_words

__all__ = [
    "MAX_MAP_POINTS",
    "Run",
    "downloads",
    "main",
    "map_frame",
    "run_segmentation",
]

#: The segment map draws at most this many customers (a seeded sample), so a large
#: upload stays responsive in the browser.
MAX_MAP_POINTS = 3000
SAMPLE_SEED = 0
UPLOAD_TYPES = ["csv", "gz", "tsv", "txt", "parquet", "pq", "xlsx"]
_PHASE_WEIGHTS = {"reading": (0.0, 0.1), "choosing K": (0.1, 0.6), "fitting": (0.6, 0.85),
                  "labelling": (0.85, 0.95), "writing": (0.95, 1.0)}  # fmt: skip


@dataclass
class Run:
    """A finished segmentation and what the page derives from it."""

    result: SegmentationResult
    seg_map: SegmentMap
    files: dict[str, bytes] = field(default_factory=dict)
    report_charts: list[dict[str, Any]] = field(default_factory=list)
    personas: list[dict[str, Any]] = field(default_factory=list)
    report_note: str = ""


# -- data ---------------------------------------------------------------------------
@st.cache_data(show_spinner=False, max_entries=4)
def _read_upload(data: bytes, name: str) -> pd.DataFrame:
    return read_text_bytes(data, name)


@st.cache_data(show_spinner=False, max_entries=4)
def _sample(rows: int) -> pd.DataFrame:
    # As text, exactly as `custseg demo` writes it and read_table reads it back.
    return make_customers(rows, random_state=SAMPLE_SEED).astype(str)


def _roles_table(frame: pd.DataFrame) -> pd.DataFrame:
    schema = detect_roles(frame)
    return pd.DataFrame(
        [{"column": c.name, "role": c.role, "note": c.reason} for c in schema.columns]
    )


# -- the library calls -----------------------------------------------------------------
def run_segmentation(
    frame: pd.DataFrame,
    options: dict[str, Any],
    progress: Callable[[str, int, int | None], None] | None = None,
) -> Run:
    """Segment ``frame`` and prepare the downloads and the report's charts.

    Parameters
    ----------
    frame : DataFrame
        The table as read (text columns).
    options : dict
        Keyword arguments of :class:`custseg.Segmenter`.
    progress : callable, optional
        ``progress(phase, done, total)``; passed on when the library supports it.

    Returns
    -------
    Run
    """
    options = dict(options)
    if progress is not None and "progress" in inspect.signature(Segmenter).parameters:
        options["progress"] = progress
    result = Segmenter(**options).fit(frame).result_
    seg_map = SegmentMap(result.model).fit(_features(result))
    run = Run(result=result, seg_map=seg_map)
    _add_files_and_charts(run)
    return run


def _add_files_and_charts(run: Run) -> None:
    """Write the run as `custseg segment` would, read the files back for download, and
    take the report's charts and personas when :mod:`custseg.report` is installed."""
    result = run.result
    files: dict[str, bytes] = {}
    note = ""
    with tempfile.TemporaryDirectory(prefix="custseg-dashboard-") as tmp:
        paths = result.save(tmp)
        try:
            from custseg.report import INSTALL_HINT, report_available, report_from_result
        except ImportError:  # a custseg without the report module
            report_available, INSTALL_HINT = (lambda: False), "a newer custseg"
        if report_available():
            try:
                built = report_from_result(result, tmp, png=False)
                paths["report"] = built.html
                run.report_charts, run.personas = _from_report(result)
            except CustsegError as exc:
                note = f"The report could not be built: {exc}"
        else:
            note = f"Install the report extra for report.html and more charts: {INSTALL_HINT}"
        for path in map(Path, paths.values()):
            if path.is_file():
                # Downloads are byte-for-byte the files the library wrote.
                files[path.name] = path.read_bytes()
    run.files, run.report_note = files, note
    if not run.personas:
        run.personas = _plain_personas(result)


def _from_report(
    result: SegmentationResult,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The report's charts (name, caption, Vega-Lite spec) and personas of a run."""
    try:
        from custseg.report import data as report_data
        from custseg.report.build import borderline_shares, stability_scores
        from custseg.report.charts import build_charts
        from custseg.report.personas import make_personas
    except ImportError:  # an older report module: fall back to the page's own views
        return [], []
    run = report_data.run_from_result(result)
    stability, _ = stability_scores(run.summary)
    specs = build_charts(run, stability, borderline_shares(run))
    charts = [{"name": s.name, "caption": s.caption, "spec": s.to_dict()} for s in specs]
    stats = {f["name"]: f for f in run.model.features}
    personas = [
        {
            "id": p.id,
            "label": p.label,
            "size": p.size,
            "share": p.share,
            "lines": list(p.distinctions),
            "action": f"**{p.action_title}**: {p.action}",
        }
        for p in make_personas(run.summary, stats, report_data.category_shares(run))
    ]
    return charts, personas


def _plain_personas(result: SegmentationResult) -> list[dict[str, Any]]:
    """Personas without the report: the facts that most set a segment apart, no action."""
    records = result.model.features
    roles = {c["name"]: c["role"] for c in result.summary["columns"]}
    kinds = column_kinds(records, roles)
    overall = {f["name"]: f["mean"] for f in records}
    return [
        {
            "id": int(seg["id"]),
            "label": f"{seg['id']} · {seg['name']}",
            "size": seg["size"],
            "share": seg["share"],
            "lines": [f.text for f in numeric_facts(seg, kinds, overall, size=seg["size"])[:3]],
            "action": "",
        }
        for seg in result.summary["segments"]
    ]


def downloads(run: Run) -> dict[str, bytes]:
    """File name → content of every download the page offers."""
    return dict(run.files)


def _segment_labels(result: SegmentationResult) -> dict[int, str]:
    return {int(s["id"]): f"{int(s['id'])} · {s['name']}" for s in result.model.segments}


def map_frame(run: Run, max_points: int = MAX_MAP_POINTS) -> tuple[pd.DataFrame, int]:
    """Map coordinates of the fitted customers (a seeded sample of at most ``max_points``).

    Returns
    -------
    points : DataFrame
        ``x``, ``y``, ``segment`` (label) per drawn customer.
    total : int
        Customers available before sampling.
    """
    result = run.result
    labels = result.table["segment"].to_numpy(dtype="float64", na_value=np.nan)
    fitted = ~np.isnan(labels)
    rows = np.flatnonzero(fitted)
    X = _features(result)
    seg = labels[fitted].astype(int)
    total = len(rows)
    idx = np.arange(total)
    if total > max_points:
        idx = np.sort(np.random.default_rng(SAMPLE_SEED).choice(total, max_points, replace=False))
    coords = run.seg_map.transform(X[idx])
    names = _segment_labels(result)
    points = pd.DataFrame(
        {
            "x": coords[:, 0],
            "y": coords[:, 1],
            "segment": [names.get(int(s), "Unassigned") for s in seg[idx]],
        }
    )
    return points, total


# -- charts ------------------------------------------------------------------------
def _features(result: SegmentationResult) -> np.ndarray:
    """The fitted rows' features, which a result fitted in this process holds."""
    if result.X is None:
        raise CustsegError("the segmentation result holds no feature matrix to draw the map")
    return result.X


def _color(result: SegmentationResult) -> alt.Color:
    labels = list(_segment_labels(result).values())
    try:
        from custseg.report.palette import segment_colors

        colors = segment_colors([int(s["id"]) for s in result.model.segments])
        scale = alt.Scale(domain=labels, range=colors)
    except ImportError:
        scale = alt.Scale(domain=labels)
    return alt.Color("segment:N", scale=scale, title="segment", legend=alt.Legend(labelLimit=280))


def _map_chart(run: Run, new_point: dict[str, Any] | None) -> alt.LayerChart | alt.FacetChart:
    points, total = map_frame(run)
    ex1, ex2 = run.seg_map.explained_
    x = alt.X("x:Q", title=f"Map axis 1 ({ex1:.0%} of variance)")
    y = alt.Y("y:Q", title=f"Map axis 2 ({ex2:.0%} of variance)")
    color = _color(run.result)
    layers = [
        alt.Chart(points)
        .mark_circle(size=30, opacity=0.6)
        .encode(x=x, y=y, color=color, tooltip=["segment:N"])
    ]
    centres = run.seg_map.centers()
    names = _segment_labels(run.result)
    ids = [int(i) for i in run.result.model.center_ids]
    centre_frame = pd.DataFrame(
        {"x": centres[:, 0], "y": centres[:, 1], "segment": [names.get(i, str(i)) for i in ids]}
    )
    layers.append(
        alt.Chart(centre_frame)
        .mark_point(shape="diamond", size=260, filled=True, stroke="black", strokeWidth=1)
        .encode(x=x, y=y, color=color, tooltip=["segment:N"])
    )
    if new_point is not None:
        marker = pd.DataFrame([new_point])
        layers.append(
            alt.Chart(marker)
            .mark_point(shape="cross", size=500, filled=True, color="black")
            .encode(x=x, y=y, tooltip=["label:N"])
        )
        layers.append(
            alt.Chart(marker)
            .mark_text(align="left", dx=14, fontWeight="bold")
            .encode(x=x, y=y, text="label:N")
        )
    shown = len(points)
    note = f"{shown:,} of {total:,} customers drawn (seeded sample); " if shown < total else ""
    scored = "; ✚ marks the scored customer" if new_point is not None else ""
    title = alt.Title(
        f"{note}diamonds mark the segment centres{scored}",
        fontSize=11,
        fontWeight="normal",
        anchor="start",
    )
    return alt.layer(*layers).properties(height=430, title=title)


def _k_chart(result: SegmentationResult) -> alt.VConcatChart | None:
    """Fallback K chart (inertia and silhouette per K) when custseg.report is absent."""
    table = result.k_selection
    if table is None or not len(table) or "k" not in table:
        return None
    chosen = int(result.summary["k"])
    rule = (
        alt.Chart(pd.DataFrame({"k": [chosen]}))
        .mark_rule(strokeDash=[4, 4], color="black")
        .encode(x="k:O")
    )
    panels = []
    for col in ("inertia", "silhouette"):
        if col in table:
            part = table[["k", col]].dropna()
            line = (
                alt.Chart(part)
                .mark_line(point=True)
                .encode(x=alt.X("k:O", title="K (number of segments)"), y=alt.Y(f"{col}:Q"))
            )
            panels.append(alt.layer(line, rule).properties(height=150))
    if not panels:
        return None
    return alt.vconcat(*panels).properties(title=f"Choosing K: K = {chosen} (dashed)")


def _report_chart(chart: dict[str, Any]) -> None:
    """A report chart exactly as the report draws it.

    Streamlit's theme and container width would restyle and stretch the chart,
    dropping axis labels and moving value labels; the report's spec already fits
    the page, so it is drawn as is.
    """
    with st.container(key=f"chart_{chart['name']}"):
        # Sized by its own content, as in the report (Streamlit would fit it to a width).
        spec = {**chart["spec"], "autosize": {"type": "pad"}}
        st.vega_lite_chart(spec, theme=None, width="content")
        st.caption(chart["caption"])


# -- page sections ------------------------------------------------------------------
def _load_data() -> pd.DataFrame | None:
    st.sidebar.header("1 · Data")
    source = st.sidebar.radio(
        "Customers", ["Bundled sample", "Upload a file"], key="source", horizontal=True
    )
    if source == "Bundled sample":
        rows = st.sidebar.number_input(
            "Sample rows", min_value=20, max_value=100_000, value=200, step=100, key="rows"
        )
        st.session_state["data_key"] = ("sample", int(rows))
        return _sample(int(rows))
    upload = st.sidebar.file_uploader(
        "CSV, gzipped CSV, Parquet or Excel", type=UPLOAD_TYPES, key="upload"
    )
    if upload is None:
        st.info("Upload a customer table in the sidebar, or use the bundled sample.")
        return None
    size_mb = upload.size / 1e6
    with st.status(f"Reading {upload.name} ({size_mb:.1f} MB)…", expanded=False) as status:
        frame = _read_upload(upload.getvalue(), upload.name)
        status.update(label=f"Read {upload.name}: {len(frame):,} rows", state="complete")
    st.session_state["data_key"] = ("upload", upload.name, upload.size)
    return frame


def _options_form(frame: pd.DataFrame, roles: pd.DataFrame) -> dict[str, Any] | None:
    numeric = roles.loc[roles["role"] == "numeric", "column"].tolist()
    choices = roles.loc[~roles["role"].isin(["id", "empty"]), "column"].tolist()
    engines = available_engines()
    with st.sidebar.form("options"):
        st.header("2 · Options")
        features = st.multiselect("Features", choices, default=numeric, key="features")
        algorithm = st.selectbox(
            "Algorithm", engines, index=engines.index("kmeans") if "kmeans" in engines else 0,
            key="algorithm",
        )  # fmt: skip
        mode = st.radio("K", ["Automatic", "Fixed"], horizontal=True, key="k_mode")
        k = st.number_input("K when fixed", min_value=1, max_value=50, value=5, key="k")
        k_range = st.slider("K range when automatic", 2, 20, (2, 10), key="k_range")
        seed = st.number_input("Seed", min_value=0, value=42, step=1, key="seed")
        submitted = st.form_submit_button("Segment", type="primary")
    if not submitted:
        return None
    options: dict[str, Any] = {
        "features": list(features) or None,
        "algorithm": algorithm,
        "random_state": int(seed),
    }
    if mode == "Fixed":
        options["k"] = int(k)
    else:
        options["k_min"], options["k_max"] = (int(v) for v in k_range)
    return options


def _progress_bar() -> tuple[Any, Callable[[str, int, int | None], None]]:
    bar = st.progress(0.0, text="Segmenting…")

    def update(phase: str, done: int, total: int | None) -> None:
        lo, hi = _PHASE_WEIGHTS.get(phase, (0.0, 1.0))
        share = (done / total) if total else 0.0
        bar.progress(min(lo + (hi - lo) * share, 1.0), text=f"{phase}: {done:,} rows")

    return bar, update


def _score_form(run: Run) -> dict[str, Any] | None:
    """A form for one new customer; returns the map marker of the scored customer."""
    model = run.result.model
    st.subheader("Score a new customer")
    st.caption("Starts at the training medians; the result is marked on the map.")
    with st.form("score_one"):
        values = []
        for j, feature in enumerate(model.features):
            median = float(feature["quantiles"][len(feature["quantiles"]) // 2])
            values.append(
                st.number_input(feature["name"], value=median, format="%g", key=f"score_{j}")
            )
        submitted = st.form_submit_button("Score")
    if not submitted and "scored" not in st.session_state:
        return None
    if submitted:
        X = np.array([values], dtype="float64")
        record = score_records(model, X)[0]
        xy = run.seg_map.transform(X)[0]
        st.session_state["scored"] = {
            "record": record,
            "x": float(xy[0]),
            "y": float(xy[1]),
            "why": _why(model, X, record),
        }
    scored = st.session_state["scored"]
    record = scored["record"]
    if record["segment"] is None:
        st.warning(f"Not scored: {record['reason']}")
        return None
    _scored_customer(run, record)
    if scored.get("why"):
        st.markdown("**Why this segment:** " + scored["why"])
    return {"x": scored["x"], "y": scored["y"], "label": "new customer"}


def _why(model: Any, X: np.ndarray, record: dict[str, Any]) -> str | None:
    """The features that put the customer nearer this centre than the next one."""
    if record["segment"] is None:
        return None
    explained = explain_customers(model, X, np.array([record["segment"]], dtype="float64"))[0]
    return None if explained is None else str(explained["sentence"])


def distance_context(run: Run, segment: int, distance: float) -> str:
    """How far a customer is from its segment's centre, against the segment's members.

    Compares ``distance`` (scaled units) with the training members' distances to
    the same centre: their middle half, and the share of members at least as close.
    """
    labels = run.result.table["segment"].to_numpy(dtype="float64", na_value=np.nan)
    distances = run.result.table["distance_to_center"].to_numpy(dtype="float64")
    members = distances[(labels == segment) & np.isfinite(distances)]
    if not len(members):
        return f"Distance to the segment's centre: {distance:.2f} (scaled units)."
    q1, q3 = np.quantile(members, [0.25, 0.75])
    closer = float(np.mean(members <= distance))
    if closer >= 0.95:
        verdict = "further out than almost every member: a weak fit"
    elif closer > 0.75:
        verdict = "further out than most members"
    else:
        verdict = "as close as a typical member"
    return (
        f"Distance to the segment's centre {distance:.2f}; typical members are "
        f"{q1:.2f}–{q3:.2f} (middle half), and {closer:.0%} of members are at least as "
        f"close: {verdict}."
    )


def _scored_customer(run: Run, record: dict[str, Any]) -> None:
    """The scored customer's segment, its suggested action and how well it fits."""
    headline = f"Segment {record['segment']} · {record['segment_name']}. Marked ✚ on the map."
    if record["warnings"]:
        # Outside the training range the model extrapolates: not a success to show in green.
        st.warning(
            headline + " This customer lies outside the range the model was trained on, so the "
            "segment is a guess: " + " ".join(w["message"] for w in record["warnings"])
        )
    else:
        st.success(headline)
    st.caption(distance_context(run, int(record["segment"]), record["distance_to_center"]))
    persona = next((p for p in run.personas if p.get("id") == record["segment"]), None)
    if persona is not None and persona["action"]:
        st.markdown("Suggested action — " + persona["action"])
    if record["probabilities"]:
        st.caption(
            "Probabilities: "
            + ", ".join(
                f"{k}: {v:.2f}" for k, v in record["probabilities"].items() if v is not None
            )
        )


def _personas(run: Run) -> None:
    st.subheader("Personas")
    cols = st.columns(min(len(run.personas), 3) or 1)
    for i, persona in enumerate(run.personas):
        with cols[i % len(cols)].container(border=True):
            st.markdown(f"**{persona['label']}**")
            st.caption(f"{persona['size']:,} customers ({persona['share']:.0%})")
            lines = persona["lines"] or ["close to the average on every feature"]
            st.markdown("\n".join(f"- {line}" for line in lines))
            if persona["action"]:
                st.markdown(persona["action"])


def _profiles_table(result: SegmentationResult) -> pd.DataFrame:
    profiles = result.profiles.copy()
    profiles.index.name = "segment"
    keep = ["name", "size", "share"] + [c for c in profiles.columns if c.startswith("mean:")]
    table = profiles[keep].rename(columns=lambda c: c.replace("mean:", "mean "))
    return table.reset_index()


def _results(run: Run) -> None:
    result = run.result
    summary = result.summary
    metrics = summary.get("metrics") or {}
    c1, c2, c3 = st.columns(3)
    c1.metric("Segments (K)", summary["k"])
    c2.metric("Customers", f"{summary['input']['rows']:,}")
    sil = metrics.get("silhouette")
    c3.metric(
        "Silhouette",
        "–" if sil is None else f"{sil:.3f}",
        help=None if sil is None else structure_words(silhouette_verdict(sil)),
    )
    st.caption(f"Why K = {summary['k']}: {summary['k_selection']['reason']}.")
    structure = summary["k_selection"].get("structure")
    if structure in STRUCTURE_HEADLINES:
        st.caption(STRUCTURE_HEADLINES[structure])

    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("Segment map")
        # Filled after the scoring form, so the map can show the customer just scored.
        map_slot = st.container(key="segment_map").empty()
    with right:
        marker = _score_form(run)
    map_slot.altair_chart(_map_chart(run, marker), width="stretch")

    st.subheader("Choosing K")
    k_spec = next((c for c in run.report_charts if c["name"] == "k_selection"), None)
    k_chart = _k_chart(result)
    if k_spec is not None:
        _report_chart(k_spec)
    elif k_chart is not None:
        st.altair_chart(k_chart)
    else:
        st.info(
            f"K = {summary['k']} was fixed in the options, so no range of K was tried and "
            "there is no K chart. Choose **Automatic** to see how each criterion rates "
            "every K."
        )

    st.subheader("Profiles")
    profiles = _profiles_table(result)
    config = {"share": st.column_config.NumberColumn(format="percent")}
    config.update(
        {c: st.column_config.NumberColumn(format="%.1f") for c in profiles if c.startswith("mean")}
    )
    st.dataframe(profiles, hide_index=True, key="profiles", column_config=config)
    _personas(run)

    st.subheader("Downloads")
    files = downloads(run)
    mimes = {".csv": "text/csv", ".json": "application/json", ".html": "text/html"}
    cols = st.columns(max(len(files), 1))
    for col, (name, data) in zip(cols, files.items(), strict=False):
        mime = mimes.get(Path(name).suffix, "application/octet-stream")
        col.download_button(
            name, data, file_name=name, mime=mime, key=f"download_{name}", on_click="ignore"
        )
    if run.report_note:
        st.caption(run.report_note)
    others = [c for c in run.report_charts if c["name"] not in ("k_selection", "segment_map")]
    if others:
        with st.expander("More charts from the report"):
            for chart in others:
                _report_chart(chart)
    for warning in result.warnings:
        st.warning(warning)


def main() -> None:
    """Draw the page."""
    st.set_page_config(page_title="custseg · customer segments", layout="wide")
    st.title("Customer segments")
    st.caption(
        "Upload a customer table or use the bundled sample, choose features and K, and get "
        "named segments, their profiles and a model that scores new customers."
    )
    try:
        frame = _load_data()
    except CustsegError as exc:
        st.error(str(exc))
        return
    if frame is None:
        return
    if st.session_state.get("run_data_key") != st.session_state.get("data_key"):
        # New data: the previous segments no longer apply.
        for key in ("run", "scored", "error"):
            st.session_state.pop(key, None)
    try:
        roles = _roles_table(frame)
    except CustsegError as exc:
        st.error(str(exc))
        return
    with st.expander(f"Columns and their roles ({len(frame):,} rows)", expanded=False):
        st.dataframe(roles, hide_index=True)
        st.dataframe(frame.head(20), hide_index=True)

    options = _options_form(frame, roles)
    if options is not None:
        bar, update = _progress_bar()
        try:
            st.session_state["run"] = run_segmentation(frame, options, update)
            st.session_state["run_data_key"] = st.session_state.get("data_key")
            st.session_state.pop("scored", None)
            st.session_state.pop("error", None)
        except CustsegError as exc:
            st.session_state.pop("run", None)
            st.session_state["error"] = str(exc)
            st.session_state["run_data_key"] = st.session_state.get("data_key")
        bar.empty()
    if "error" in st.session_state:
        st.error(st.session_state["error"])
        return
    run = st.session_state.get("run")
    if run is None:
        st.info("Choose the options in the sidebar and press **Segment**.")
        return
    _results(run)
