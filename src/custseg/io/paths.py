"""Checks on a path the user gave, made before any table library is imported.

A command refuses a mistyped file name at once, with the same line the readers
would give after loading pandas and Arrow.
"""

from __future__ import annotations

from pathlib import Path

from custseg.errors import DataFormatError

__all__ = ["check_input_exists"]


def check_input_exists(path: str | Path) -> Path:
    """Return ``path`` as a Path; refuse a local input that does not exist.

    A URL (``hdfs://``, ``s3a://``, ...) is left to the engine that reads it.

    Raises
    ------
    DataFormatError
        The file or folder does not exist.
    """
    if "://" in str(path):
        return Path(path)
    path = Path(path)
    if not path.exists():
        raise DataFormatError(f"input file '{path}' does not exist; check the path")
    return path
