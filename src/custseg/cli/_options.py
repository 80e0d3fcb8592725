"""Options that several commands take with the same flag, help and meaning."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

import typer

__all__ = [
    "FLAGS",
    "IdColumn",
    "InputTable",
    "Scaling",
    "SpreadsheetSafe",
    "as_flags",
    "split_list",
]

#: The flag that sets each library parameter a message may name
#: (:class:`custseg.options.SegmentOptions` and the commands' own).
FLAGS = {
    "features": "--features",
    "id_column": "--id-column",
    "k": "--k",
    "k_min": "--k-min",
    "k_max": "--k-max",
    "scaling": "--scaling",
    "missing": "--missing",
    "algorithm": "--algorithm",
    "random_state": "--seed",
    "stability": "--stability",
    "transform": "--transform",
    "min_segment_share": "--min-segment-share",
}
# ``name=value``: a quoted string, or a token up to a space or punctuation.
_ASSIGNMENT = re.compile(r"(?<![\w.-])([a-z_]+)=(?:'([^']*)'|\"([^\"]*)\"|([^\s,;:)]+))")

#: The customer table a command reads (``segment``, ``compare``).
InputTable = Annotated[Path, typer.Argument(help="Customer table: CSV, .csv.gz, Parquet or .xlsx.")]
#: ``--id-column``; None detects it.
IdColumn = Annotated[str | None, typer.Option("--id-column", help="The customer ID column.")]
#: ``--scaling``; checked by the library, which names the allowed values.
Scaling = Annotated[str, typer.Option("--scaling", help="standard | robust | minmax | none.")]
#: ``--spreadsheet-safe``: CSV cells a spreadsheet would run as formulas are neutralised.
SpreadsheetSafe = Annotated[
    bool,
    typer.Option(
        "--spreadsheet-safe",
        help="Put a ' before CSV cells and names starting with = + - @ (not numbers), so "
        "that Excel and other spreadsheets show them as text instead of running them.",
    ),
]


def split_list(value: str | None) -> list[str] | None:
    """``"a, b,"`` → ``["a", "b"]``; None or blank → None (the command's default)."""
    if value is None or not value.strip():
        return None
    return [name.strip() for name in value.split(",") if name.strip()]


def as_flags(message: str, parameters: Iterable[str] = ()) -> str:
    """A library message with its option names spelled as this CLI's flags.

    ``name=value`` becomes ``--flag value`` for every known parameter; a bare
    ``name`` becomes ``--flag`` only for the ``parameters`` the error lists (see
    :attr:`custseg.errors.InputError.parameters`), so that the same word in its
    ordinary sense ("missing values") is left alone.
    """

    def assignment(match: re.Match[str]) -> str:
        flag = FLAGS.get(match[1])
        if flag is None:
            return match[0]
        value = next(v for v in match.groups()[1:] if v is not None)
        return f"{flag} {value}"

    message = _ASSIGNMENT.sub(assignment, message)
    for name in parameters:
        if name in FLAGS:
            bare = re.compile(rf"(?<![\w/.\\'\"=-]){re.escape(name)}(?![\w/.\\'\"=-])")
            message = bare.sub(FLAGS[name], message)
    return message
