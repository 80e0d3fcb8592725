"""Shared test helpers: Chromium launch settings, customers with identities, PNG checks."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pandas as pd

import custseg

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def customers_with_identities(n_rows: int = 200) -> pd.DataFrame:
    """The bundled sample with IDs, names and e-mails that cannot occur by accident."""
    frame = custseg.make_customers(n_rows, random_state=0)
    frame["CustomerID"] = [f"CUST-{i:06d}" for i in range(123, 123 + n_rows)]
    frame.insert(1, "Name", [f"Zyx Qwerty{i:04d}" for i in range(n_rows)])
    frame.insert(2, "Email", [f"person{i:04d}@example.invalid" for i in range(n_rows)])
    return frame


def identities(frame: pd.DataFrame) -> list[str]:
    return [*frame["CustomerID"], *frame["Name"], *frame["Email"]]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height of a PNG, after checking its signature and every chunk's CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in chunk {kind!r} of {path}"
        chunks.append(kind)
        pos += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND" and b"IDAT" in chunks
    width, height = struct.unpack(">II", data[16:24])
    return width, height
