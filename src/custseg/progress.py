"""Progress reporting: silent in the library, rich bars in the terminal.

The library never prints. Long steps (reading, choosing K, fitting, labelling,
writing) call a *progress callback* ``progress(phase, done, total)`` when one is
given, with ``done`` and ``total`` in rows (``total`` None when unknown). The CLI
passes :class:`ProgressBars`, which draws one rich bar per phase with row
counts; :func:`progress_for` returns None (no bars) for ``--quiet`` or when
stdout is not a terminal, so logs and pipes stay clean.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["PHASES", "ProgressBars", "ProgressFn", "emit", "progress_for"]

ProgressFn = Callable[[str, int, "int | None"], None]

#: The phases the pipeline and the engines report, in order.
PHASES = ("reading", "choosing K", "fitting", "labelling", "writing")


def emit(progress: ProgressFn | None, phase: str, done: int, total: int | None = None) -> None:
    """Call ``progress(phase, done, total)`` when a callback is set; do nothing otherwise."""
    if progress is not None:
        progress(phase, int(done), None if total is None else int(total))


class ProgressBars:
    """A progress callback drawing one rich bar per phase, with row counts.

    Use as a context manager around the work::

        with ProgressBars() as bars:
            segment(path, progress=bars)
    """

    def __init__(self, console: Console | None = None) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<11}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> ProgressBars:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            # A failed run leaves no half-drawn bars above the one-line error.
            for task in self._tasks.values():
                self._progress.remove_task(task)
        self._progress.stop()

    def __call__(self, phase: str, done: int, total: int | None = None) -> None:
        task = self._tasks.get(phase)
        if task is None:
            task = self._progress.add_task(phase, total=total)
            self._tasks[phase] = task
        self._progress.update(task, completed=done, total=total)


def progress_for(quiet: bool, stream=None) -> ProgressBars | None:
    """Bars for an interactive run; None for ``--quiet`` or when output is not a terminal."""
    stream = stream if stream is not None else sys.stdout
    if quiet or not stream.isatty():
        return None
    return ProgressBars()
