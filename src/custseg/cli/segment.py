"""``custseg segment``: a customer table in, named segments out."""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import threading
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

import custseg
from custseg.cli._ahead import import_in_background, imports_unscanned, read_while_importing
from custseg.cli._common import app, console, reporting_errors
from custseg.cli._continuity import print_continuity
from custseg.cli._options import IdColumn, InputTable, Scaling, SpreadsheetSafe, split_list
from custseg.cli._render import print_result
from custseg.cli._scale import check_engine, progress_bars, run_engine
from custseg.cli.report import chart_layout, write_run_report
from custseg.engines import available_engines
from custseg.errors import CustsegWarning, InputError
from custseg.options import DEFAULT_MIN_SEGMENT_SHARE, SegmentOptions

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

    from custseg.progress import ProgressFn
    from custseg.report.rendering import LayoutProcesses
    from custseg.segmentation.choose_k import KSelection
    from custseg.segmentation.result import SegmentationResult

__all__ = ["EARLY_WRITE_ROWS", "parse_k", "parse_stability", "segment"]


def parse_k(value: str) -> int | None:
    """``auto`` → None (choose K); a whole number → that K (checked by SegmentOptions)."""
    if value.strip().lower() == "auto":
        return None
    try:
        k = int(value)
    except ValueError:
        raise InputError(f"--k must be a whole number or 'auto'; got {value!r}") from None
    return k


def parse_stability(value: str) -> int | None:
    """``auto`` → None (20 resamples up to 50,000 rows, else off); a whole number."""
    if value.strip().lower() == "auto":
        return None
    try:
        n = int(value)
    except ValueError:
        raise InputError(
            f"--stability must be a whole number of resamples (0 = off) or 'auto'; got {value!r}"
        ) from None
    return n


def _had_report(out: Path) -> bool:
    """True when ``out`` holds a report that an earlier custseg run listed as its own."""
    return "report.html" in (custseg.io.listed_files(out) or set()) if out.is_dir() else False


def _warn_report_removed(out: Path) -> None:
    """Say that the earlier run's report went with its results.

    A run that writes no report (``--no-report``, no report extra, ``--engine
    chunked|spark``) must not leave a report beside results it does not describe:
    the run writer removes it, as every file of the earlier run not written again.
    """
    warnings.warn(
        f"removed the earlier run's report.html and charts/*.png from {out}: it described "
        f"other results; rebuild it with: custseg report {out}",
        CustsegWarning,
        stacklevel=2,
    )


#: What fitting a customer table (or a transaction log) imports: pandas, scikit-learn, SciPy.
_FITTING_MODULES = {False: "custseg.segmentation.pipeline", True: "custseg.transactions.behaviour"}
#: What building the report imports (Altair, Jinja2), loaded while the run fits.
_REPORT_MODULES = ("custseg.report.build",)


def _load_ahead(input: Path, *, report: bool, transactions: bool) -> threading.Thread | None:
    """Read a big customer table while the library imports, then start the report's imports.

    The report's code is imported in a thread while the run fits (NumPy and
    scikit-learn leave the interpreter for much of it), instead of after the fit,
    where the report waits for it. That thread starts once the fitting code is in:
    the two threads then never import the same module at once. Returns that thread.
    """
    fitting = _FITTING_MODULES[transactions]
    if not transactions:  # a transaction log is read by its own reader
        read_while_importing(input, (fitting,))
    if report:
        importlib.import_module(fitting)
        return import_in_background(_REPORT_MODULES)
    return None


class _ChartsAhead:
    """Makes the report's ``k_selection`` chart as soon as K is chosen, for the helpers to draw.

    The chart helpers are idle while the run fits. The chart is made in a thread while
    the final fit runs, from the parts of the summary it shows, once the report's code
    is in (``importing``). It is queued with ``layout`` once the fit is done: drawn
    beside the fit, it would take a core from it. The report takes that drawing only
    when it makes the same chart byte for byte
    (:meth:`~custseg.report.rendering.LayoutProcesses.submit`).
    """

    def __init__(
        self, layout: LayoutProcesses, options: SegmentOptions, importing: threading.Thread | None
    ) -> None:
        self.layout, self.options, self.importing = layout, options, importing
        self.making: threading.Thread | None = None
        self.made: Callable[[LayoutProcesses], object] | None = None

    def k_chosen(self, choice: KSelection) -> None:
        """The sweep's choice: make its chart in a thread."""
        self.making = threading.Thread(
            target=self._make_k_choice, args=(choice,), name="custseg-chart-ahead", daemon=True
        )
        self.making.start()

    def _make_k_choice(self, choice: KSelection) -> None:
        if self.importing is not None:
            self.importing.join()
        # A chart not made ahead is made by the report, which says what is wrong.
        with contextlib.suppress(Exception):
            from custseg.report.build import k_choice_ahead

            block = custseg.segmentation.choose_k.sweep_summary(
                choice, k_min=self.options.k_min, k_max=self.options.k_max
            )
            self.made = k_choice_ahead(int(choice.chosen), block, choice.table)

    def fitted(self) -> None:
        """The run is fitted and labelled: queue the charts made."""
        if self.making is not None:
            self.making.join()
        if self.made is not None:
            with contextlib.suppress(Exception):  # as in _make_k_choice
                self.made(self.layout)


