"""``custseg demo``: generate the bundled sample and segment it."""

from __future__ import annotations

from pathlib import Path

import typer

import custseg
from custseg.cli._common import app, console, reporting_errors
from custseg.cli._render import print_result
from custseg.cli.report import write_run_report

__all__ = ["demo"]


@app.command()
def demo(
    out: Path = typer.Option(Path("custseg-demo"), "--out", "-o", help="Output folder."),
    rows: int = typer.Option(200, "--rows", min=3, help="Number of sample customers."),
    seed: int = typer.Option(42, "--seed", help="Random seed of the segmentation."),
) -> None:
    """Generate the sample customer table into OUT/customers.csv and segment it."""
    with reporting_errors():
        customers = custseg.make_customers(rows, random_state=0)
        data_path = custseg.io.write_csv(customers, Path(out) / "customers.csv")
        result = custseg.segment(data_path, random_state=seed)
        paths = result.save(out)
        paths.update(write_run_report(out, result=result))
    print_result(result)
    console.print(f"Sample data: {data_path}")
    for name, path in paths.items():
        console.print(f"{name:>12}: {path}")
