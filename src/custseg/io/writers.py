"""Write outputs atomically: a reader never sees a half-written file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "atomic_path",
    "remove_file",
    "write_bytes",
    "write_csv",
    "write_json",
    "write_table",
    "write_text",
]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any error the temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    # mkstemp creates 0600; outputs get the permissions a plain open() would give them.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as UTF-8 CSV with ``\\n`` line endings, atomically."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    return Path(path)


def write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as indented JSON (keys in insertion order), atomically."""
    text = json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return write_text(text, path)


def write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` as UTF-8, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(data: bytes, path: str | Path) -> Path:
    """Write ``data`` (an image, ...) atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def remove_file(path: str | Path) -> bool:
    """Delete ``path`` if it exists (a stale output); True when something was removed."""
    path = Path(path)
    if path.is_file():
        path.unlink()
        return True
    return False


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a table as CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``), atomically."""
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
        return path
    if suffixes[-2:] == [".csv", ".gz"]:
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False, lineterminator="\n", compression="gzip")
        return path
    return write_csv(frame, path)
