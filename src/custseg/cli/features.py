"""``custseg features``: a transaction log in, one row of behaviour features per customer out."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

import custseg
from custseg.cli._common import app, console, reporting_errors
from custseg.cli._options import SpreadsheetSafe

if TYPE_CHECKING:
    from custseg.transactions.clv_process import ClvProcess

__all__ = ["features", "print_features_report"]

SUMMARY_NAME = "features_summary.json"


def print_features_report(report: dict[str, Any]) -> None:
    """Print column roles, cleaning counts, customers, RFM segments and the CLV status."""
    roles = Table(title="Columns", title_justify="left", box=None, pad_edge=False)
    for col in ("role", "column", "found by"):
        roles.add_column(col)
    for role, column in report["columns"].items():
        if column is not None:
            roles.add_row(role, column, report["columns_detected_by"].get(role, ""))
    console.print(roles)

    cleaning = report["cleaning"]
    rules = Table(
        title=f"Cleaning ({cleaning['lines_in']:,} lines in, as of {report['as_of']})",
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    for col, justify in (("rule", "left"), ("lines", "right"), ("action", "left")):
        rules.add_column(col, justify=justify)  # type: ignore[arg-type]
    for rule in cleaning["rules"]:
        example = ""
        if rule["lines"] and rule["examples"] and "value" in rule["examples"][0]:
            first = rule["examples"][0]
            example = f"  e.g. row {first['row']}: {first['value']!r}"
        rules.add_row(rule["rule"], f"{rule['lines']:,}", rule["action"] + example)
    console.print(rules)
    formats = cleaning["date_formats"]
    if cleaning["mixed_date_formats"]:
        listed = ", ".join(f"{fmt} ({n:,})" for fmt, n in formats.items())
        console.print(f"Mixed date formats found: {listed}")
    for column, info in cleaning["amount_text"].items():
        first = info["examples"][0]
        console.print(
            f"Numbers written as text in '{column}': {info['values']:,} parsed "
            f"(e.g. row {first['row']}: {first['value']!r})"
        )
    customers = report["customers"]
    console.print(
        f"Purchases {cleaning['purchases']:,}, returns {cleaning['returns']:,}; "
        f"customers: {customers['with_purchase']:,} with a purchase of "
        f"{customers['in_log']:,} in the log ({customers['without_purchase']:,} without "
        "a valid purchase are not in the output)"
    )
    segments = ", ".join(f"{name} {n:,}" for name, n in report["rfm_segments"].items())
    console.print(f"RFM segments: {segments}")
    clv = report["clv"]
    if clv["status"] == "fitted":
        console.print(
            f"Lifetime value: {clv['models']}, {clv['horizon_months']} months ({clv['library']})"
        )
    else:
        console.print(f"Lifetime value: not computed, {clv['reason']}")


@contextlib.contextmanager
def clv_helper(wanted: bool | None) -> Iterator[ClvProcess | None]:
    """A helper process importing the lifetime-value models, when they may be fitted."""
    if wanted is False or not custseg.transactions.clv_available():
        yield None
        return
    from custseg.cli._early import take_clv_helper
    from custseg.transactions.clv_process import ClvProcess

    # The one the console script started, when it did (it started earlier).
    with take_clv_helper() or ClvProcess() as process:
        yield process


@app.command()
def features(
    transactions: Path = typer.Argument(
        ..., help="Transaction log: CSV, .csv.gz, Parquet or .xlsx, one line per item."
    ),
    out: Path = typer.Option(
        Path("customers.csv"),
        "--out",
        "-o",
        help=f"Output table (.csv, .csv.gz or .parquet); {SUMMARY_NAME} goes beside it.",
    ),
    customer_col: str = typer.Option(None, "--customer-col", help="Customer ID column."),
    date_col: str = typer.Option(None, "--date-col", help="Date (or date-time) column."),
    amount_col: str = typer.Option(
        None, "--amount-col", help="Line value column (instead of quantity x price)."
    ),
    quantity_col: str = typer.Option(None, "--quantity-col", help="Quantity column."),
    price_col: str = typer.Option(None, "--price-col", help="Unit price column."),
    invoice_col: str = typer.Option(
        None, "--invoice-col", help="Order / invoice column ('C...' marks a cancellation)."
    ),
    product_col: str = typer.Option(None, "--product-col", help="Product / SKU column."),
    category_col: str = typer.Option(
        None, "--category-col", help="Categorical column (e.g. Country): most frequent value."
    ),
    as_of: str = typer.Option(
        None,
        "--as-of",
        help="Use only lines before this date (YYYY-MM-DD). Default: the day after the last.",
    ),
    horizon: int = typer.Option(12, "--horizon", help="Lifetime-value horizon in months."),
    clv: bool = typer.Option(
        None,
        "--clv/--no-clv",
        help="Add lifetime value (needs custseg[clv]). Default: when installed.",
        show_default=False,
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only where files went."),
    safe: SpreadsheetSafe = False,
) -> None:
    """Per-customer behaviour from a transaction log: RFM, tenure, returns, lifetime value."""
    with reporting_errors():
        custseg.io.paths.check_input_exists(transactions)
        # Started first, so the model libraries load while the log is read.
        with clv_helper(clv) as process, custseg.io.spreadsheet.spreadsheet_safe(safe):
            summary_path = out.parent / SUMMARY_NAME
            custseg.io.check_output_file(out, inputs={"transaction log": transactions})
            custseg.io.check_output_file(
                summary_path,
                inputs={"transaction log": transactions, "--out table": out},
                table=False,
            )
            log = custseg.io.transactions.read_transactions(transactions)
            table, report = custseg.transactions.build_customer_features(
                log,
                customer_col=customer_col,
                date_col=date_col,
                amount_col=amount_col,
                quantity_col=quantity_col,
                price_col=price_col,
                invoice_col=invoice_col,
                product_col=product_col,
                category_col=category_col,
                as_of=as_of,
                horizon=horizon,
                clv="auto" if clv is None else clv,
                clv_process=process,
            )
            custseg.io.write_table(table, out)
            custseg.io.write_json(report, summary_path)
    if not quiet:
        print_features_report(report)
    console.print(f"Wrote {out} ({len(table):,} customers) and {summary_path}")
