"""``custseg score``: assign new customers to a saved model's segments."""

from __future__ import annotations

from pathlib import Path

import typer

import custseg
from custseg.cli._common import app, console, reporting_errors

__all__ = ["score"]


@app.command()
def score(
    model: Path = typer.Argument(..., help="model.json written by custseg segment."),
    input: Path = typer.Argument(..., help="Customers to score: CSV, .csv.gz, Parquet or .xlsx."),
    out: Path = typer.Option(..., "--out", "-o", help="Output file (.csv, .csv.gz or .parquet)."),
) -> None:
    """Score new customers: INPUT's rows plus segment, segment_name, distance_to_center."""
    with reporting_errors():
        custseg.io.paths.check_input_exists(input)
        fitted = custseg.load_model(model)
        frame = custseg.io.arrow.read_table_auto(input)  # Arrow for a big file
        scored = fitted.predict(frame, source=str(input))
        custseg.io.arrow.write_table_auto(custseg.model.attach_scores(frame, scored), out)
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
