"""``custseg score``: assign new customers to a saved model's segments."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

import custseg
from custseg.cli._ahead import read_while_importing
from custseg.cli._common import app, console, reporting_errors
from custseg.cli._options import SpreadsheetSafe
from custseg.errors import DataWarning

__all__ = ["score"]

# What scoring a file imports (pandas most of all), imported beside the reading ahead.
_SCORING_MODULES = ("custseg.io.outputs", "custseg.serving")


@app.command()
def score(
    model: Path = typer.Argument(..., help="model.json written by custseg segment."),
    input: Path = typer.Argument(..., help="Customers to score: CSV, .csv.gz, Parquet or .xlsx."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.csv, .csv.gz or .parquet)."),
    strict: bool = typer.Option(
        False,
        "--strict",
        help="Refuse (exit 2) a missing value the model would fill with its training median, "
        "and a value far outside the training range, instead of warning.",
    ),
    safe: SpreadsheetSafe = False,
    batch_rows: int | None = typer.Option(
        None,
        "--batch-rows",
        min=1,
        help="Read INPUT in batches of about this many rows, never whole (memory bounded by "
        "the batch). Default: whole when it fits in memory, else batches of 100,000 rows.",
    ),
) -> None:
    """Score new customers: INPUT's rows plus segment, segment_name, distance_to_center.

    Says per column how many missing values were filled in and how many values lie far
    outside the training range (the rule the scoring service uses). A table too big to
    read whole (a .csv.gz that inflates to gigabytes) is scored in batches.
    """
    with reporting_errors(), custseg.io.spreadsheet.spreadsheet_safe(safe):
        custseg.io.paths.check_input_exists(input)
        if batch_rows is None:
            read_while_importing(input, _SCORING_MODULES)
        custseg.io.check_output_file(out, inputs={"input file": input, "model": model})
        fitted = custseg.load_model(model)
        done = custseg.serving.score_file(fitted, input, out, strict=strict, batch_rows=batch_rows)
        checked = done.check
        for sentence in checked.filled_sentences() + checked.outside_sentences():
            warnings.warn(sentence, DataWarning, stacklevel=1)
    batches = f" in {done.batches} batches" if done.batches > 1 else ""
    console.print(
        f"Scored {done.rows - done.unscored} of {done.rows} customers into "
        f"{len(done.sizes)} segment(s){batches}; wrote {out}"
    )
    names = fitted.segment_names
    for seg, n in done.sizes.items():
        console.print(f"  {seg}  {names.get(seg, '')}: {n}")
    if done.unscored:
        console.print(f"  {done.unscored} row(s) not scored (see the 'reason' column)")
    if done.outliers:
        console.print(
            f"  {done.outliers} outlier(s), beyond the model's fences: assigned "
            "to their nearest segment (see the 'outlier' column)"
        )
