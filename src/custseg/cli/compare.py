"""``custseg compare``: algorithms × K side by side, with a recommendation."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

import custseg
from custseg.cli._common import app, console, reporting_errors
from custseg.cli._options import IdColumn, InputTable, Scaling, split_list
from custseg.engines import DEFAULT_ALGORITHMS, available_engines

__all__ = ["compare"]


@app.command()
def compare(
    input: InputTable,
    out: Path = typer.Option(Path("custseg-out"), "--out", "-o", help="Folder for compare.csv."),
    algorithms: str = typer.Option(
        ",".join(DEFAULT_ALGORITHMS),
        "--algorithms",
        help="Comma-separated engines, from: " + ", ".join(available_engines()) + ".",
    ),
    k_min: int = typer.Option(2, "--k-min", help="Smallest K compared."),
    k_max: int = typer.Option(10, "--k-max", help="Largest K compared."),
    features: str = typer.Option(None, "--features", help="Feature columns, comma-separated."),
    id_column: IdColumn = None,
    scaling: Scaling = "standard",
    missing: str = typer.Option("impute", "--missing", help="impute | drop | error."),
    stability: int = typer.Option(10, "--stability", help="Bootstrap resamples; 0 = off."),
    seed: int = typer.Option(42, "--seed", help="Random seed."),
) -> None:
    """Compare algorithms and K: writes compare.csv and recommends one combination."""
    with reporting_errors():
        custseg.io.paths.check_input_exists(input)
        custseg.io.check_output_folder(out, inputs={"input file": input}, writes=("compare.csv",))
        result = custseg.segmentation.compare.compare_algorithms(
            input,
            algorithms=split_list(algorithms),
            k_min=k_min,
            k_max=k_max,
            features=split_list(features),
            id_column=id_column,
            scaling=scaling,
            missing=missing,
            stability=stability,
            random_state=seed,
        )
        path = custseg.io.write_csv(result.table, out / "compare.csv")
    table = Table(title="Algorithms × K", title_justify="left", box=None, pad_edge=False)
    heads = (
        "algorithm",
        "k",
        "silhouette",
        "calinski_harabasz",
        "davies_bouldin",
        "stability_mean_jaccard",
        "stability_min_jaccard",
        "unassigned_share",
        "sizes",
    )
    for col in heads:
        table.add_column(
            col.replace("stability_", "stab. ").replace("_", " "),
            justify="left" if col in ("algorithm", "sizes") else "right",
            overflow="fold",  # sizes wrap rather than end in an ellipsis
        )
    for row in result.table.to_dict(orient="records"):
        cells = []
        for col in heads:
            v = row[col]
            cells.append(
                f"{v:.3g}"
                if isinstance(v, float) and v == v
                else ("-" if isinstance(v, float) else str(v))
            )
        if row["recommended"]:
            cells[0] = f"* {cells[0]}"
        table.add_row(*cells)
    console.print(f"Compared on {result.rows_used} rows; features: {', '.join(result.features)}.")
    if result.resamples:
        console.print(
            f"Stability: {result.resamples} bootstrap resamples of {result.stability_rows} of "
            "those rows, the same for every combination."
        )
    console.print(table)
    console.print(f"Recommended (*): {result.reason}.")
    console.print(f"Wrote {path}")
