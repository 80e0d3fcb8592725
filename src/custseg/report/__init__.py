"""The HTML report and PNG charts of a segmentation run.

>>> from custseg.report import build_report
>>> build_report("custseg-out")        # doctest: +SKIP
ReportFiles(html=PosixPath('custseg-out/report.html'), charts=[...])

Needs the ``report`` extra (Vega-Altair and vl-convert-python):
``pip install 'custseg[report]'``. :func:`report_available` says whether it is
installed; :func:`build_report` raises :class:`custseg.errors.EngineError` with
that install line when it is not.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING

from custseg.errors import EngineError

if TYPE_CHECKING:
    from custseg.report.build import ReportFiles
    from custseg.report.rendering import LayoutProcesses
    from custseg.segmentation.result import SegmentationResult

__all__ = ["INSTALL_HINT", "build_report", "report_available", "report_from_result"]

INSTALL_HINT = "pip install 'custseg[report]'"


def report_available() -> bool:
    """True when Vega-Altair and vl-convert-python are installed."""
    return all(importlib.util.find_spec(m) is not None for m in ("altair", "vl_convert"))


def build_report(
    run_dir: str | Path,
    *,
    out_dir: str | Path | None = None,
    png: bool = True,
    layout: LayoutProcesses | None = None,
) -> ReportFiles:
    """Write ``report.html`` and ``charts/*.png`` for a finished run.

    See :func:`custseg.report.build.build_report` for the parameters.

    Raises
    ------
    EngineError
        The ``report`` extra is not installed (the message gives the install line).
    InputError
        A file of the run is missing or the files do not belong together.
    """
    if not report_available():
        raise EngineError(f"the report needs Vega-Altair and vl-convert-python; {INSTALL_HINT}")
    from custseg.report.build import build_report as _build

    return _build(run_dir, out_dir=out_dir, png=png, layout=layout)


def report_from_result(
    result: SegmentationResult,
    out_dir: str | Path,
    *,
    png: bool = True,
    layout: LayoutProcesses | None = None,
) -> ReportFiles:
    """Write the report of a segmentation still in memory (no file is read back).

    See :func:`custseg.report.build.report_from_result`.

    Raises
    ------
    EngineError
        The ``report`` extra is not installed (the message gives the install line).
    """
    if not report_available():
        raise EngineError(f"the report needs Vega-Altair and vl-convert-python; {INSTALL_HINT}")
    from custseg.report.build import report_from_result as _from_result

    return _from_result(result, out_dir, png=png, layout=layout)
