"""Terminal output of a segmentation: roles, the K table, one line per segment."""

from __future__ import annotations

from rich.table import Table

from custseg.cli._common import console
from custseg.pipeline import SegmentationResult
from custseg.profiles import feature_label

__all__ = ["print_result", "print_roles", "segment_highlights"]


def print_roles(result: SegmentationResult) -> None:
    summary = result.summary
    used = set(summary["features"])
    table = Table(title="Columns", title_justify="left", box=None, pad_edge=False)
    for col in ("column", "role", "used", "note"):
        table.add_column(col)
    skipped = {s["column"]: s["reason"] for s in summary["skipped"]}
    for info in summary["columns"]:
        name = info["name"]
        table.add_row(
            name,
            info["role"],
            "feature" if name in used else "-",
            "" if name in used else skipped.get(name, ""),
        )
    console.print(table)


def print_k_table(result: SegmentationResult) -> None:
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


def segment_highlights(segment: dict, features: list[dict], n: int = 2) -> str:
    """'income 87 (avg 61); spending 82 (avg 51)' for the most distinctive features."""
    means = {f["name"]: f["mean"] for f in features}
    ranked = sorted(segment["z"].items(), key=lambda kv: -abs(kv[1] or 0.0))[:n]
    parts = [
        f"{feature_label(name)} {segment['mean'][name]:.3g} (avg {means[name]:.3g})"
        for name, _ in ranked
    ]
    return "; ".join(parts)


def print_result(result: SegmentationResult) -> None:
    """Roles, the K table, and one line per segment."""
    summary = result.summary
    print_roles(result)
    console.print(
        f"Rows: {summary['input']['rows']} read, {summary['input']['rows_fitted']} used for "
        f"fitting. Features: {', '.join(summary['features'])} (scaling: {summary['scaling']})."
    )
    print_k_table(result)
    console.print(f"K = {summary['k']}: {summary['k_selection']['reason']}.")
    table = Table(title="Segments", title_justify="left", box=None, pad_edge=False)
    for col, justify in (
        ("id", "right"),
        ("name", "left"),
        ("size", "right"),
        ("share", "right"),
        ("what sets it apart", "left"),
    ):
        table.add_column(col, justify=justify)
    for seg in summary["segments"]:
        table.add_row(
            str(seg["id"]),
            seg["name"],
            str(seg["size"]),
            f"{seg['share']:.1%}",
            segment_highlights(seg, result.model.features),
        )
    console.print(table)
    metrics = summary["metrics"]
    if metrics.get("silhouette") is not None:
        console.print(
            f"Silhouette {metrics['silhouette']:.3f}, Calinski-Harabasz "
            f"{metrics['calinski_harabasz']:.1f}, Davies-Bouldin {metrics['davies_bouldin']:.3f}."
        )
