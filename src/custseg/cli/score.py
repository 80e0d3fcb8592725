"""``custseg score``: assign new customers to a saved model's segments."""

from __future__ import annotations

import warnings
from pathlib import Path

import typer

import custseg
from custseg.cli._common import app, console, reporting_errors
from custseg.cli._options import SpreadsheetSafe
from custseg.errors import DataWarning

__all__ = ["score"]


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
) -> None:
    """Score new customers: INPUT's rows plus segment, segment_name, distance_to_center.

    Says per column how many missing values were filled in and how many values lie far
    outside the training range (the rule the scoring service uses).
    """
    with reporting_errors(), custseg.io.spreadsheet.spreadsheet_safe(safe):
        custseg.io.paths.check_input_exists(input)
        custseg.io.check_output_file(out, inputs={"input file": input, "model": model})
        fitted = custseg.load_model(model)
        frame = custseg.io.read_table(input)
        X = fitted.feature_matrix(frame, source=str(input))
        checked = custseg.input_checks.check_inputs(fitted, X)
        if strict:
            checked.refuse()
        scored = fitted.predict_matrix(X)
        custseg.io.arrow.write_table_auto(custseg.model.attach_scores(frame, scored), out)
        for sentence in checked.filled_sentences() + checked.outside_sentences():
            warnings.warn(sentence, DataWarning, stacklevel=1)
    counts = scored["segment"].value_counts().sort_index()
    unscored = int(scored["segment"].isna().sum())
    console.print(
        f"Scored {len(frame) - unscored} of {len(frame)} customers into "
        f"{len(counts)} segment(s); wrote {out}"
    )
    names = fitted.segment_names
    for seg, n in counts.items():
        console.print(f"  {int(seg)}  {names.get(int(seg), '')}: {int(n)}")
    if unscored:
        console.print(f"  {unscored} row(s) not scored (see the 'reason' column)")
    if "outlier" in scored and scored["outlier"].any():
        console.print(
            f"  {int(scored['outlier'].sum())} outlier(s), beyond the model's fences: assigned "
            "to their nearest segment (see the 'outlier' column)"
        )