#: From this many rows, writing ``segments.csv`` takes longer than drawing the report's
#: charts (whose cost is bounded by the report's sample): the table is then written from
#: the moment it exists. Below, it is written once the run is described, beside the
#: report: the run waits for the report's charts, and a writer started earlier would
#: slow down the description and the charts' data, which share the interpreter with it.
EARLY_WRITE_ROWS = 3_000_000


class _SegmentsWriter:
    """Writes ``segments.csv`` in a thread of ``pool``, from the moment the table exists.

    The fit hands over its labelled table before it describes the run
    (:meth:`table_made`): without a report, or on a table of at least
    :data:`EARLY_WRITE_ROWS` rows, the file is written from then on, while the
    summary and the report are made.
    """

    def __init__(
        self,
        run: custseg.io.RunWriter,
        pool: ThreadPoolExecutor,
        progress: ProgressFn | None,
        *,
        report: bool,
    ) -> None:
        self.run, self.pool, self.progress, self.report = run, pool, progress, report
        self.written: Future[Path] | None = None

    def table_made(self, table: pd.DataFrame) -> None:
        """The fit's labelled table: start writing it now, unless the report goes first."""
        if not self.report or len(table) >= EARLY_WRITE_ROWS:
            self.start(table)

    def start(self, table: pd.DataFrame) -> None:
        """Start writing ``table``."""
        write = custseg.segmentation.result.write_segments
        # The thread runs in this context: the spreadsheet-safe setting applies there too.
        context = contextvars.copy_context()
        self.written = self.pool.submit(context.run, write, table, self.run, progress=self.progress)


def _fit(
    input: Path,
    options: SegmentOptions,
    transactions: bool,
    *,
    previous: Path | None,
    segments: _SegmentsWriter,
    ahead: _ChartsAhead | None,
) -> SegmentationResult:
    """Segment the customer table ``input``, or the customers of a transaction log."""
    if transactions:
        return custseg.transactions.segment_transactions(
            input,
            features=None if options.features is None else list(options.features),
            id_column=options.id_column,
            options=options.replace(features=None, id_column=None),
            previous=previous,
            progress=segments.progress,
        )

    def table_made(table: pd.DataFrame) -> None:
        segments.table_made(table)
        if ahead is not None:
            ahead.fitted()

    return custseg.segmentation.pipeline.run(
        input,
        options,
        previous=previous,
        progress=segments.progress,
        on_table=table_made,
        on_choice=ahead.k_chosen if ahead is not None else None,
    )


def _write_run(
    run: custseg.io.RunWriter,
    result: SegmentationResult,
    *,
    report: bool,
    layout: LayoutProcesses | None,
    segments: _SegmentsWriter,
) -> dict[str, Path]:
    """Write the run's files and, with ``report``, its report; the staged paths, by name.

    ``segments.csv`` is written by ``segments`` (started now if the fit did not
    start it), while the report is built from the results in memory: the table's
    writer is mostly Arrow's native code, which leaves the interpreter to the report.
    """
    if segments.written is None:  # not started by the fit
        segments.start(result.table)
    assert segments.written is not None
    charts = write_run_report(run.staging, result=result, layout=layout) if report else {}
    files = result.write(run, segments=segments.written.result())
    return {**files, **charts}


