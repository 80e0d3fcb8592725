"""Length-prefixed messages over a pipe, between a command and its helper process.

The helpers (chart drawing, lifetime value) import only the standard library before
their first message, so this module does too.
"""

from __future__ import annotations

import struct
from typing import IO

__all__ = ["receive_message", "send_message"]

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
