"""``custseg drift``: do a model's segments still fit new customers?

Exit codes: 0 when the verdict is below ``--fail-on`` (or no ``--fail-on``),
:data:`EXIT_DRIFT` (4) when ``--fail-on`` is given and the verdict reaches it,
2 for bad input, as everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import JustifyMethod
from rich.table import Table

import custseg
from custseg.cli._common import app, console, reporting_errors
from custseg.errors import InputError

if TYPE_CHECKING:
    from custseg.lifecycle.drift import DriftReport

__all__ = ["EXIT_DRIFT", "drift", "print_drift"]

#: Exit code when ``--fail-on`` is reached: not 1 (internal error), 2 (bad input)
#: or 3 (back-end failure), so a scheduler can tell drift from a broken run.
EXIT_DRIFT = 4


def _table(title: str, columns: tuple[tuple[str, JustifyMethod], ...]) -> Table:
    """A borderless table of ``(heading, justify)`` columns."""
    table = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for col, justify in columns:
        table.add_column(col, justify=justify)
    return table


def print_drift(report: DriftReport) -> None:
    """The verdict, its reasons, and the per-feature and per-segment tables."""
    console.print(
        f"Drift verdict: {report.verdict.upper()} ({report.rows['scored']} of "
        f"{report.rows['rows']} customers scored)"
    )
    for reason in report.reasons:
        console.print(f"  - {reason}", soft_wrap=True)
    table = _table(
        "Features",
        (
            ("feature", "left"),
            ("PSI", "right"),
            ("grade", "left"),
            ("training mean", "right"),
            ("new mean", "right"),
        ),
    )
    for f in report.features:
        table.add_row(
            f["name"],
            "n/a" if f["psi"] is None else f"{f['psi']:.3f}",
            f["grade"],
            "n/a" if f["training_mean"] is None else f"{f['training_mean']:.4g}",
            "n/a" if f["new_mean"] is None else f"{f['new_mean']:.4g}",
        )
    console.print(table)
    table = _table(
        f"Segment shares (PSI {report.share_psi:.3f}, {report.share_grade})",
        (
            ("id", "right"),
            ("name", "left"),
            ("training", "right"),
            ("new", "right"),
            ("shift", "right"),
        ),
    )
    for s in report.segments:
        table.add_row(
            str(s["id"]),
            s["name"],
            f"{s['training_share']:.1%}",
            f"{s['new_share']:.1%}",
            f"{s['shift']:+.1%}",
        )
    console.print(table)
    fit, border = report.fit, report.borderline
    if fit["ratio"] is not None:
        console.print(
            f"Mean distance to centre: {fit['new_mean_distance']:.3f} vs "
            f"{fit['training_mean_distance']:.3f} in training (x{fit['ratio']:.2f}, "
            f"{fit['grade']}). Borderline customers: {border['new_share']:.1%} vs "
            f"{border['training_share']:.1%} ({border['grade']}).",
            soft_wrap=True,
        )
    for note in report.notes:
        console.print(f"Note: {note}", soft_wrap=True)


@app.command()
def drift(
    model: Path = typer.Argument(
        ..., help="model.json written by custseg segment (or its folder)."
    ),
    input: Path = typer.Argument(..., help="New customers: CSV, .csv.gz, Parquet or .xlsx."),
    out: Path = typer.Option(Path("custseg-drift"), "--out", "-o", help="Output folder."),
    fail_on: str = typer.Option(
        None,
        "--fail-on",
        help=f"watch | retrain: exit with code {EXIT_DRIFT} when the verdict reaches it.",
    ),
) -> None:
    """Check whether a model's segments still fit new customers; writes drift.json and
    drift.html. Scores without refitting."""
    with reporting_errors():
        verdicts = custseg.lifecycle.drift.VERDICTS
        if fail_on is not None and fail_on not in verdicts[1:]:
            raise InputError(f"--fail-on must be watch or retrain; got {fail_on!r}")
        custseg.io.paths.check_input_exists(input)
        custseg.io.check_output_folder(
            out,
            inputs={"input file": input, "model": model},
            writes=custseg.lifecycle.drift.DRIFT_FILES,
        )
        report = custseg.drift(model, input)
        from custseg.report.drift_page import save_drift

        paths = save_drift(report, out)
    print_drift(report)
    console.print(f"Wrote {', '.join(str(p) for p in paths.values())}", soft_wrap=True)
    if fail_on is not None and verdicts.index(report.verdict) >= verdicts.index(fail_on):
        raise typer.Exit(EXIT_DRIFT)
