"""Every bad input: one line on stderr, exit code 2, no traceback, nothing written.

The commands run in this process (the CLI's own error boundary, not a copy); the
decompression bomb and the foreign warning run the console script in a child
process under a memory limit.
"""

import gzip
import re
import subprocess
import sys

import pandas as pd
import pytest
from tests.conftest import (
    CUSTSEG_BIN,
    address_space_limit,
    bare_peak_bytes,
    invoke_cli,
    lean_env,
    run_cli,
)

GOOD = "id,Age,Income\n" + "".join(f"{i},{20 + i % 30},{10 + (i * 7) % 50}\n" for i in range(1, 41))


def _file(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


CASES = {
    "missing file": (None, [], "does not exist"),
    "empty file": ("", [], "is empty"),
    "header only": ("id,Age,Income\n", [], "header but no data rows"),
    "unsupported format": (("t.json", "{}"), [], "unsupported format '.json'"),
    "unreadable parquet": (("t.parquet", b"garbage"), [], "could not read"),
    "unknown feature": (
        GOOD,
        ["--features", "Age,Incme"],
        "column 'Incme' not found; did you mean 'Income'?",
    ),
    "no numeric feature": ("id,name\n1,ann\n2,bob\n3,cy\n", [], "no usable numeric feature"),
    "non-numeric value": (
        GOOD.replace("\n5,", "\n5,abc,", 1).replace("abc,25,", "abc,"),
        ["--features", "Age,Income"],
        "column 'Age' in .* must be numeric; found 'abc' at row 5",
    ),
    "entirely empty column": (
        "id,Age,Blank\n1,20,\n2,30,\n3,40,\n4,50,\n",
        ["--features", "Age,Blank"],
        "column 'Blank' is entirely empty",
    ),
    "value that overflows the arithmetic": (
        GOOD.replace("\n7,27,", "\n7,1e160,", 1),
        [],
        r"column 'Age' in .* has a value too large to compute with, '1e160' at row 7",
    ),
    "too few rows": ("id,Age\n1,20\n2,30\n", [], "only 2 usable row"),
    "k above distinct rows": (
        "id,Age\n1,20\n2,20\n3,30\n4,30\n",
        ["--k", "3"],
        "--k 3 is larger than the 2 distinct",
    ),
    "bad k": (GOOD, ["--k", "many"], "--k must be a whole number or 'auto'"),
    "bad scaling": (GOOD, ["--scaling", "zscore"], "--scaling must be one of"),
    "local-only option with another engine": (
        GOOD,
        ["--engine", "chunked", "--transactions"],
        "--engine chunked does not support --transactions; drop it or use --engine local",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_segment_bad_input(tmp_path, case):
    content, extra, message = CASES[case]
    if content is None:
        path = tmp_path / "absent.csv"
    elif isinstance(content, tuple):
        path = _file(tmp_path, *content)
    else:
        path = _file(tmp_path, "in.csv", content)
    before = path.read_bytes() if path.exists() else None
    out = tmp_path / "out"
    proc = invoke_cli("segment", path, "--out", out, *extra)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("custseg: error: ")
    assert "Traceback" not in proc.stderr
    assert re.search(message, lines[0]), lines[0]
    assert not out.exists()
    if before is not None:
        assert path.read_bytes() == before


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("m")
    data = tmp / "train.csv"
    data.write_text(GOOD)
    proc = invoke_cli("segment", data, "--out", tmp / "run", "--k", "3", "--stability", "0")
    assert proc.returncode == 0, proc.stderr
    return tmp / "run" / "model.json"


@pytest.mark.parametrize(
    ("model_content", "message"),
    [
        ('{"some": "json"}', "is not a custseg model"),
        ('{"format": "custseg-model", "schema_version": 7}', "schema version 7"),
        ("\x00garbage", "is not a custseg model"),
    ],
)
def test_score_bad_model(tmp_path, model_content, message):
    model = _file(tmp_path, "model.json", model_content)
    data = _file(tmp_path, "new.csv", GOOD)
    proc = invoke_cli("score", model, data, "--out", tmp_path / "s.csv")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and message in proc.stderr
    assert not (tmp_path / "s.csv").exists()


def test_score_input_missing_a_feature(tmp_path, model_path):
    data = _file(tmp_path, "new.csv", "id,Age\n1,20\n")
    proc = invoke_cli("score", model_path, data, "--out", tmp_path / "s.csv")
    assert proc.returncode == 2
    assert "lacks the model's feature column(s) 'Income'" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert not (tmp_path / "s.csv").exists()


def test_score_refuses_a_value_that_overflows(tmp_path, model_path):
    data = _file(tmp_path, "new.csv", "id,Age,Income\n1,20,30\n2,-2e200,40\n")
    proc = invoke_cli("score", model_path, data, "--out", tmp_path / "s.csv")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "column 'Age' in" in proc.stderr and "'-2e200' at row 2" in proc.stderr
    assert not (tmp_path / "s.csv").exists()


def test_a_foreign_warning_is_one_line_and_the_command_ends(tmp_path):
    # Run apart, under a memory limit: a collector that re-records what it prints
    # grows without end instead of failing.
    code = (
        "import resource, warnings\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from custseg.cli._common import reporting_errors\n"
        "with reporting_errors():\n"
        "    for _ in range(3):\n"
        "        warnings.warn('overflow encountered in square', RuntimeWarning)\n"
        "    warnings.warn('something else', FutureWarning)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stderr.splitlines() == [
        "custseg: warning: RuntimeWarning: overflow encountered in square",
        "custseg: warning: FutureWarning: something else",
    ]


def test_warnings_go_to_stderr_and_the_run_goes_on(tmp_path):
    data = _file(tmp_path, "d.csv", GOOD.replace("\n3,", "\n2,", 1) + "41,,30\n")
    proc = invoke_cli("segment", data, "--out", tmp_path / "o", "--k", "3", "--stability", "0")
    assert proc.returncode == 0, proc.stderr
    assert "custseg: warning: missing values imputed with the column median ('Age': 1)" in (
        proc.stderr
    )
    assert "duplicate value" in proc.stderr
    assert (tmp_path / "o" / "segments.csv").exists()


@pytest.mark.parametrize(
    ("out_name", "message"),
    [
        ("new.csv", r"--out '.*new.csv' is the input file; writing there would replace it"),
        ("model.json", r"--out '.*model.json' is the model; writing there would replace it"),
        ("s.xlsx", r"ends in '.xlsx'; custseg writes tables as .csv, .csv.gz, .parquet, .pq"),
        ("s.json", r"ends in '.json'; custseg writes tables as"),
        ("scored", r"has no extension; custseg writes tables as"),
        (".", r"is a folder; give a file name such as"),
    ],
)
def test_score_refuses_an_output_it_must_not_write(tmp_path, model_path, out_name, message):
    import shutil

    model = shutil.copy(model_path, tmp_path / "model.json")
    data = _file(tmp_path, "new.csv", GOOD)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    proc = invoke_cli("score", model, data, "--out", tmp_path / out_name)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and re.search(message, proc.stderr), proc.stderr
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_segment_refuses_an_output_folder_that_is_a_file_or_holds_its_input(tmp_path):
    data = _file(tmp_path, "d.csv", GOOD)
    notes = _file(tmp_path, "notes.txt", "mine")
    proc = invoke_cli("segment", data, "--out", notes, "--k", "3", "--stability", "0")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert f"--out '{notes}' is a file; give a folder" in proc.stderr
    assert notes.read_text() == "mine"

    run = tmp_path / "run"
    assert invoke_cli("segment", data, "--out", run, "--k", "3", "--stability", "0").returncode == 0
    before = (run / "segments.csv").read_bytes()
    proc = invoke_cli("segment", run / "segments.csv", "--out", run, "--k", "2")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert f"the input file '{run / 'segments.csv'}' is a file of the output folder" in proc.stderr
    assert (run / "segments.csv").read_bytes() == before


def test_features_refuses_an_extension_it_does_not_write(tmp_path):
    log = _file(tmp_path, "log.csv", "customer,date,amount\n1,2024-01-02,5\n")
    proc = invoke_cli("features", log, "--out", tmp_path / "customers.xlsx")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "ends in '.xlsx'; custseg writes tables as" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log.csv"]


def _bomb(path, gigabytes=1):
    """A .csv.gz of about a megabyte that inflates to ``gigabytes`` of CSV text."""
    block = b"1,2,3\n" * ((16 << 20) // 6)
    member = gzip.compress(block, compresslevel=9)  # each member inflates to 16 MB
    with open(path, "wb") as fh:
        fh.write(gzip.compress(b"id,a,b\n"))
        for _ in range(gigabytes * 64):
            fh.write(member)
    return path


def test_a_decompression_bomb_is_refused_before_it_fills_memory(tmp_path):
    bomb = _bomb(tmp_path / "bomb.csv.gz")
    assert bomb.stat().st_size < 2 << 20
    out = tmp_path / "out"
    proc = subprocess.run(
        [str(CUSTSEG_BIN), "segment", str(bomb), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=address_space_limit(4 << 30),
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert proc.stderr.count("\n") == 1
    assert re.search(
        r"'.*bomb.csv.gz' holds more than [\d.,]+ MB of text \(from 1.\d MB on disk\), too much "
        r"to read whole in the [\d.,]+ [MG]B of memory available; split it into smaller files "
        r"\(custseg segment --engine chunked streams a table this size\)",
        proc.stderr,
    ), proc.stderr
    assert not out.exists()


# -- score: a table too big to read whole is scored in batches ---------------------------
@pytest.fixture(scope="module")
def scoring(tmp_path_factory):
    """A model of 40 customers and a table of them to score."""
    tmp = tmp_path_factory.mktemp("scoring")
    data = tmp / "customers.csv"
    data.write_text(GOOD)
    proc = invoke_cli("segment", data, "--out", tmp / "run", "--k", "3", "--no-report")
    assert proc.returncode == 0, proc.stderr
    return tmp / "run" / "model.json", data


def _inflating(path, body: bytes, copies: int):
    """A .csv.gz of ``copies`` times ``body`` (rows without header): tiny, inflating large."""
    member = gzip.compress(body * 1_000, compresslevel=9)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(b"id,Age,Income\n"))
        for _ in range(copies // 1_000):
            fh.write(member)
    return path


def test_score_reads_a_table_too_big_for_memory_in_batches(tmp_path, scoring):
    model, data = scoring
    body = data.read_bytes().split(b"\n", 1)[1]
    bomb = _inflating(tmp_path / "many.csv.gz", body, 20_000)  # 800,000 rows, 15 MB of text
    assert bomb.stat().st_size < 200 << 10
    # What a score run loads before it reads a row, and 100 MB more: reading the table
    # whole takes far more (15 bytes a byte of text), one batch of 100,000 rows far less.
    bare = bare_peak_bytes("custseg.cli, custseg.serving, custseg.model, pyarrow.csv")
    limit = bare + (100 << 20)
    out = tmp_path / "scored.csv"
    proc = subprocess.run(
        [str(CUSTSEG_BIN), "score", str(model), str(bomb), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=lean_env(),
        preexec_fn=address_space_limit(limit),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Scored 800000 of 800000 customers" in proc.stdout
    assert re.search(r"in \d+ batches", proc.stdout), proc.stdout
    # Every row scored as the 40 customers it repeats.
    whole = tmp_path / "whole.csv"
    assert invoke_cli("score", model, data, "--out", whole).returncode == 0
    expected = whole.read_bytes().split(b"\n", 1)
    with open(out, "rb") as fh:
        assert fh.readline() == expected[0] + b"\n"
        assert fh.read() == expected[1] * 20_000


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_score_in_batches_writes_what_scoring_whole_writes(tmp_path, scoring, suffix):
    model, data = scoring
    whole, batched = tmp_path / f"whole{suffix}", tmp_path / f"batched{suffix}"
    assert invoke_cli("score", model, data, "--out", whole).returncode == 0
    proc = invoke_cli("score", model, data, "--out", batched, "--batch-rows", "7")
    assert proc.returncode == 0, proc.stderr
    assert "Scored 40 of 40 customers into 3 segment(s) in 6 batches" in proc.stdout
    if suffix == ".parquet":
        pd.testing.assert_frame_equal(
            pd.read_parquet(whole).astype(str), pd.read_parquet(batched).astype(str)
        )
    else:
        assert pd.read_csv(whole, dtype=str).equals(pd.read_csv(batched, dtype=str))
        if suffix == ".csv":
            assert whole.read_bytes() == batched.read_bytes()


def test_score_in_batches_names_the_row_of_the_table_and_writes_nothing(tmp_path, scoring):
    model, data = scoring
    rows = data.read_text().splitlines()
    rows[33] = rows[33].replace(rows[33].split(",")[1], "n/a!", 1)  # data row 33
    bad = _file(tmp_path, "bad.csv", "\n".join(rows) + "\n")
    out = tmp_path / "scored.csv"
    proc = invoke_cli("score", model, bad, "--out", out, "--batch-rows", "10")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "found 'n/a!' at row 33 (at least 1 such value(s))" in proc.stderr
    # --strict refuses a blank in the last batch before a row is written.
    rows = data.read_text().splitlines()
    rows[40] = ",".join([*rows[40].split(",")[:2], ""])
    gap = _file(tmp_path, "gap.csv", "\n".join(rows) + "\n")
    proc = invoke_cli("score", model, gap, "--out", out, "--batch-rows", "10", "--strict")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert "column 'Income': 1 missing value(s) (first at row 40)" in proc.stderr
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.csv",
        "gap.csv",
    ]


# -- every command: bad input is one line, exit 2; a bug is one line, exit 1 -------------
USAGE_ERRORS = {
    "unknown option": (["segment", "{data}", "--bogus"], "No such option: --bogus"),
    "missing argument": (["score", "{model}"], "Missing argument 'input'"),
    "bad option value": (["score", "{model}", "{data}", "--batch-rows", "0"], "--batch-rows"),
    "unknown command": (["segmnt", "{data}"], "No such command 'segmnt'"),
    "missing input, features": (["features", "{absent}", "--out", "{out}"], "does not exist"),
    "missing input, drift": (["drift", "{model}", "{absent}", "--out", "{out}"], "does not exist"),
    "missing input, compare": (["compare", "{absent}", "--out", "{out}"], "does not exist"),
    "not a run folder, report": (["report", "{absent}"], "does not exist|no run|not a"),
}


@pytest.mark.parametrize("case", list(USAGE_ERRORS))
def test_bad_input_to_any_command_is_one_line_exit_2(tmp_path, scoring, case):
    model, data = scoring
    args, message = USAGE_ERRORS[case]
    names = {"data": data, "model": model, "absent": tmp_path / "absent.csv"}
    names["out"] = tmp_path / "out"
    proc = run_cli(*[a.format(**names) for a in args])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("custseg: error: ") and "Traceback" not in proc.stderr
    assert re.search(message, proc.stderr), proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_an_unexpected_failure_is_one_line_exit_1(tmp_path, scoring):
    model, data = scoring
    # A bug stands in as a RuntimeError from inside the library.
    code = (
        "import sys, custseg.serving\n"
        "def broken(*args, **kwargs):\n"
        "    raise RuntimeError('something custseg did not expect')\n"
        "custseg.serving.score_file = broken\n"
        "from custseg.cli import main\n"
        f"sys.argv = ['custseg', 'score', {str(model)!r}, {str(data)!r}, '--out', "
        f"{str(tmp_path / 'scored.csv')!r}]\n"
        "main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == (
        "custseg: error: internal error: RuntimeError: something custseg did not expect "
        "(rerun with --debug and report it)\n"
    )
    assert not (tmp_path / "scored.csv").exists()


def test_main_imported_by_another_program_leaves_the_end_to_it(monkeypatch, capsys):
    from custseg.cli import main

    # pytest is the program here: main() raises SystemExit, the process goes on.
    monkeypatch.setattr(sys, "argv", ["custseg", "--version"])
    with pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 0
    assert capsys.readouterr().out.startswith("custseg ")


def test_the_console_script_ends_with_its_code_and_all_its_output(tmp_path):
    table = tmp_path / "customers.csv"
    pd.DataFrame({"Age": range(40), "Spend": [i % 7 for i in range(40)]}).to_csv(table)
    done = run_cli("segment", table, "--out", tmp_path / "run", "--k", "2", "--no-report")
    assert done.returncode == 0, done.stderr
    last = done.stdout[done.stdout.rindex("Wrote ") :]  # the last thing printed, all there
    assert last.replace("\n", "").rstrip().endswith("model.json"), done.stdout
    refused = run_cli("segment", tmp_path / "missing.csv", "--out", tmp_path / "other")
    assert refused.returncode == 2
    assert refused.stderr.startswith("custseg: error: ") and refused.stderr.count("\n") == 1
