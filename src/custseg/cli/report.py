"""``custseg report``: rebuild report.html and charts/*.png from a finished run."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

import custseg
from custseg.cli._common import app, console, reporting_errors
from custseg.errors import CustsegWarning

if TYPE_CHECKING:
    from custseg.report.rendering import LayoutProcesses
    from custseg.segmentation.result import SegmentationResult

__all__ = ["chart_layout", "is_report_file", "report", "write_run_report"]


def is_report_file(name: str) -> bool:
    """True for the files of a run's report: ``report.html`` and ``charts/*``."""
    return name == "report.html" or name.startswith("charts/")


@contextlib.contextmanager
def chart_layout(wanted: bool) -> Iterator[LayoutProcesses | None]:
    """The report's chart drawing processes, started now when ``wanted`` and the extra is there.

    A command enters it when it begins: the processes start and warm up while the
    command reads and fits, instead of after.
    """
    from custseg.report import report_available

    if not (wanted and report_available()):
        yield None
        return
    from custseg.report.rendering import LayoutProcesses

    with LayoutProcesses() as layout:
        yield layout


def write_run_report(
    run_dir: Path,
    *,
    out_dir: Path | None = None,
    required: bool = False,
    result: SegmentationResult | None = None,
    layout: LayoutProcesses | None = None,
) -> dict[str, Path]:
    """Write the report of the run in ``run_dir``; the paths written, by name.

    The report goes into ``out_dir`` (default ``run_dir``). With ``result`` (the run
    still in memory) the report is built from it, without reading ``segments.csv``
    back; ``layout`` (see :func:`chart_layout`) draws its charts. Without the
    ``report`` extra installed this warns and writes nothing, unless ``required``
    (then :class:`custseg.errors.EngineError` names the install line).
    """
    from custseg.report import INSTALL_HINT, build_report, report_available, report_from_result

    if not report_available() and not required:
        warnings.warn(
            f"report.html not written: the report needs {INSTALL_HINT}",
            CustsegWarning,
            stacklevel=2,
        )
        return {}
    if result is None:
        files = build_report(run_dir, out_dir=out_dir, layout=layout)
    else:
        files = report_from_result(result, run_dir if out_dir is None else out_dir, layout=layout)
    paths = {"report": files.html}
    if files.charts:
        paths["charts"] = files.charts[0].parent
    return paths


@app.command()
def report(
    run_dir: Path = typer.Argument(
        ..., help="The --out folder of a finished custseg segment run.", metavar="DIR"
    ),
) -> None:
    """Rebuild DIR/report.html and DIR/charts/*.png from summary.json, segments.csv, model.json."""
    with reporting_errors(), chart_layout(True) as layout:
        custseg.io.check_run(run_dir)
        # The run's results stay; only its report is replaced.
        with custseg.io.RunWriter(
            run_dir, command="report", keep=lambda name: not is_report_file(name)
        ) as run:
            staged = write_run_report(run_dir, out_dir=run.staging, required=True, layout=layout)
        paths = {name: run.final(path) for name, path in staged.items()}
    for name, path in paths.items():
        console.print(f"{name:>8}: {path}")
