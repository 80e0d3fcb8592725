"""How much memory a run may use, and whether a table read whole fits in it."""

from __future__ import annotations

import os
import resource
from pathlib import Path

from custseg.errors import TableTooLargeError
from custseg.io.sniff import CsvLayout, sniff_csv

__all__ = [
    "MEMORY_PER_CSV_BYTE",
    "available_memory",
    "check_fits_in_memory",
    "checked_layout",
    "memory_cap",
    "size_text",
]

#: Memory an in-memory run takes per byte of CSV text, at its peak: read, parse, fit,
#: label and write (measured on narrow tables of 1 and 10 million rows; wider tables
#: take less per byte).
MEMORY_PER_CSV_BYTE = 15


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_available() -> int | None:
    """What a container's memory limit (cgroup v2) still allows."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else int(limit) - used


def _address_space_available() -> int | None:
    """What this process's address-space limit (``ulimit -v``) still allows."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return soft
    return soft - pages * os.sysconf("SC_PAGE_SIZE")


def available_memory() -> int | None:
    """Bytes this process may still take: the least of free memory, a container's limit
    and its own address-space limit; None when none can be told."""
    found = [
        m
        for m in (_meminfo_available(), _cgroup_available(), _address_space_available())
        if m is not None
    ]
    return max(0, min(found)) if found else None


def size_text(n: float) -> str:
    """``1536`` → ``"1.5 KB"``: a size for a message."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:,.0f} bytes" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def memory_cap() -> int | None:
    """The most CSV text a table read whole may hold here; None when unbounded."""
    available = available_memory()
    return None if available is None else available // MEMORY_PER_CSV_BYTE


def check_fits_in_memory(path: Path, text_bytes: int, *, at_least: bool) -> None:
    """Refuse a table whose text would not fit in memory when read whole.

    Parameters
    ----------
    path : Path
    text_bytes : int
        Bytes of CSV text (after decompression), or a lower bound of it.
    at_least : bool
        ``text_bytes`` is a lower bound: the reading stopped there.

    Raises
    ------
    TableTooLargeError
        The table needs more memory than is available, naming its size.
    """
    available = available_memory()
    if available is None or text_bytes * MEMORY_PER_CSV_BYTE <= available:
        return
    stored = path.stat().st_size if path.is_file() else None
    size = f"{'more than ' if at_least else ''}{size_text(text_bytes)} of text"
    if stored is not None and stored < text_bytes:
        size += f" (from {size_text(stored)} on disk)"
    raise TableTooLargeError(
        f"'{path}' holds {size}, too much to read whole in the {size_text(available)} "
        "of memory available; split it into smaller files (custseg segment --engine chunked "
        "streams a table this size)"
    )


def checked_layout(path: Path, what: str) -> CsvLayout:
    """:func:`custseg.io.sniff.sniff_csv` for a table read whole: refused if it cannot fit.

    Raises
    ------
    DataFormatError
        As :func:`~custseg.io.sniff.sniff_csv`, or the text is too big for memory
        (:func:`custseg.io.memory.check_fits_in_memory`).
    """
    layout = sniff_csv(path, what, limit=memory_cap())
    check_fits_in_memory(path, layout.text_bytes, at_least=not layout.complete)
    return layout
