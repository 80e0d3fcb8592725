"""Draw the report's charts in a helper process, started before they are needed.

vl-convert keeps Python's interpreter lock for the whole of each call: while it draws
a chart, nothing else in the process runs. So the report draws its charts in a
helper process of its own, and its own process meanwhile builds the next chart and
writes the run's files. A command starts the helper when it begins (``custseg
segment`` before it reads the table), so its start and the engine's warm-up overlap
the command's own imports and fit; the report then sends each chart's spec as soon as
it is built.

A chart is drawn in two steps: its layout (the Vega-Lite spec laid out as SVG, in
vl-convert's JavaScript engine, which takes a helper a third of a second to warm up)
and its rasterising (the SVG turned into PNG pixels, which needs no engine). So a
second helper, which starts in a tenth of that, rasterises: the first lays out every
chart as it comes, then rasterises those the second has not taken, and on two cores
the two steps run side by side. The PNG is the same bytes as vl-convert's one-call
drawing, whichever helper rasterises it.

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

A helper is this module run as ``python -m custseg.report.rendering``: it imports
only vl-convert and the standard library. It reads requests on its standard input
and answers on its standard output, each message a 4-byte big-endian length then its
bytes; a request is JSON: a warm-up (``warm_up``), a layout (``spec``,
``vl_version``) or a rasterising (``svg``, ``scale``, ``fonts``). An answer is one
status byte (:data:`_OK` or :data:`_FAILED`) then the SVG in UTF-8, the PNG, or the
error text in UTF-8. A helper that cannot start or dies leaves its charts to the
others; a chart that no live helper can draw fails with :class:`RenderError`, and the
caller then draws it in its own process with :func:`render_png` (the same bytes).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from collections import deque
from collections.abc import Callable, Iterator
from importlib import resources
from typing import IO, Any, Literal, TypeVar

from custseg.io.pipes import (
    receive_message,
    send_message,
    serve_standard_streams,
    start_helper,
)

__all__ = [
    "BUNDLED_FONT_CHARACTERS",
    "LAYOUT_PROCESSES",
    "RASTERISE_PROCESSES",
    "WARM_UP_SPEC",
    "Drawing",
    "LayoutProcesses",
    "RenderError",
    "chart_fonts",
    "render_png",
    "serve",
]

Fonts = Literal["bundled", "system"]
_T = TypeVar("_T")

#: Helper processes that lay charts out: one, while the report, in its own process, builds
#: the next and writes the run's files; a second would cost one more engine warm-up and
#: save little on two cores.
LAYOUT_PROCESSES = 1
#: Helper processes that only rasterise, beside those that lay out.
RASTERISE_PROCESSES = 1
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
_WARM_UP = b'{"warm_up": true}'
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


def _converted(fonts: Fonts, convert: Callable[[], _T]) -> _T:
    """``convert()`` with vl-convert; the first call of the process sets the fonts up."""
    with _FontSetUp.lock:
        if _FontSetUp.fonts is None:
            _FontSetUp.fonts = fonts
            if fonts == "bundled":
                conf = resources.files("custseg.report").joinpath(_NO_SYSTEM_FONTS)
                with resources.as_file(conf) as path, _environment("FONTCONFIG_FILE", str(path)):
                    return convert()
    return convert()


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
    import vl_convert

    fonts = chart_fonts(json.dumps(spec, ensure_ascii=False, allow_nan=False))
    return _converted(
        fonts, lambda: vl_convert.vegalite_to_png(spec, scale=scale, vl_version=vl_version)
    )


def _answer(text: str) -> bytes:
    """The helper's answer to one request: the SVG of a layout or the PNG of a rasterising."""
    import vl_convert

    request = json.loads(text)
    if request.get("warm_up"):
        # No text: vl-convert sets its fonts up at the first text it measures.
        return vl_convert.vegalite_to_svg(WARM_UP_SPEC).encode()
    # A rasterising names the fonts its layout was made with; a layout's are its text's.
    fonts = request.get("fonts") or chart_fonts(text)
    if _FontSetUp.fonts not in (None, fonts):
        raise RenderError(f"this process draws with the {_FontSetUp.fonts} fonts")
    if "svg" in request:
        return _converted(fonts, lambda: vl_convert.svg_to_png(request["svg"], request["scale"]))
    svg = _converted(
        fonts, lambda: vl_convert.vegalite_to_svg(request["spec"], request["vl_version"])
    )
    return svg.encode()


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's loop: answer requests until the input ends."""
    while (message := receive_message(requests)) is not None:
        try:
            answer = _OK + _answer(message.decode())
        except Exception as exc:  # reported to the caller, which then draws in-process
            answer = _FAILED + f"{type(exc).__name__}: {exc}".encode()
        send_message(answers, answer)


