"""The ``--engine chunked|spark`` branch of ``custseg segment``, and its progress bars."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import custseg
from custseg.cli._common import console
from custseg.errors import CustsegWarning, InputError
from custseg.options import SegmentOptions
from custseg.progress import ProgressBars, progress_for

if TYPE_CHECKING:
    from custseg.backends.chunked import ChunkedResult
    from custseg.backends.spark import SparkResult

__all__ = ["ENGINES", "check_engine", "progress_bars", "run_engine"]

#: Execution engines of ``custseg segment --engine``.
ENGINES = ("local", "chunked", "spark")


def check_engine(
    engine: str, algorithm: str = "kmeans", *, local_only: tuple[str, ...] = ()
) -> str:
    """Validate ``--engine``; chunked and Spark run K-Means only.

    ``local_only`` names the options given that only the local engine honours
    (``--transactions``, ``--previous``): refused with another engine rather than
    silently ignored.
    """
    if engine not in ENGINES:
        raise InputError(f"--engine must be one of {', '.join(ENGINES)}; got {engine!r}")
    if engine != "local" and algorithm != "kmeans":
        raise InputError(
            f"--engine {engine} runs K-Means only; drop --algorithm {algorithm} or use "
            "--engine local"
        )
    if engine != "local" and local_only:
        raise InputError(
            f"--engine {engine} does not support {' and '.join(local_only)}; drop it or use "
            "--engine local"
        )
    return engine


@contextlib.contextmanager
def progress_bars(quiet: bool) -> Iterator[ProgressBars | None]:
    """Rich bars on an interactive terminal; None with ``--quiet`` or piped output."""
    bars = progress_for(quiet)
    if bars is None:
        yield None
        return
    with bars:
        yield bars


def run_engine(
    engine: str,
    input: Path,
    out: Path,
    options: SegmentOptions,
    *,
    quiet: bool,
    spark_master: str | None = None,
) -> None:
    """Run the chunked or Spark engine and print what the local engine prints."""
    from custseg.cli._render import print_result

    with (
        progress_bars(quiet) as bars,
        warnings.catch_warnings(),
        custseg.io.RunWriter(out, command="segment", inputs=[input]) as run,
    ):
        # Only custseg's own warnings reach the user (as one line each): pyspark and
        # pandas repeat version notices per call, thousands of times on a big table.
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", CustsegWarning)
        result: ChunkedResult | SparkResult
        if engine == "chunked":
            from custseg.backends.chunked import segment_chunked

            result = segment_chunked(input, run.staging, options, progress=bars)
        else:
            from custseg.backends.spark import segment_spark
            from custseg.backends.spark_session import stop_session

            try:
                result = segment_spark(
                    input, run.staging, options, master=spark_master, progress=bars
                )
            finally:
                stop_session()  # the CLI owns its JVM: stop it so the process exits at once
    result.paths = {name: run.final(path) for name, path in result.paths.items()}
    if not quiet:
        print_result(result)
    console.print(f"Wrote {', '.join(str(p) for p in result.paths.values())}")