_Out = Annotated[Path, typer.Option("--out", "-o", help="Output folder.")]
_Features = Annotated[
    str | None,
    typer.Option("--features", help='Feature columns, comma-separated: "Age,Annual Income (k$)".'),
]
_K = Annotated[str, typer.Option("--k", help="Number of segments, or 'auto' to choose it.")]
_KMin = Annotated[int, typer.Option("--k-min", help="Smallest K tried by --k auto.")]
_KMax = Annotated[int, typer.Option("--k-max", help="Largest K tried by --k auto.")]
_Transform = Annotated[
    str | None,
    typer.Option(
        "--transform",
        help="auto (log of strongly right-skewed columns: money, counts; the default) | log "
        "(every column without negative values) | none. With --transactions: none (the "
        "behaviour features are already on a log scale).",
    ),
]
_MinSegmentShare = Annotated[
    float,
    typer.Option(
        "--min-segment-share",
        help="A segment with fewer customers than this share is dissolved into its nearest "
        "segments; 0 = off.",
    ),
]
_Missing = Annotated[
    str,
    typer.Option("--missing", help="impute (median) | drop (leave the row out) | error."),
]
_Algorithm = Annotated[
    str,
    typer.Option("--algorithm", help="Clustering engine: " + ", ".join(available_engines()) + "."),
]
_Stability = Annotated[
    str,
    typer.Option(
        "--stability",
        help="Bootstrap resamples for segment stability; 0 = off; auto = 20 up to 50,000 rows.",
    ),
]
_Seed = Annotated[int, typer.Option("--seed", help="Random seed: same seed, same segments.")]
_Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print only where files went.")]
_Transactions = Annotated[
    bool,
    typer.Option(
        "--transactions",
        help="INPUT is a transaction log: segment customers on recency, log frequency and "
        "log spend (see custseg features).",
    ),
]
_NoReport = Annotated[
    bool,
    typer.Option("--no-report", help="Skip report.html and charts/*.png (see custseg report)."),
]
_Previous = Annotated[
    Path | None,
    typer.Option(
        "--previous",
        help="A previous run's folder (or model.json): keep its segment ids and names, "
        "warm-start when K is unchanged, write transitions.csv.",
    ),
]
_Engine = Annotated[
    str,
    typer.Option(
        "--engine",
        help="local (in memory, Arrow I/O) | chunked (streams batches, larger than memory) | "
        "spark (Apache Spark; see docs/scale.md).",
    ),
]
_SparkMaster = Annotated[
    str | None,
    typer.Option("--spark-master", help="Spark master URL for --engine spark (default local[*])."),
]


@app.command()
def segment(
    input: InputTable,
    out: _Out = Path("custseg-out"),
    features: _Features = None,
    id_column: IdColumn = None,
    k: _K = "auto",
    k_min: _KMin = 2,
    k_max: _KMax = 10,
    scaling: Scaling = "standard",
    transform: _Transform = None,
    min_segment_share: _MinSegmentShare = DEFAULT_MIN_SEGMENT_SHARE,
    missing: _Missing = "impute",
    algorithm: _Algorithm = "kmeans",
    stability: _Stability = "auto",
    seed: _Seed = 42,
    quiet: _Quiet = False,
    transactions: _Transactions = False,
    no_report: _NoReport = False,
    previous: _Previous = None,
    engine: _Engine = "local",
    spark_master: _SparkMaster = None,
    safe: SpreadsheetSafe = False,
) -> None:
    """Segment a customer table: writes segments.csv, summary.json and model.json."""
    with (
        reporting_errors(),
        custseg.io.spreadsheet.spreadsheet_safe(safe),
        progress_bars(quiet or engine != "local") as bars,
        contextlib.ExitStack() as stack,
    ):
        # The run's imports (pandas, scikit-learn, SciPy) are done without the collector.
        with imports_unscanned():
            custseg.io.paths.check_input_exists(input)
            given = {"--transactions": transactions, "--previous": previous is not None}
            local_only = tuple(k for k, v in given.items() if v)
            engine = check_engine(engine, algorithm, local_only=local_only)
            options = SegmentOptions(
                features=split_list(features),
                id_column=id_column,
                k=parse_k(k),
                k_min=k_min,
                k_max=k_max,
                scaling=scaling,
                missing=missing,
                algorithm=algorithm,
                random_state=seed,
                stability=parse_stability(stability),
                transform=transform or ("none" if transactions else "auto"),
                min_segment_share=min_segment_share,
            )
            custseg.io.check_output_folder(out, inputs={"input file": input})
            had_report = _had_report(out)
            if engine == "local":
                # Started before the table is read: the chart layout warms up while the run fits.
                layout = stack.enter_context(chart_layout(not no_report))
                importing = _load_ahead(input, report=layout is not None, transactions=transactions)
        if engine != "local":
            run_engine(engine, input, out, options, quiet=quiet, spark_master=spark_master)
            if had_report:
                _warn_report_removed(out)
            return
        ahead = _ChartsAhead(layout, options, importing) if layout is not None else None
        with (
            custseg.io.RunWriter(out, command="segment", inputs=[input]) as run,
            # Shut down before the run's files are published or, on an error, dropped.
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="custseg-write") as pool,
        ):
            segments = _SegmentsWriter(run, pool, bars, report=not no_report)
            result = _fit(
                input, options, transactions, previous=previous, segments=segments, ahead=ahead
            )
            paths = _write_run(run, result, report=not no_report, layout=layout, segments=segments)
        paths = {name: run.final(path) for name, path in paths.items()}
        if had_report and "report" not in paths:
            _warn_report_removed(out)
    if not quiet:
        print_result(result)
        if transactions:
            console.print(result.summary["transactions"]["note"])
        print_continuity(result.summary.get("continuity"))
    console.print(f"Wrote {', '.join(str(p) for p in paths.values())}")
