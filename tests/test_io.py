import gzip

import pandas as pd
import pytest

from custseg.errors import DataFormatError, EmptyInputError
from custseg.io import read_table, write_csv, write_json
from custseg.io.sniff import sniff_delimiter

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


# -- one decoding for the whole file, whichever reader reads it ------------------------


def _readers():
    """Every reader of a customer table or log, as a function returning a DataFrame."""
    from custseg.io.arrow import iter_batches, read_table_fast
    from custseg.io.transactions import read_transactions

    def batches(path):
        return pd.concat([b.to_pandas() for b in iter_batches(path)], ignore_index=True)

    def as_text(frame):
        return frame.astype(object).where(frame.notna(), "").astype(str)

    return {
        "read_table": read_table,
        "read_table_fast": lambda p: as_text(read_table_fast(p)),
        "iter_batches": lambda p: as_text(batches(p)),
        "read_transactions": lambda p: as_text(read_transactions(p)),
    }


READERS = list(_readers())


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_with_a_byte_order_mark_are_read(tmp_path, reader, encoding):
    text = "id,name,city\n1,Zoë,Köln\n2,Ann,Málaga\n"
    bom = {"utf-16-be": b"\xfe\xff", "utf-32-be": b"\x00\x00\xfe\xff"}.get(encoding, b"")
    path = tmp_path / "t.csv"
    path.write_bytes(bom + text.encode(encoding))
    frame = _readers()[reader](path)
    assert list(frame.columns) == ["id", "name", "city"]
    assert frame["name"].tolist() == ["Zoë", "Ann"]
    assert frame["city"].tolist() == ["Köln", "Málaga"]


def _late(tmp_path, tail: bytes, head: str = ""):
    """A file whose first non-ASCII byte comes after the first 64 KB."""
    rows = "".join(f"{i},Ann,{i % 50}\n" for i in range(1, 8000))
    path = tmp_path / "t.csv"
    path.write_bytes(("id,name,age\n" + head + rows).encode("utf-8") + tail)
    assert path.stat().st_size > 70_000
    return path


@pytest.mark.parametrize("reader", READERS)
def test_the_encoding_is_decided_once_for_the_whole_file(tmp_path, reader):
    read = _readers()[reader]
    late_utf8 = read(_late(tmp_path, "9000,Zoë,30\n".encode()))
    assert late_utf8["name"].iloc[-1] == "Zoë"
    late_latin1 = read(_late(tmp_path, "9000,José,30\n".encode("latin-1")))
    assert late_latin1["name"].iloc[-1] == "José"
    assert (late_latin1["name"].iloc[:-1] == "Ann").all()


@pytest.mark.parametrize("reader", READERS)
def test_a_file_mixing_encodings_is_refused_naming_line_and_byte(tmp_path, reader):
    path = _late(tmp_path, "9000,José,30\n".encode("latin-1"), head="1,Zoë,20\n")
    with pytest.raises(DataFormatError, match=r"mixes text encodings: line 8,002 holds the byte"):
        _readers()[reader](path)


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("end", [b"\n", b"\r\n"])
def test_a_carriage_return_inside_a_row_never_splits_a_customer(tmp_path, reader, end):
    path = tmp_path / "t.csv"
    path.write_bytes(end.join([b"id,name,age", b"1,Ann\r,30", b"2,Bob,40", b"3,Cy,50"]) + end)
    frame = _readers()[reader](path)
    assert frame["id"].tolist() == ["1", "2", "3"]
    assert frame["name"].tolist() == ["Ann\r", "Bob", "Cy"]
    assert frame["age"].tolist() == ["30", "40", "50"]  # no "\r" left from "\r\n"
    assert list(frame.columns) == ["id", "name", "age"]


@pytest.mark.parametrize("reader", READERS)
def test_duplicate_column_names_are_refused_naming_them(tmp_path, reader):
    path = tmp_path / "t.csv"
    path.write_bytes(b"id,Milk,Fresh,Milk,Grocery\n1,2,3,4,5\n")
    with pytest.raises(
        DataFormatError, match=r"duplicate column names: 'Milk' \(columns 2, 4\); rename them"
    ):
        _readers()[reader](path)


def test_duplicate_column_names_in_excel_are_refused(tmp_path):
    path = tmp_path / "t.xlsx"
    pd.DataFrame([[1, 2, 3]], columns=["id", "Milk", "Milk "]).to_excel(path, index=False)
    with pytest.raises(DataFormatError, match=r"duplicate column names: 'Milk' \(columns 2, 3\)"):
        read_table(path)


def test_a_header_longer_than_the_sample_is_read_whole(tmp_path):
    from custseg.io.arrow import read_table_fast

    names = [f"column_{i:05d}" for i in range(6000)]  # a header of about 80 KB
    path = tmp_path / "t.csv"
    path.write_text(",".join(names) + "\n" + ",".join(["1"] * 6000) + "\n")
    for read in (read_table, read_table_fast):
        frame = read(path)
        assert list(frame.columns) == names and frame.shape == (1, 6000)


@pytest.mark.parametrize("reader", ["read_table_fast", "iter_batches"])
def test_a_value_longer_than_the_fast_readers_block_is_read(tmp_path, reader):
    rows = "".join(f"{i},short,{i % 50}\n" for i in range(3, 200_000))  # past a block
    note = "x" * (17 << 20)
    path = tmp_path / "t.csv"
    path.write_text(f"id,note,age\n{rows}2,{note},40\n1,short,30\n")
    frame = _readers()[reader](path)
    assert len(frame) == 199_999
    assert frame["id"].iloc[-2:].tolist() == ["2", "1"]
    assert len(frame["note"].iloc[-2]) == len(note)


def test_a_ragged_row_is_named_by_every_reader(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("id,age\n" + "".join(f"{i},{i}\n" for i in range(1, 300_000)) + "7,8,9\n")
    for read in _readers().values():
        with pytest.raises(DataFormatError, match=r"Expected 2 fields in line 300001, saw 3"):
            read(path)


def test_too_many_columns_is_one_line(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text(",".join(f"c{i}" for i in range(100_000)) + "\n" + "1," * 99_999 + "1\n")
    with pytest.raises(DataFormatError, match=r"has 100,000 columns, more than the 10,000"):
        read_table(path)


def test_rows_longer_than_the_header_are_not_taken_as_an_index(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b\n1,2,3,4\n5,6,7,8\n")
    with pytest.raises(DataFormatError, match=r"the first rows have more fields than the header"):
        read_table(path)
