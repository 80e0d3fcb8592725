import gzip

import pandas as pd
import pytest

from custseg.errors import DataFormatError, EmptyInputError
from custseg.io import read_table, write_csv, write_json
from custseg.io.readers import sniff_delimiter

ROWS = [["0001", "Female", "19", "15,5"], ["0002", "Male", "21", "16"]]


def _write(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("delim", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, delim):
    text = delim.join(["id", "Gender", "Age", "Income"]) + "\n"
    for row in ROWS:
        text += delim.join(f'"{v}"' if delim in v else v for v in row) + "\n"
    frame = read_table(_write(tmp_path / "t.csv", text))
    assert list(frame.columns) == ["id", "Gender", "Age", "Income"]
    assert frame["id"].tolist() == ["0001", "0002"]
    assert frame["Income"].tolist() == ["15,5", "16"]


def test_values_come_back_exactly_as_written(tmp_path):
    frame = read_table(_write(tmp_path / "t.csv", "id,x,y\n007,1.50,\n008,NA,2e3\n"))
    assert frame.to_dict(orient="list") == {
        "id": ["007", "008"],
        "x": ["1.50", "NA"],
        "y": ["", "2e3"],
    }


def test_bom_crlf_and_no_final_newline(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbfCustomerID,Age\r\n0001,19\r\n0002,21")
    frame = read_table(path)
    assert list(frame.columns) == ["CustomerID", "Age"]
    assert frame["Age"].tolist() == ["19", "21"]


def test_latin1_fallback(tmp_path):
    frame = read_table(
        _write(tmp_path / "t.csv", "name;city\nJosé;Málaga\nAnn;Köln\n", encoding="latin-1")
    )
    assert frame["city"].tolist() == ["Málaga", "Köln"]


def test_gzip_parquet_and_excel(tmp_path):
    df = pd.DataFrame({"id": ["a1", "a2"], "x": [1.0, 2.5], "n": [3, 4]})
    with gzip.open(tmp_path / "t.csv.gz", "wt") as fh:
        df.to_csv(fh, index=False)
    df.to_parquet(tmp_path / "t.parquet")
    df.to_excel(tmp_path / "t.xlsx", index=False)
    for name in ("t.csv.gz", "t.parquet", "t.xlsx"):
        frame = read_table(tmp_path / name)
        assert frame["x"].tolist() == ["1.0", "2.5"] or frame["x"].tolist() == ["1", "2.5"]
        assert frame["n"].tolist() == ["3", "4"]
        assert frame["id"].tolist() == ["a1", "a2"]


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (None, DataFormatError, "does not exist"),
        (b"", DataFormatError, "is empty"),
        (b"id,age\n", EmptyInputError, "header but no data rows"),
        (b"\x00\x01\x02binary", DataFormatError, "binary"),
    ],
)
def test_bad_files(tmp_path, content, error, message):
    path = tmp_path / "t.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(error, match=message):
        read_table(path)


def test_unsupported_format(tmp_path):
    path = tmp_path / "t.json"
    path.write_text("{}")
    with pytest.raises(DataFormatError, match=r"unsupported format '\.json'"):
        read_table(path)


def test_broken_parquet_is_a_clean_error(tmp_path):
    path = tmp_path / "t.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataFormatError, match="as Parquet"):
        read_table(path)


def test_sniff_prefers_consistent_split():
    assert sniff_delimiter("a;b;c\n1,5;2;3\n4;5,5;6\n") == ";"
    assert sniff_delimiter("a,b\n1,2\n") == ","


def test_writes_are_atomic_and_leave_no_temporary_files(tmp_path):
    target = tmp_path / "out" / "x.csv"
    write_csv(pd.DataFrame({"a": [1]}), target)
    with pytest.raises(ValueError):
        write_json({"bad": float("nan")}, tmp_path / "out" / "s.json")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x.csv"]
    assert target.read_text() == "a\n1\n"


def test_outputs_get_ordinary_file_permissions(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        path = write_csv(pd.DataFrame({"a": [1]}), tmp_path / "p.csv")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
