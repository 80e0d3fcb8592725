"""Lay the report's charts out in a helper process, started before they are needed.

vl-convert keeps Python's interpreter lock for the whole of each call: while it lays
a chart out, nothing else in the process runs. So the report lays its charts out (the
Vega-Lite spec to SVG, the larger part of the work, and the one that needs the
JavaScript engine and its warm-up) in a helper process of its own, and turns each SVG
into pixels in its own process meanwhile. A command starts the helper when it begins
(``custseg segment`` before it reads the table), so its start and the engine's
warm-up overlap the command's own imports and fit; the report then sends each chart's
spec as soon as it is built.

The helper is this module run as ``python -m custseg.report.rendering``: it imports
only vl-convert and the standard library. It reads requests on its standard input
and answers on its standard output, each message a 4-byte big-endian length then its
bytes; a request is JSON (``spec``, ``vl_version``), an answer one status byte
(:data:`_OK` or :data:`_FAILED`) then the SVG or the error text, in UTF-8. A helper
that cannot start or dies fails its jobs with :class:`RenderError`; the caller then
renders those charts in its own process (the same bytes).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import struct
import subprocess
import sys
import threading
from concurrent.futures import Future
from typing import IO, Any

__all__ = ["LAYOUT_PROCESSES", "WARM_UP_SPEC", "LayoutProcesses", "RenderError", "serve"]

#: Helper processes: one lays the charts out while the report, in its own process,
#: builds the next and rasterises the last; a second would cost one more engine warm-up
#: and save little, the report's own process then being the busier.
LAYOUT_PROCESSES = 1
#: The smallest chart that starts vl-convert's engine and loads its fonts.
WARM_UP_SPEC: dict[str, Any] = {
    "mark": "text",
    "data": {"values": [{"t": "0"}]},
    "encoding": {"text": {"field": "t", "type": "nominal"}},
}
_HEADER = struct.Struct(">I")
_OK, _FAILED = b"\x00", b"\x01"
_STOP_WAIT_S = 5.0


class RenderError(RuntimeError):
    """A helper process could not lay a chart out (it did not start, died or failed)."""


def _send(stream: IO[bytes], payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _receive(stream: IO[bytes]) -> bytes | None:
    """The next message, or None when the other side has closed the pipe."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    size = _HEADER.unpack(header)[0]
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return payload


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's loop: warm vl-convert up, then answer requests until the input ends."""
    import vl_convert

    vl_convert.vegalite_to_svg(WARM_UP_SPEC)
    while (message := _receive(requests)) is not None:
        request = json.loads(message)
        try:
            svg = vl_convert.vegalite_to_svg(request["spec"], vl_version=request["vl_version"])
            answer = _OK + svg.encode()
        except Exception as exc:  # reported to the caller, which then renders in-process
            answer = _FAILED + f"{type(exc).__name__}: {exc}".encode()
        _send(answers, answer)


class LayoutProcesses:
    """Helper processes that lay Vega-Lite specs out as SVG, started on creation.

    Use it as a context manager; :meth:`submit` a spec, then ``.result()`` its future:
    the SVG text, or :class:`RenderError` when no helper could lay it out. Specs are
    laid out in the order they are submitted, each by the first helper free.

    Parameters
    ----------
    processes : int, default=LAYOUT_PROCESSES
        How many helper processes to start.
    """

    def __init__(self, processes: int = LAYOUT_PROCESSES) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1; got {processes}")
        self._jobs: queue.SimpleQueue[tuple[Future[str], bytes] | None] = queue.SimpleQueue()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._threads = []
        for i in range(processes):
            proc = self._start()
            if proc is not None:
                self._procs.append(proc)
            thread = threading.Thread(
                target=self._feed, args=(proc,), name=f"custseg-layout-{i}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        """The helper processes that started."""
        return list(self._procs)

    @staticmethod
    def _start() -> subprocess.Popen[bytes] | None:
        # -P: the user's working folder is not put on the helper's import path.
        argv = [sys.executable, "-P", "-m", "custseg.report.rendering"]
        try:
            return subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        except OSError:
            return None

    def _feed(self, proc: subprocess.Popen[bytes] | None) -> None:
        while (job := self._jobs.get()) is not None:
            future, request = job
            if not future.set_running_or_notify_cancel():
                continue
            answer = None
            if proc is not None:
                try:
                    _send(proc.stdin, request)  # type: ignore[arg-type]
                    answer = _receive(proc.stdout)  # type: ignore[arg-type]
                except OSError:
                    answer = None
            if answer is None:
                proc = None  # gone: its remaining jobs fail at once
                future.set_exception(RenderError("the chart layout process stopped"))
            elif answer[:1] == _OK:
                future.set_result(answer[1:].decode())
            else:
                future.set_exception(RenderError(answer[1:].decode(errors="replace")))

    def submit(self, spec: dict[str, Any], vl_version: str) -> Future[str]:
        """Queue ``spec`` to be laid out with Vega-Lite ``vl_version``."""
        future: Future[str] = Future()
        request = json.dumps({"spec": spec, "vl_version": vl_version}, allow_nan=False)
        self._jobs.put((future, request.encode()))
        return future

    def _stop(self, *, kill: bool) -> None:
        if kill:
            self._cancel_queued()
            for proc in self._procs:
                proc.kill()
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            thread.join()
        for proc in self._procs:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
            try:
                proc.wait(timeout=_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def _cancel_queued(self) -> None:
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job[0].cancel()

    def __enter__(self) -> LayoutProcesses:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        # On an error the charts are not wanted: the helpers stop at once.
        self._stop(kill=exc_type is not None)


def _main() -> None:
    # The answers go out on a copy of standard output; anything a library prints goes
    # to standard error instead, where it cannot break a message.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    _main()
