"""Write outputs atomically: a reader never sees a half-written file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from custseg.errors import InputError
from custseg.io.formulas import FormulaWatch

__all__ = [
    "TABLE_FORMATS",
    "FileDigest",
    "atomic_path",
    "file_sha256",
    "formula_checked",
    "pid_alive",
    "remove_file",
    "remove_stale_temporaries",
    "table_format",
    "write_bytes",
    "write_csv",
    "write_json",
    "write_table",
    "write_text",
]


# Temporary files are named ".NAME.custseg-PID-XXXXXXXX.tmp" so that a later run can tell
# custseg's own leftovers from anything else, and whether their writer is still running.
_TEMPORARY = re.compile(r"^\.(.+)\.custseg-(\d+)-[a-z0-9_]{8}\.tmp$")
# What custseg before that naming left: ".NAME.XXXXXXXX.tmp".
_OLD_TEMPORARY = re.compile(r"^\.(.+)\.[a-z0-9_]{8}\.tmp$")


def pid_alive(pid: int) -> bool:
    """True when process ``pid`` is running (or cannot be asked: another user's)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: str | Path, name: str | None = None) -> list[Path]:
    """Remove the temporary files that killed custseg processes left in ``folder``.

    Parameters
    ----------
    folder : str or Path
    name : str, optional
        Only the temporary files of this output name; then also those of older
        custseg versions (``.NAME.XXXXXXXX.tmp``), which name no process.

    Returns
    -------
    list of Path
        The files removed. A temporary file whose process still runs is kept.
    """
    removed = []
    for entry in Path(folder).iterdir():
        match = _TEMPORARY.match(entry.name)
        if match is not None:
            stale = not pid_alive(int(match.group(2)))
        else:
            match = _OLD_TEMPORARY.match(entry.name) if name is not None else None
            stale = match is not None
        if match is None or not stale or not entry.is_file():
            continue
        if name is None or match.group(1) == name:
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


#: What :func:`write_table` writes, by file extension.
TABLE_FORMATS = {".csv": "csv", ".csv.gz": "csv.gz", ".parquet": "parquet", ".pq": "parquet"}


def table_format(path: str | Path, *, option: str = "output") -> str:
    """The table format written to ``path``, from its extension.

    Raises
    ------
    InputError
        The extension is not one of :data:`TABLE_FORMATS`.
    """
    path = Path(path)
    suffixes = [s.lower() for s in path.suffixes]
    for n in (2, 1):
        ending = "".join(suffixes[-n:])
        if len(suffixes) >= n and ending in TABLE_FORMATS:
            return TABLE_FORMATS[ending]
    ending = "".join(suffixes[-2:]) if suffixes[-1:] == [".gz"] else "".join(suffixes[-1:])
    found = f"ends in '{ending}'" if ending else "has no extension"
    raise InputError(
        f"{option} '{path}' {found}; custseg writes tables as "
        f"{', '.join(TABLE_FORMATS)}: choose one of those"
    )


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` on success.

    On any error the temporary file is removed and ``path`` is left as it was.
    Temporary files that a killed run left for the same ``path`` are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.name)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.custseg-{os.getpid()}-", suffix=".tmp", dir=path.parent
    )
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


#: Bytes read at a time when a whole file is hashed.
HASH_BLOCK = 1 << 20


def _hashed_file(path: str | Path) -> Any:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(HASH_BLOCK):
            digest.update(block)
    return digest


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's whole content, as 64 hexadecimal digits."""
    return str(_hashed_file(path).hexdigest())


class FileDigest:
    """The SHA-256 of a file, fed its bytes while it is written.

    Each piece is hashed in a thread of its own while the writer makes the next
    (hashlib leaves the interpreter free on large buffers), so a big file's digest
    costs no pass of its own after the writing. One piece is hashed at a time, in
    the order given.
    """

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custseg-hash")
        self._pending: Future[None] | None = None

    def _wait(self) -> None:
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def update(self, data: bytes | memoryview | Any) -> None:
        """Hash ``data`` (any buffer) after the pieces given before it."""
        self._wait()
        self._pending = self._pool.submit(self._hash.update, data)

    def of_file(self, path: str | Path) -> None:
        """Start again from the whole content of ``path`` (a file written another way)."""
        self._wait()
        self._hash = _hashed_file(path)

    def hexdigest(self) -> str:
        """The digest of everything fed so far, as 64 hexadecimal digits."""
        self._wait()
        self._pool.shutdown()
        return self._hash.hexdigest()


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` as UTF-8 CSV with ``\\n`` line endings, atomically.

    Cells a spreadsheet would run as formulas are warned about, or neutralised
    within :func:`custseg.io.formulas.spreadsheet_safe`.
    """
    frame, watch = formula_checked(frame, path)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, lineterminator="\n", encoding="utf-8")
    watch.finish()
    return Path(path)


def formula_checked(frame: pd.DataFrame, path: str | Path) -> tuple[pd.DataFrame, FormulaWatch]:
    """``frame`` as it is to be written to the CSV ``path``, and its formula watch."""
    watch = FormulaWatch(Path(path))
    frame = frame.set_axis(watch.header(frame.columns), axis=1)
    return watch.check(frame), watch


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
    """Write a table as CSV (``.csv``, ``.csv.gz``) or Parquet (``.parquet``), atomically.

    Raises
    ------
    InputError
        Another extension: custseg does not write it.
    """
    path = Path(path)
    kind = table_format(path)
    if kind == "parquet":
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
        return path
    if kind == "csv.gz":
        frame, watch = formula_checked(frame, path)
        with atomic_path(path) as tmp:
            frame.to_csv(tmp, index=False, lineterminator="\n", compression="gzip")
        watch.finish()
        return path
    return write_csv(frame, path)
