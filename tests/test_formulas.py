"""Cells a spreadsheet would run as formulas: kept byte for byte and warned, or neutralised."""

import warnings

import pandas as pd
import pytest
from tests.conftest import invoke_cli

from custseg.errors import CustsegWarning
from custseg.io import write_csv, write_table
from custseg.io.arrow import CsvAppender, write_csv_fast
from custseg.io.formulas import formula_mask, spreadsheet_safe

FRAME = pd.DataFrame(
    {
        "id": ["1", "2", "3", "4", "5"],
        "note": ['=HYPERLINK("http://x","y")', "-3.5", "+1 555 0100", "ok", "-"],
        "@who": ["a", "+12", "c", "@SUM(A1)", "\tx"],
        "spend": [1.5, -2.0, 3.0, 4.0, 5.0],
    }
)


def test_only_text_that_is_not_a_number_counts():
    assert formula_mask(FRAME["note"]).tolist() == [True, False, True, False, True]
    assert formula_mask(FRAME["@who"]).tolist() == [False, False, False, True, True]
    assert not formula_mask(FRAME["spend"]).any()  # -2.0 is a number
    arrow = FRAME["note"].astype(pd.ArrowDtype(__import__("pyarrow").string()))
    assert formula_mask(arrow).tolist() == [True, False, True, False, True]
    categories = FRAME["note"].astype("category")
    assert formula_mask(categories).tolist() == [True, False, True, False, True]
    assert not formula_mask(pd.Series(pd.Categorical([None, "ok"]))).any()


def _writers():
    def appender(frame, path):
        out = CsvAppender(path, list(frame.columns))
        out.write(frame.iloc[:2])
        out.write(frame.iloc[2:])
        return out.close()

    return {"write_csv": write_csv, "fast": write_csv_fast, "appender": appender}


@pytest.mark.parametrize("writer", list(_writers()))
def test_by_default_cells_are_written_as_they_are_with_one_warning(tmp_path, writer):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _writers()[writer](FRAME, tmp_path / "segments.csv")
    assert pd.read_csv(tmp_path / "segments.csv", dtype=str, keep_default_na=False).equals(
        FRAME.astype(str)
    )
    [warning] = [w for w in caught if issubclass(w.category, CustsegWarning)]
    assert str(warning.message).startswith(
        "segments.csv holds 5 cell(s) (first: column 'note', row 1, '=HYPERLINK(\"http://x\","
    )
    assert "and column name(s) '@who' starting with =, +, -, @" in str(warning.message)
    assert "--spreadsheet-safe" in str(warning.message)


@pytest.mark.parametrize("writer", list(_writers()))
def test_spreadsheet_safe_puts_a_quote_before_formula_cells_only(tmp_path, writer):
    with warnings.catch_warnings(record=True) as caught, spreadsheet_safe():
        warnings.simplefilter("always")
        _writers()[writer](FRAME, tmp_path / "segments.csv")
    assert caught == []
    back = pd.read_csv(tmp_path / "segments.csv", dtype=str, keep_default_na=False)
    assert list(back.columns) == ["id", "note", "'@who", "spend"]
    assert back["note"].tolist() == ["'" + FRAME["note"][0], "-3.5", "'+1 555 0100", "ok", "'-"]
    assert back["'@who"].tolist() == ["a", "+12", "c", "'@SUM(A1)", "'\tx"]
    assert back["spend"].tolist() == ["1.5", "-2.0", "3.0", "4.0", "5.0"]


@pytest.mark.parametrize("safe", [False, True])
def test_fast_writer_in_chunks_writes_and_warns_as_pandas(tmp_path, monkeypatch, safe):
    from custseg.io import arrow

    monkeypatch.setattr(arrow, "_WRITE_CHUNK_ROWS", 2)  # formula cells in every chunk
    messages = {}
    for name, writer in (("pandas", write_csv), ("chunks", write_csv_fast)):
        with warnings.catch_warnings(record=True) as caught, spreadsheet_safe(safe):
            warnings.simplefilter("always")
            writer(FRAME, tmp_path / f"{name}.csv")
        messages[name] = [
            str(w.message).replace(f"{name}.csv", "X")
            for w in caught
            if issubclass(w.category, CustsegWarning)
        ]
    assert (tmp_path / "chunks.csv").read_bytes() == (tmp_path / "pandas.csv").read_bytes()
    assert messages["chunks"] == messages["pandas"]
    assert len(messages["pandas"]) == (0 if safe else 1)


