"""Terminal output of a segmentation: roles, the K table, one line per segment."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import JustifyMethod
from rich.table import Table

import custseg
from custseg.cli._common import console
from custseg.verdicts import (
    STABILITY_MARKS,
    STABLE_JACCARD,
    WEAK_JACCARD,
    silhouette_verdict,
    structure_words,
)

if TYPE_CHECKING:
    import pandas as pd

    from custseg.model import SegmentModel

__all__ = ["print_outliers", "print_result", "print_roles", "segment_highlights"]

#: The segment table's columns: (heading, justify).
_SEGMENT_COLUMNS: tuple[tuple[str, JustifyMethod], ...] = (
    ("id", "right"),
    ("name", "left"),
    ("size", "right"),
    ("share", "right"),
    ("what sets it apart", "left"),
    ("stability", "right"),
    ("borderline", "right"),
)


class PrintedResult(Protocol):
    """What the terminal shows of a run, whichever engine (local, chunked, Spark) made it."""

    summary: dict[str, Any]
    model: SegmentModel
    k_selection: pd.DataFrame


def print_roles(result: PrintedResult) -> None:
    summary = result.summary
    # A categorical, code or flag feature is used through its indicators ("Region=3").
    used = {f.get("source", f["name"]) for f in result.model.features}
    table = Table(title="Columns", title_justify="left", box=None, pad_edge=False)
    for col in ("column", "role", "used", "note"):
        table.add_column(col)
    skipped = {s["column"]: s["reason"] for s in summary["skipped"]}
    logged = {
        d["feature"]: d["reason"]
        for d in (summary.get("transform") or {}).get("columns", [])
        if d["transform"] == "log"
    }
    for info in summary["columns"]:
        name = info["name"]
        used_cell, note = ("feature", "") if name in used else ("-", skipped.get(name, ""))
        if name in logged:
            used_cell, note = "feature, log", f"log scale: {logged[name]}"
        table.add_row(name, info["role"], used_cell, note)
    console.print(table)


def print_outliers(summary: dict) -> None:
    """How many customers are outliers, and whether K had to be lowered for small segments."""
    block = summary.get("outliers") or {}
    if block.get("count"):
        where = ", ".join(f"{f} {n}" for f, n in block["by_feature"].items())
        console.print(
            f"Outliers: {block['count']} customer(s) ({block['share']:.1%}) beyond the far-out "
            f"fences ({where}): left out of fitting, assigned to their nearest segment and "
            "flagged in the 'outlier' column of segments.csv."
        )
    reason = (summary.get("min_segment_share") or {}).get("reason")
    if reason:
        console.print(f"{reason}.")


def print_k_table(result: PrintedResult) -> None:
    k_sel = result.k_selection
    if not len(k_sel):
        return
    table = Table(title="Choosing K", title_justify="left", box=None, pad_edge=False)
    for col in k_sel.columns:
        table.add_column(str(col), justify="right")
    chosen = result.summary["k"]
    for row in k_sel.to_dict(orient="records"):
        cells = [
            str(int(v)) if c == "k" else (f"{v:.4g}" if isinstance(v, float) else str(v))
            for c, v in row.items()
        ]
        if int(row["k"]) == chosen:
            cells[0] += " *"
        table.add_row(*cells)
    console.print(table)


def segment_highlights(segment: dict, features: list[dict], roles: dict | None = None) -> str:
    """The two facts that most set a segment apart, in short form.

    e.g. ``"spending score 82.1/100 (avg 50.2); income 86.5 k$ (avg 60.6)"``; see
    :mod:`custseg.features.facts`.
    """
    records = [f for f in features if f["name"] in segment["mean"]]
    kinds = custseg.features.kinds.column_kinds(records, roles)
    overall = {f["name"]: f["mean"] for f in features}
    facts = custseg.features.facts.numeric_facts(segment, kinds, overall, size=segment.get("size"))
    if not facts:  # what the segment leans on, as its name says
        facts = custseg.features.facts.numeric_facts(
            segment,
            kinds,
            overall,
            size=segment.get("size"),
            min_strength=custseg.features.profiles.LEAN_Z,
        )
    return "; ".join(f.short for f in facts[:2]) or "close to the average on every feature"


def print_result(result: PrintedResult) -> None:
    """Roles, the K table, and one line per segment."""
    summary = result.summary
    print_roles(result)
    console.print(
        f"Rows: {summary['input']['rows']} read, {summary['input']['rows_fitted']} used for "
        f"fitting. Features: {', '.join(summary['features'])} (scaling: {summary['scaling']})."
    )
    print_outliers(summary)
    print_k_table(result)
    console.print(f"K = {summary['k']}: {summary['k_selection']['reason']}.")
    print_k_trust(summary)
    table = Table(title="Segments", title_justify="left", box=None, pad_edge=False)
    for col, justify in _SEGMENT_COLUMNS:
        table.add_column(col, justify=justify)
    roles = {c["name"]: c["role"] for c in summary["columns"]}
    for seg in summary["segments"]:
        table.add_row(
            str(seg["id"]),
            seg["name"],
            str(seg["size"]),
            f"{seg['share']:.1%}",
            segment_highlights(seg, result.model.features, roles),
            *segment_trust_cells(summary, seg["id"]),
        )
    console.print(table)
    print_stability_note(summary)
    metrics = summary["metrics"]
    if metrics.get("silhouette") is not None:
        console.print(
            f"Silhouette {metrics['silhouette']:.3f} "
            f"({structure_words(silhouette_verdict(metrics['silhouette']))}), Calinski-Harabasz "
            f"{metrics['calinski_harabasz']:.1f}, Davies-Bouldin {metrics['davies_bouldin']:.3f}."
        )


def print_k_trust(summary: dict) -> None:
    """Each criterion's K, the agreement, the structure verdict and the rows each step used."""
    ks = summary.get("k_selection") or {}
    votes = ks.get("votes") or {}
    if votes and ks.get("method") == "auto":
        listed = ", ".join(f"{name} {'-' if k is None else k}" for name, k in votes.items())
        console.print(
            f"Votes: {listed} — {ks.get('agreement')} of {ks.get('n_criteria')} agree on "
            f"K={ks.get('chosen')}."
        )
    for note in ks.get("notes") or []:
        console.print(f"Note: {note}.")
    structure = ks.get("structure")
    if structure == "none":
        console.print(
            f"WARNING: no real cluster structure — {ks.get('structure_reason')}. The "
            "segments below are still written, but treat them as slices of a continuum."
        )
    elif structure:
        console.print(f"Structure: {structure} — {ks.get('structure_reason')}.")
    steps = []
    if ks.get("method") == "auto":
        steps.append(
            f"K sweep on {ks.get('rows_used')} rows (gap statistic on {ks.get('gap_rows')}, "
            f"resampling criteria on {ks.get('resampling_rows')})"
        )
    outliers = (summary.get("outliers") or {}).get("count") or 0
    steps.append(
        f"final fit on {summary['input']['rows_fitted'] - outliers} rows"
        + (f" ({outliers} outlier(s) left out)" if outliers else "")
    )
    stab = summary.get("stability") or {}
    if stab.get("resamples"):
        steps.append(f"stability: {stab['resamples']} bootstrap refits on {stab['rows_used']} rows")
    console.print("Rows used: " + "; ".join(steps) + ".")


