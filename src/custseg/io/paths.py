"""Checks on a path the user gave, made before any table library is imported; custseg's cache.

A command refuses a mistyped file name at once, with the same line the readers
would give after loading pandas and Arrow.
"""

from __future__ import annotations

import os
from pathlib import Path

from custseg.errors import DataFormatError

__all__ = ["cache_dir", "check_input_exists"]


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


def cache_dir() -> Path | None:
    """custseg's cache folder: ``$CUSTSEG_CACHE_DIR``, else ``custseg`` in the user's cache.

    Only what can be made again is kept there. None when there is no home folder
    (then nothing is cached).
    """
    if os.environ.get("CUSTSEG_CACHE_DIR"):
        return Path(os.environ["CUSTSEG_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "custseg"
    try:
        return Path.home() / ".cache" / "custseg"
    except RuntimeError:  # no home directory: run without a cache
        return None
