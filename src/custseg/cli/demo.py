"""``custseg demo``: generate the bundled sample and segment it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

import custseg
from custseg.cli._common import app, console, reporting_errors
from custseg.cli._render import print_result
from custseg.cli.report import write_run_report
from custseg.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["demo"]


def _write_sample(customers: pd.DataFrame, path: Path) -> Path:
    """Write the sample to ``path`` unless that would replace a file of the user's.

    The sample is custseg's when the folder is a demo run (its manifest says so)
    or the file already holds the same bytes.
    """
    text = customers.to_csv(index=False, lineterminator="\n")
    ours = not path.is_file() or custseg.io.runs.run_command(path.parent) == "demo"
    if not ours and path.read_bytes() != text.encode("utf-8"):
        raise InputError(
            f"'{path}' exists and is not custseg's sample; choose another --out so that it is kept"
        )
    return custseg.io.write_text(text, path)


@app.command()
def demo(
    out: Path = typer.Option(Path("custseg-demo"), "--out", "-o", help="Output folder."),
    rows: int = typer.Option(200, "--rows", min=3, help="Number of sample customers."),
    seed: int = typer.Option(42, "--seed", help="Random seed of the segmentation."),
) -> None:
    """Generate the sample customer table into OUT/customers.csv and segment it."""
    with reporting_errors():
        custseg.io.check_output_folder(out, inputs={})
        customers = custseg.make_customers(rows, random_state=0)
        data_path = _write_sample(customers, Path(out) / "customers.csv")
        result = custseg.segment(data_path, random_state=seed)
        with custseg.io.RunWriter(out, command="demo", inputs=[data_path]) as run:
            paths = result.write(run)
            paths.update(write_run_report(run.staging, result=result))
        paths = {name: run.final(path) for name, path in paths.items()}
    print_result(result)
    console.print(f"Sample data: {data_path}")
    for name, path in paths.items():
        console.print(f"{name:>12}: {path}")
