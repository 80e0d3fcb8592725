"""Check an output path before anything is read, computed or written.

A command refuses, in one line, an output that would replace one of its own
inputs (the table, the model), a file where a folder is expected and the other
way round, and a file extension custseg does not write.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from custseg.errors import InputError
from custseg.io.runs import read_manifest
from custseg.io.writers import table_format

__all__ = ["check_output_file", "check_output_folder"]


def _same(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` name the same file (or would, once created)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _check_not_inputs(path: Path, inputs: Mapping[str, Path | None], option: str) -> None:
    for what, source in inputs.items():
        if source is not None and _same(path, Path(source)):
            raise InputError(
                f"{option} '{path}' is the {what}; writing there would replace it: "
                "choose another name"
            )


def check_output_file(
    path: str | Path,
    *,
    inputs: Mapping[str, Path | None],
    option: str = "--out",
    table: bool = True,
) -> Path:
    """Check a single output file before a command runs.

    Parameters
    ----------
    path : str or Path
        Where the command will write.
    inputs : mapping of str to Path
        What the command reads, by what it is (``{"input file": ..., "model": ...}``).
    option : str, default="--out"
        How the path was given, for the message.
    table : bool, default=True
        The output is a table: its extension must be one custseg writes
        (:data:`custseg.io.writers.TABLE_FORMATS`).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        ``path`` is a folder, is one of ``inputs``, or has an extension custseg
        does not write.
    """
    path = Path(path)
    if path.is_dir():
        example = path / "scored.csv"
        raise InputError(f"{option} '{path}' is a folder; give a file name such as '{example}'")
    _check_not_inputs(path, inputs, option)
    if table:
        table_format(path, option=option)
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{option} '{path}': '{parent}' is a file, not a folder")
            break
    return path


def check_output_folder(
    path: str | Path,
    *,
    inputs: Mapping[str, Path | None],
    writes: tuple[str, ...] = (),
    option: str = "--out",
) -> Path:
    """Check an output folder before a command runs.

    Parameters
    ----------
    path : str or Path
    inputs : mapping of str to Path
        What the command reads, by what it is.
    writes : tuple of str, default=()
        Files the command writes into the folder (besides a run's own files,
        which the folder's manifest lists).
    option : str, default="--out"

    Raises
    ------
    InputError
        ``path`` is a file, or an input is a file the command would replace or
        remove: one it writes, or one an earlier run listed in the folder's
        manifest.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(
            f"{option} '{path}' is a file; give a folder (the command writes several files)"
        )
    if not path.is_dir():
        return path
    names = set(writes) | set(read_manifest(path) or {})
    for what, source in inputs.items():
        if source is None:
            continue
        for name in names:
            if _same(path / name, Path(source)):
                raise InputError(
                    f"the {what} '{source}' is a file of the output folder '{path}' that the "
                    f"run would replace; copy it elsewhere or choose another {option}"
                )
    return path
