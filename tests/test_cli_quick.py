"""A plain ``custseg score`` line is run without Typer's parsing, with Typer's exact values.

:mod:`custseg.cli._quick` reads the command's own Typer declaration; these tests
hold its reading to Typer's on the same lines, check that every line it does not
take is left to Typer, and that the console script takes the quick path (no
pydantic imported) with the same output as Typer's path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import pytest
import typer.main
from tests.conftest import run_cli

import custseg
from custseg.cli import app
from custseg.cli._quick import QUICK_COMMANDS, plain_call, quick_command
from custseg.cli.score import score
from custseg.cli.segment import segment


def typer_values(command: str, args: list[str]) -> dict:
    """The keyword arguments Typer passes the command for ``args``."""
    group = typer.main.get_command(app)
    sub = group.get_command(None, command)  # type: ignore[attr-defined]
    with sub.make_context(command, list(args)) as ctx:
        return dict(ctx.params)


PLAIN = [
    ["m.json", "in.csv", "--out", "o.csv"],
    ["m.json", "in.csv", "-o", "o.csv"],
    ["--out=o.csv", "m.json", "in.csv"],
    ["m.json", "--strict", "in.csv", "--out", "dir/o.csv.gz"],
    ["m.json", "in.csv", "--out", "o.parquet", "--spreadsheet-safe", "--batch-rows", "500"],
    ["m.json", "in.csv", "--batch-rows=1", "--out", "o.csv", "--strict"],
]


@pytest.mark.parametrize("args", PLAIN)
def test_plain_line_gives_typers_values(args):
    assert plain_call(score, args) == typer_values("score", args)


@pytest.mark.parametrize(
    "args",
    [
        ["m.json", "in.csv", "--out", "o.csv", "--help"],  # help is Typer's
        ["m.json", "in.csv"],  # a required option missing: Typer words it
        ["m.json", "in.csv", "extra.csv", "--out", "o.csv"],
        ["m.json", "in.csv", "--out", "o.csv", "--out", "p.csv"],
        ["m.json", "in.csv", "--out", "o.csv", "--batch-rows", "0"],  # below min=1
        ["m.json", "in.csv", "--out", "o.csv", "--batch-rows", "1e3"],
        ["m.json", "in.csv", "--out", "o.csv", "--batch-rows"],
        ["m.json", "in.csv", "--out", "o.csv", "--strict=yes"],
        ["m.json", "in.csv", "--out", "o.csv", "--unknown"],
        ["m.json", "in.csv", "--out", "-"],
        ["m.json", "in.csv", "--out", ""],
        ["m.json", "in.csv", "--", "--out", "o.csv"],
    ],
)
def test_other_lines_are_left_to_typer(args):
    assert plain_call(score, args) is None


SEGMENT_PLAIN = [
    ["in.csv"],
    ["in.csv", "--out", "run", "--quiet"],
    ["in.csv", "-o", "run", "-q", "--no-report", "--spreadsheet-safe"],
    ["--k=4", "in.csv", "--stability", "0", "--seed", "7", "--k-min", "3", "--k-max", "8"],
    ["in.csv", "--features", "Age, Annual Income (k$)", "--id-column", "CustomerID"],
    ["in.csv", "--min-segment-share", "0.05", "--missing", "drop", "--algorithm", "gmm"],
    ["in.csv", "--min-segment-share=.5", "--scaling", "robust", "--transform", "none"],
    ["in.csv", "--min-segment-share", "1", "--previous", "old/model.json"],
    ["in.csv", "--k", "auto", "--engine", "spark", "--spark-master", "local[2]"],
    ["in.csv", "--features", "naïve spend,€", "--transactions"],
]


@pytest.mark.parametrize("args", SEGMENT_PLAIN)
def test_plain_segment_line_gives_typers_values(args):
    assert plain_call(segment, args) == typer_values("segment", args)


@pytest.mark.parametrize(
    "args",
    [
        ["in.csv", "--features", ""],  # an empty word
        ["in.csv", "--features", "-Age"],  # a value that looks like an option
        ["in.csv", "--min-segment-share", "5e-2"],
        ["in.csv", "--min-segment-share", "0.5.1"],
        ["in.csv", "--min-segment-share", "nan"],
        ["in.csv", "--seed", "-1"],
        ["in.csv", "--k", "4", "--k", "5"],
        ["in.csv", "--quiet=1"],
    ],
)
def test_other_segment_lines_are_left_to_typer(args):
    assert plain_call(segment, args) is None


def test_only_listed_commands_and_no_root_options(monkeypatch):
    monkeypatch.delenv("CUSTSEG_DEBUG", raising=False)
    line = ["m.json", "in.csv", "--out", "o.csv"]
    assert QUICK_COMMANDS == ("score", "segment")
    assert quick_command(["score", *line]) is not None
    assert quick_command(["segment", "in.csv", "--quiet"]) is not None
    assert quick_command(["--debug", "score", *line]) is None
    assert quick_command(["compare", "in.csv"]) is None
    assert quick_command([]) is None
    monkeypatch.setenv("CUSTSEG_DEBUG", "1")
    assert quick_command(["score", *line]) is None


@pytest.fixture(scope="module")
def model_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("quick")
    custseg.make_customers(80, random_state=1).to_csv(folder / "customers.csv", index=False)
    custseg.segment(folder / "customers.csv", k=3, stability=0, random_state=0).save(folder / "run")
    return folder


def _imports(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip().split(".")[0]
        for line in stderr.splitlines()
        if line.startswith("import time:")
    }


def test_console_script_takes_the_quick_path_with_typers_output(model_run):
    model, table = model_run / "run" / "model.json", model_run / "customers.csv"
    env = {k: v for k, v in os.environ.items() if k != "CUSTSEG_DEBUG"}
    quick = run_cli(
        "score", model, table, "--out", model_run / "quick.csv",
        env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
    )  # fmt: skip
    assert quick.returncode == 0, quick.stderr
    assert "pydantic" not in _imports(quick.stderr)
    # CUSTSEG_DEBUG=0 sends the same line through Typer's parsing (debug stays off).
    typer_run = run_cli(
        "score", model, table, "--out", model_run / "typer.csv",
        env={**env, "CUSTSEG_DEBUG": "0", "PYTHONPROFILEIMPORTTIME": "1"},
    )  # fmt: skip
    assert typer_run.returncode == 0, typer_run.stderr
    assert "pydantic" in _imports(typer_run.stderr)
    assert quick.stdout.replace("quick.csv", "X") == typer_run.stdout.replace("typer.csv", "X")
    assert (model_run / "quick.csv").read_bytes() == (model_run / "typer.csv").read_bytes()


def test_segment_takes_the_quick_path_with_typers_output(model_run):
    table = model_run / "customers.csv"
    line = ["--k", "3", "--stability", "0", "--no-report", "--min-segment-share", "0.02"]
    env = {k: v for k, v in os.environ.items() if k != "CUSTSEG_DEBUG"}
    quick = run_cli(
        "segment", table, *line, "--out", model_run / "by-quick",
        env={**env, "PYTHONPROFILEIMPORTTIME": "1"},
    )  # fmt: skip
    assert quick.returncode == 0, quick.stderr
    assert "pydantic" not in _imports(quick.stderr)
    typer_run = run_cli(
        "segment", table, *line, "--out", model_run / "by-typer",
        env={**env, "CUSTSEG_DEBUG": "0", "PYTHONPROFILEIMPORTTIME": "1"},
    )  # fmt: skip
    assert typer_run.returncode == 0, typer_run.stderr
    assert "pydantic" in _imports(typer_run.stderr)
    assert quick.stdout.replace("by-quick", "X") == typer_run.stdout.replace("by-typer", "X")
    for name in ("segments.csv", "summary.json", "model.json"):
        assert (model_run / "by-quick" / name).read_bytes() == (
            model_run / "by-typer" / name
        ).read_bytes()


def test_quick_path_refuses_bad_input_in_one_line(model_run):
    proc = run_cli(
        "score", model_run / "run" / "model.json", model_run / "absent.csv",
        "--out", model_run / "never.csv",
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"custseg: error: input file '{model_run / 'absent.csv'}' does not exist; check the path"
    )
    assert not (model_run / "never.csv").exists()


def _demo_values(command, args: list[str]) -> dict:
    demo = typer.Typer()
    demo.command()(command)
    with typer.main.get_command(demo).make_context("demo", list(args)) as ctx:
        return dict(ctx.params)


def test_annotated_declarations_read_as_typer_reads_them():
    def run(
        path: Path,  # no Typer declaration: not plain
    ) -> None: ...

    def annotated(
        table: Annotated[Path, typer.Argument(help="t")],
        loud: Annotated[bool, typer.Option("--loud", "-l")] = False,
        rows: Annotated[int | None, typer.Option("--rows", min=2)] = None,
    ) -> None: ...

    def derived(rows: int = typer.Option(3)) -> None: ...  # Typer names the flag

    def pair(report: bool = typer.Option(True, "--report/--no-report")) -> None: ...

    for args in (["t.csv"], ["-l", "t.csv", "--rows", "9"], ["--rows=2", "t.csv", "--loud"]):
        assert plain_call(annotated, args) == _demo_values(annotated, args)
    assert plain_call(annotated, ["t.csv", "--rows", "1"]) is None  # below min: Typer says so
    assert plain_call(run, ["t.csv"]) is None
    assert plain_call(derived, ["--rows", "4"]) is None
    assert plain_call(pair, ["--no-report"]) is None
