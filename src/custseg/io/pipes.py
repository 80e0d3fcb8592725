"""Length-prefixed messages over a pipe, between a command and its helper process.

The helpers (chart drawing, lifetime value) import only the standard library before
their first message, so this module does too.
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import IO

__all__ = ["receive_message", "send_message", "serve_standard_streams", "start_helper"]

_HEADER = struct.Struct(">I")


def send_message(stream: IO[bytes], payload: bytes) -> None:
    """Write ``payload`` with its length in front, and flush it to the other side."""
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def receive_message(stream: IO[bytes]) -> bytes | None:
    """The next message, or None when the other side has closed the pipe."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    size = _HEADER.unpack(header)[0]
    payload = stream.read(size)
    return payload if len(payload) == size else None


def serve_standard_streams(serve: Callable[[IO[bytes], IO[bytes]], None]) -> None:
    """Run a helper's ``serve(requests, answers)`` on its standard input and output.

    The answers go out on a copy of standard output; anything a library prints goes
    to standard error instead, where it cannot break a message.
    """
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    with contextlib.suppress(KeyboardInterrupt, BrokenPipeError):
        serve(sys.stdin.buffer, answers)


def start_helper(module: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes] | None:
    """Start ``python -m module`` as a helper on pipes; None when it cannot start.

    Its standard error is discarded: a helper that fails leaves its work to the
    command, which says what went wrong.
    """
    # -P: the user's working folder is not put on the helper's import path.
    argv = [sys.executable, "-P", "-m", module]
    try:
        return subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
    except OSError:
        return None