def _ask(proc: subprocess.Popen[bytes], request: bytes) -> bytes | None:
    """A helper's answer to ``request``; None when it is gone."""
    try:
        send_message(proc.stdin, request)  # type: ignore[arg-type]
        return receive_message(proc.stdout)  # type: ignore[arg-type]
    except OSError:
        return None


class _Board:
    """The charts waiting for a helper, shared by the helpers' threads and the caller.

    A thread whose helper is gone takes only the charts no live helper can take (to
    fail them): a rasteriser that cannot start leaves its work to the layout helper.
    A helper that lays out leaves a chart it laid out to a rasteriser that is waiting
    for one: it is then free for the next chart to lay out, which is often on its way.
    """

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.to_lay_out: deque[Drawing] = deque()
        self.to_rasterise: deque[Drawing] = deque()
        self.closing = False
        self.live = {True: 0, False: 0}  # live helpers, by whether they lay out
        self.rasterisers_waiting = 0  # live helpers that only rasterise, waiting for a chart

    def next_job(self, lays_out: bool, live: bool) -> tuple[Drawing, bool] | None:
        """The next chart for a helper's thread and whether to lay it out; None when done."""
        only_rasterises = live and not lays_out
        with self.changed:
            while True:
                can_lay_out = lays_out if live else not self.live[True]
                can_rasterise = (live and not (lays_out and self.rasterisers_waiting)) or not any(
                    self.live.values()
                )
                if can_lay_out and self.to_lay_out:
                    return self.to_lay_out.popleft(), True
                if can_rasterise and self.to_rasterise:
                    return self.to_rasterise.popleft(), False
                if self.closing and not self.to_lay_out:
                    return None
                self.rasterisers_waiting += only_rasterises
                self.changed.wait()
                self.rasterisers_waiting -= only_rasterises

    def laid_out(self, drawing: Drawing, svg: str) -> None:
        with self.changed:
            drawing.svg = svg
            self.to_rasterise.append(drawing)
            self.changed.notify_all()

    def gone(self, lays_out: bool, drawing: Drawing | None) -> None:
        """A helper stopped answering: its chart goes to a live helper, or fails."""
        with self.changed:
            self.live[lays_out] -= 1
            if drawing is not None:
                self._hand_on(drawing)
            self.changed.notify_all()

    def _hand_on(self, drawing: Drawing) -> None:
        # Back to the front of its queue when a live helper can take it: it was next.
        if drawing.svg is None and self.live[True]:
            self.to_lay_out.appendleft(drawing)
        elif drawing.svg is not None and any(self.live.values()):
            self.to_rasterise.appendleft(drawing)
        else:
            drawing.settle(error=RenderError("the chart drawing process stopped"))


class Drawing:
    """A chart queued with :class:`LayoutProcesses`: laid out by a helper, then rasterised.

    Its states, all changed under the board's condition: waiting for its layout (in
    the board's queue to lay out, or being laid out); laid out (``svg`` set), in the
    queue to rasterise or being rasterised; done (the PNG or an error). A helper takes
    a chart off its queue, so no two helpers ever hold the same chart.

    Attributes
    ----------
    fonts : {"bundled", "system"}
        The fonts of the chart's text (:func:`chart_fonts`).
    """

    def __init__(self, request: bytes, fonts: Fonts, scale: float, board: _Board) -> None:
        self.request = request
        self.fonts = fonts
        self.scale = scale
        self.svg: str | None = None
        self._board = board
        self._png: bytes | None = None
        self._error: BaseException | None = None

    def rasterising_request(self) -> bytes:
        """The helper's request to rasterise this chart, once laid out."""
        request = {"svg": self.svg, "scale": self.scale, "fonts": self.fonts}
        return json.dumps(request, ensure_ascii=False).encode()

    def result(self) -> bytes:
        """The chart's PNG, once drawn.

        Raises
        ------
        RenderError
            No helper could draw it (none started, it died or refused the chart).
        """
        with self._board.changed:
            while self._png is None and self._error is None:
                self._board.changed.wait()
            if self._error is not None:
                raise self._error
            return self._png  # type: ignore[return-value]

    def settle(self, *, png: bytes | None = None, error: BaseException | None = None) -> None:
        """Done: its PNG, or the error that stopped it."""
        with self._board.changed:
            self._png, self._error = png, error
            self._board.changed.notify_all()


