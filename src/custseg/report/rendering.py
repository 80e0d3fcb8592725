"""Draw the report's charts in a helper process, started before they are needed.

vl-convert keeps Python's interpreter lock for the whole of each call: while it draws
a chart, nothing else in the process runs. So the report draws its charts (the
Vega-Lite spec laid out and turned into PNG pixels) in a helper process of its own,
and its own process meanwhile builds the next chart and writes the run's files. A
command starts the helper when it begins (``custseg segment`` before it reads the
table), so its start and the engine's warm-up overlap the command's own imports and
fit; the report then sends each chart's spec as soon as it is built.

**Fonts.** vl-convert bundles Liberation Sans, the report's font, and also loads the
machine's fonts. Where the machine has its own copy of Liberation Sans, vl-convert
draws with that copy and reads its file from disk again for every piece of text,
which is half the time of drawing a chart. A chart whose text Liberation Sans can
draw (:func:`chart_fonts` says ``"bundled"``) is therefore drawn with the bundled
fonts only: faster, and the same PNG bytes on every machine. A chart with other
characters (Chinese column names, say) is drawn with the machine's fonts
(``"system"``), which have the glyphs. vl-convert sets its fonts up once per process,
at its first chart: a process draws charts of the kind of its first chart, and a
helper refuses the other kind (the report then draws it in its own process).

The helper is this module run as ``python -m custseg.report.rendering``: it imports
only vl-convert and the standard library. It reads requests on its standard input
and answers on its standard output, each message a 4-byte big-endian length then its
bytes; a request is JSON (``spec``, ``vl_version``, ``scale``), an answer
one status byte (:data:`_OK` or :data:`_FAILED`) then the PNG or the error text in
UTF-8. A helper that cannot start or dies fails its jobs with :class:`RenderError`;
the caller then draws those charts in its own process with :func:`render_png` (the
same bytes).
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from importlib import resources
from typing import IO, Any, Literal

from custseg.io.pipes import (
    receive_message,
    send_message,
    serve_standard_streams,
    start_helper,
)

__all__ = [
    "BUNDLED_FONT_CHARACTERS",
    "LAYOUT_PROCESSES",
    "WARM_UP_SPEC",
    "LayoutProcesses",
    "RenderError",
    "chart_fonts",
    "render_png",
    "serve",
]

Fonts = Literal["bundled", "system"]

#: Helper processes: one draws the charts while the report, in its own process, builds
#: the next and writes the run's files; a second would cost one more engine warm-up and
#: save little on two cores.
LAYOUT_PROCESSES = 1
#: A chart that starts vl-convert's engine without drawing text: vl-convert sets its
#: fonts up at the first text it measures, and the first real chart says which fonts.
WARM_UP_SPEC: dict[str, Any] = {
    "mark": "rule",
    "data": {"values": [{"x": 0}]},
    "encoding": {"x": {"field": "x", "type": "quantitative", "axis": None}},
}
#: Code point ranges (inclusive) that the Liberation Sans bundled with vl-convert draws:
#: Latin, Greek, Cyrillic and the punctuation, currency and maths signs the report uses.
BUNDLED_FONT_CHARACTERS: tuple[tuple[int, int], ...] = (
    (0x0020, 0x007E),
    (0x00A0, 0x00AC),
    (0x00AE, 0x024F),
    (0x0384, 0x038A),
    (0x038C, 0x038C),
    (0x038E, 0x03A1),
    (0x03A3, 0x03CE),
    (0x0400, 0x04FF),
    (0x2012, 0x2022),
    (0x2026, 0x2026),
    (0x2030, 0x2030),
    (0x2039, 0x203A),
    (0x20A0, 0x20B5),
    (0x2190, 0x2195),
    (0x2212, 0x2212),
    (0x221E, 0x221E),
    (0x2248, 0x2248),
    (0x2260, 0x2260),
    (0x2264, 0x2265),
)
_BUNDLED = frozenset(chr(c) for lo, hi in BUNDLED_FONT_CHARACTERS for c in range(lo, hi + 1))
# A font configuration that lists no font folder: vl-convert then has only its bundled
# fonts (fontconfig reads FONTCONFIG_FILE on Linux; elsewhere it is ignored).
_NO_SYSTEM_FONTS = "no-system-fonts.conf"
_OK, _FAILED = b"\x00", b"\x01"
_STOP_WAIT_S = 5.0


class RenderError(RuntimeError):
    """A helper process could not draw a chart (it did not start, died or refused)."""


def chart_fonts(text: str) -> Fonts:
    """``"bundled"`` when Liberation Sans draws every character of ``text``, else ``"system"``.

    ``text`` is a chart's spec as JSON (or a message holding it), not escaped to ASCII
    (``ensure_ascii=False``).
    """
    return "bundled" if _BUNDLED.issuperset(text) else "system"


class _FontSetUp:
    """The fonts vl-convert set up in this process, at its first chart."""

    lock = threading.Lock()
    fonts: Fonts | None = None


def _draw(spec: dict[str, Any], vl_version: str, scale: float, fonts: Fonts) -> bytes:
    """Draw ``spec`` as PNG here; the first chart of the process sets the fonts up."""
    import vl_convert

    with _FontSetUp.lock:
        if _FontSetUp.fonts is None:
            _FontSetUp.fonts = fonts
            if fonts == "bundled":
                conf = resources.files("custseg.report").joinpath(_NO_SYSTEM_FONTS)
                with resources.as_file(conf) as path, _environment("FONTCONFIG_FILE", str(path)):
                    return vl_convert.vegalite_to_png(spec, scale=scale, vl_version=vl_version)
    return vl_convert.vegalite_to_png(spec, scale=scale, vl_version=vl_version)


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    # Only for vl-convert's first chart in the process, which reads the variable once.
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


def render_png(spec: dict[str, Any], vl_version: str, scale: float) -> bytes:
    """Draw a Vega-Lite spec as PNG with vl-convert (no browser), in this process.

    The fonts are those :func:`chart_fonts` gives for the spec, unless vl-convert
    set its fonts up earlier in this process (for the other kind of chart, or before
    custseg used it): then the chart is drawn with those.
    """
    fonts = chart_fonts(json.dumps(spec, ensure_ascii=False, allow_nan=False))
    return _draw(spec, vl_version, scale, fonts)


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's loop: warm vl-convert up, then answer requests until the input ends."""
    import vl_convert

    vl_convert.vegalite_to_svg(WARM_UP_SPEC)
    while (message := receive_message(requests)) is not None:
        text = message.decode()
        request = json.loads(text)
        try:
            fonts = chart_fonts(text)
            if _FontSetUp.fonts not in (None, fonts):
                raise RenderError(f"this process draws with the {_FontSetUp.fonts} fonts")
            png = _draw(request["spec"], request["vl_version"], request["scale"], fonts)
            answer = _OK + png
        except Exception as exc:  # reported to the caller, which then draws in-process
            answer = _FAILED + f"{type(exc).__name__}: {exc}".encode()
        send_message(answers, answer)


