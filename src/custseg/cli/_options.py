"""Options that several commands take with the same flag, help and meaning."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["IdColumn", "InputTable", "Scaling", "split_list"]

#: The customer table a command reads (``segment``, ``compare``).
InputTable = Annotated[Path, typer.Argument(help="Customer table: CSV, .csv.gz, Parquet or .xlsx.")]
#: ``--id-column``; None detects it.
IdColumn = Annotated[str, typer.Option("--id-column", help="The customer ID column.")]
#: ``--scaling``; checked by the library, which names the allowed values.
Scaling = Annotated[str, typer.Option("--scaling", help="standard | robust | minmax | none.")]


def split_list(value: str | None) -> list[str] | None:
    """``"a, b,"`` → ``["a", "b"]``; None or blank → None (the command's default)."""
    if value is None or not value.strip():
        return None
    return [name.strip() for name in value.split(",") if name.strip()]