class LayoutProcesses:
    """Helper processes that draw Vega-Lite specs as PNG, started on creation.

    Use it as a context manager; :meth:`submit` a spec, then take its
    :meth:`Drawing.result`: the PNG bytes, or :class:`RenderError` when no helper
    could draw it. The helpers that lay out take the charts in the order they are
    submitted, and rasterise when none is left to lay out; the others only rasterise.
    Each takes the oldest chart laid out that no helper has taken.

    Parameters
    ----------
    processes : int, default=LAYOUT_PROCESSES
        How many helper processes lay out (and rasterise).
    rasterisers : int, default=RASTERISE_PROCESSES
        How many helper processes only rasterise.
    """

    def __init__(
        self, processes: int = LAYOUT_PROCESSES, rasterisers: int = RASTERISE_PROCESSES
    ) -> None:
        if processes < 1:
            raise ValueError(f"processes must be at least 1; got {processes}")
        if rasterisers < 0:
            raise ValueError(f"rasterisers must be at least 0; got {rasterisers}")
        self._board = _Board()
        self._submitted: dict[tuple[str, float], Drawing] = {}
        self._procs: list[subprocess.Popen[bytes]] = []
        self._threads = []
        for i in range(processes + rasterisers):
            lays_out = i < processes
            proc = start_helper("custseg.report.rendering")
            if proc is not None:
                self._procs.append(proc)
                self._board.live[lays_out] += 1
            thread = threading.Thread(
                target=self._feed, args=(proc, lays_out), name=f"custseg-chart-{i}", daemon=True
            )
            self._threads.append(thread)
        for thread in self._threads:  # once every helper counts as live
            thread.start()

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        """The helper processes that started."""
        return list(self._procs)

    def _feed(self, proc: subprocess.Popen[bytes] | None, lays_out: bool) -> None:
        board = self._board
        # The engine warms up while the command reads and fits, before any chart.
        if proc is not None and lays_out and _ask(proc, _WARM_UP) is None:
            proc = None
            board.gone(lays_out, None)
        while (job := board.next_job(lays_out, proc is not None)) is not None:
            drawing, lay_out = job
            request = drawing.request if lay_out else drawing.rasterising_request()
            answer = _ask(proc, request) if proc is not None else None
            if answer is None:
                if proc is not None:
                    proc = None
                    board.gone(lays_out, drawing)
                else:  # no live helper can take it
                    drawing.settle(error=RenderError("the chart drawing process stopped"))
            elif answer[:1] != _OK:
                drawing.settle(error=RenderError(answer[1:].decode(errors="replace")))
            elif lay_out:
                board.laid_out(drawing, answer[1:].decode())
            else:
                drawing.settle(png=answer[1:])

    def submit(self, spec: dict[str, Any], vl_version: str, scale: float) -> Drawing:
        """Queue ``spec`` to be drawn with Vega-Lite ``vl_version`` at ``scale``.

        A request the same byte for byte as one submitted before returns that
        :class:`Drawing`, drawn once: a chart can be submitted early, from the data
        it will be made of, and the report's own submit takes it only when it builds
        the same spec.
        """
        # Not escaped to ASCII: the helper reads the characters to choose the fonts.
        request = {"spec": spec, "vl_version": vl_version}
        message = json.dumps(request, ensure_ascii=False, allow_nan=False)
        key = (message, float(scale))
        with self._board.changed:
            if (drawing := self._submitted.get(key)) is None:
                drawing = Drawing(message.encode(), chart_fonts(message), scale, self._board)
                self._submitted[key] = drawing
                self._board.to_lay_out.append(drawing)
                self._board.changed.notify_all()
        return drawing

    def _stop(self, *, kill: bool) -> None:
        board = self._board
        with board.changed:
            board.closing = True
            if kill:
                cancelled = RenderError("the chart drawing was cancelled")
                for drawing in (*board.to_lay_out, *board.to_rasterise):
                    drawing.settle(error=cancelled)
                board.to_lay_out.clear()
                board.to_rasterise.clear()
            board.changed.notify_all()
        if kill:
            for proc in self._procs:
                proc.kill()
        for thread in self._threads:
            thread.join()
        self._end_helpers()

    def _end_helpers(self) -> None:
        """Tell every helper to end, then wait for each: they end side by side."""
        for proc in self._procs:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        for proc in self._procs:
            try:
                proc.wait(timeout=_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()

    def __enter__(self) -> LayoutProcesses:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        # On an error the charts are not wanted: the helpers stop at once.
        self._stop(kill=exc_type is not None)


if __name__ == "__main__":
    serve_standard_streams(serve)
    # The answers are sent and nothing is left to write: the helper ends at once,
    # without the interpreter's and the JavaScript engine's tear-down, which the
    # command would wait for.
    os._exit(0)