def segment_trust_cells(summary: dict, segment_id: int) -> tuple[str, str]:
    """Stability (mean best-match Jaccard, '!' when unstable) and borderline share."""
    stab = {s["id"]: s for s in (summary.get("stability") or {}).get("segments", [])}
    border = (summary.get("borderline") or {}).get("by_segment", {})
    cell = "-"
    if (
        segment_id in stab
        and stab[segment_id]["verdict"] == custseg.segmentation.quality.NOT_ASSESSABLE
    ):
        cell = "n/a"
    elif segment_id in stab and stab[segment_id]["jaccard"] is not None:
        s = stab[segment_id]
        mark = STABILITY_MARKS.get(s["verdict"], "")
        # Rounded down, so 0.599 (unstable) never prints as 0.60.
        cell = f"{math.floor(s['jaccard'] * 100) / 100:.2f}" + (f" {mark}" if mark else "")
    share = border.get(str(segment_id), border.get(segment_id))
    return cell, "-" if share is None else f"{share:.0%}"


def print_stability_note(summary: dict) -> None:
    stab = summary.get("stability") or {}
    if not stab.get("resamples"):
        if stab.get("reason"):
            console.print(f"Stability not assessed: {stab['reason']}.")
        return
    line = (
        f"Stability: mean Jaccard over {stab['resamples']} bootstrap refits (>= "
        f"{STABLE_JACCARD:.2f} stable, {WEAK_JACCARD:.2f}-{STABLE_JACCARD:.2f} weak "
        f"'{STABILITY_MARKS['weak']}', < {WEAK_JACCARD:.2f} unstable "
        f"'{STABILITY_MARKS['unstable']}'); mean ARI between the refits and these segments "
        f"{stab['mean_ari']:.2f}."
    )
    console.print(line)
    not_assessable = custseg.segmentation.quality.NOT_ASSESSABLE
    unassessed = [s for s in stab.get("segments", []) if s.get("verdict") == not_assessable]
    for s in unassessed:
        console.print(f"Stability of segment {s['id']} not assessable (n/a): {s['reason']}.")
    if stab.get("unstable"):
        ids = ", ".join(str(i) for i in stab["unstable"])
        console.print(f"Unstable segment(s): {ids} — they change when the data is resampled.")
    border = summary.get("borderline") or {}
    if border:
        console.print(
            f"Borderline customers (own centre less than {border['threshold']:.0%} nearer than "
            f"the next): {border['share']:.0%}; see the 'borderline' column of segments.csv."
        )