def test_pieces_checked_out_of_order_name_the_earliest_cell(tmp_path):
    from custseg.io.formulas import FormulaWatch

    frame = pd.DataFrame({"a": ["x", "y", "z", "=late"], "b": ["q", "+early", "r", "s"]})
    watch = FormulaWatch(tmp_path / "out.csv", safe=False)
    watch.check_at(frame.iloc[2:], 2)  # the later piece first, as a thread may
    watch.check_at(frame.iloc[:2], 0)
    assert watch.cells == 2
    assert watch.first == ("b", 2, "+early")


def test_gzip_and_parquet_tables(tmp_path):
    with spreadsheet_safe():
        write_table(FRAME, tmp_path / "t.csv.gz")
        write_table(FRAME, tmp_path / "t.parquet")
    assert pd.read_csv(tmp_path / "t.csv.gz", dtype=str)["note"][0].startswith("'=")
    assert pd.read_parquet(tmp_path / "t.parquet").equals(FRAME)  # not a spreadsheet format


def test_segment_and_score_warn_and_neutralise_on_request(tmp_path):
    rows = [f"{i},{20 + i % 30},{10 + (i * 7) % 50},Ann" for i in range(1, 41)]
    rows[4] = '5,24,45,"=HYPERLINK(""http://evil"",""x"")"'
    data = tmp_path / "d.csv"
    data.write_text("id,Age,Income,Name\n" + "\n".join(rows) + "\n")
    # With the report: segments.csv is then written on a thread of its own.
    args = ("--k", "3", "--stability", "0")
    plain = invoke_cli("segment", data, "--out", tmp_path / "plain", *args)
    assert plain.returncode == 0, plain.stderr
    assert (
        "custseg: warning: segments.csv holds 1 cell(s) (first: column 'Name', row 5, "
        '\'=HYPERLINK("http://evil","x")\') starting with =, +, -, @'
    ) in plain.stderr
    text = (tmp_path / "plain" / "segments.csv").read_text()
    assert '"=HYPERLINK(""http://evil"",""x"")"' in text

    safe = invoke_cli("segment", data, "--out", tmp_path / "safe", *args, "--spreadsheet-safe")
    assert safe.returncode == 0 and "formulas" not in safe.stderr
    assert (
        '"\'=HYPERLINK(""http://evil"",""x"")"' in (tmp_path / "safe" / "segments.csv").read_text()
    )

    model = tmp_path / "plain" / "model.json"
    scored = invoke_cli("score", model, data, "--out", tmp_path / "s.csv", "--spreadsheet-safe")
    assert scored.returncode == 0, scored.stderr
    assert pd.read_csv(tmp_path / "s.csv", dtype=str)["Name"][4].startswith("'=HYPERLINK")


def test_a_repetitive_text_column_is_judged_per_distinct_value_as_cell_by_cell():
    names = ["Young · High spend", "=cmd", "-3.5", None, "@x", "ok"] * 400
    few = pd.Series(names, dtype=object)
    expected = [n is not None and n[0] in "=@" for n in names]
    assert formula_mask(few).tolist() == expected
    # Many distinct values (no shortcut) and unhashable ones give the same verdicts.
    many = pd.Series([*names, *(f"id{i}" for i in range(2000))], dtype=object)
    assert formula_mask(many).tolist() == [*expected, *[False] * 2000]
    mixed = pd.Series([["=a"], "=b", 3, float("nan"), "-1"], dtype=object)
    assert formula_mask(mixed).tolist() == [False, True, False, False, False]