class LayoutProcesses:
    """Helper processes that draw Vega-Lite specs as PNG, started on creation.

    Use it as a context manager; :meth:`submit` a spec, then ``.result()`` its future:
    the PNG bytes, or :class:`RenderError` when no helper could draw it. Specs are
    drawn in the order they are submitted, each by the first helper free.

    Parameters
    ----------
    processes : int, default=LAYOUT_PROCESSES
        How many helper processes to start.
    """

    def __init__(self, processes: int = LAYOUT_PROCESSES) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1; got {processes}")
        self._jobs: queue.SimpleQueue[tuple[Future[bytes], bytes] | None] = queue.SimpleQueue()
        self._procs: list[subprocess.Popen[bytes]] = []
        self._threads = []
        for i in range(processes):
            proc = start_helper("custseg.report.rendering")
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

    def _feed(self, proc: subprocess.Popen[bytes] | None) -> None:
        while (job := self._jobs.get()) is not None:
            future, request = job
            if not future.set_running_or_notify_cancel():
                continue
            answer = None
            if proc is not None:
                try:
                    send_message(proc.stdin, request)  # type: ignore[arg-type]
                    answer = receive_message(proc.stdout)  # type: ignore[arg-type]
                except OSError:
                    answer = None
            if answer is None:
                proc = None  # gone: its remaining jobs fail at once
                future.set_exception(RenderError("the chart drawing process stopped"))
            elif answer[:1] == _OK:
                future.set_result(answer[1:])
            else:
                future.set_exception(RenderError(answer[1:].decode(errors="replace")))

    def submit(self, spec: dict[str, Any], vl_version: str, scale: float) -> Future[bytes]:
        """Queue ``spec`` to be drawn with Vega-Lite ``vl_version`` at ``scale``."""
        future: Future[bytes] = Future()
        request = {"spec": spec, "vl_version": vl_version, "scale": scale}
        # Not escaped to ASCII: the helper reads the characters to choose the fonts.
        message = json.dumps(request, ensure_ascii=False, allow_nan=False)
        self._jobs.put((future, message.encode()))
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


if __name__ == "__main__":
    serve_standard_streams(serve)
