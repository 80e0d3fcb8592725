"""Checks on a path the user gave, made before any table library is imported; custseg's cache.

A command refuses a mistyped file name at once, with the same line the readers
would give after loading pandas and Arrow; the kind of table a path holds is
told from its name (:func:`table_kind`).
"""

from __future__ import annotations

import os
from pathlib import Path

from custseg.errors import DataFormatError

__all__ = ["SUPPORTED_FORMATS", "cache_dir", "check_input_exists", "table_kind"]

#: The table formats custseg reads, as a user is told.
SUPPORTED_FORMATS = "CSV (.csv, .tsv, .txt, optionally .gz), Parquet (.parquet) or Excel (.xlsx)"

_CSV_SUFFIXES = {".csv", ".tsv", ".txt", ".tab", ".dat"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_EXCEL_SUFFIXES = {".xlsx", ".xlsm"}


def table_kind(path: Path) -> str:
    """``"csv"``, ``"parquet"`` (a file or a folder) or ``"excel"``, from the name."""
    suffixes = [s.lower() for s in path.suffixes]
    if path.is_dir():
        return "parquet"
    if suffixes and suffixes[-1] == ".gz":
        inner = suffixes[-2] if len(suffixes) > 1 else ".csv"
        if inner in _CSV_SUFFIXES:
            return "csv"
        raise DataFormatError(
            f"unsupported format '{''.join(suffixes[-2:])}' for '{path}'; use {SUPPORTED_FORMATS}"
        )
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _CSV_SUFFIXES or suffix == "":
        return "csv"
    if suffix in _PARQUET_SUFFIXES:
        return "parquet"
    if suffix in _EXCEL_SUFFIXES:
        return "excel"
    raise DataFormatError(f"unsupported format '{suffix}' for '{path}'; use {SUPPORTED_FORMATS}")


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
