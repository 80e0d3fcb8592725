"""The fast path for big tables gives the same bytes and values as the core path."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import custseg
from custseg.errors import DataWarning, SchemaError
from custseg.features import large as scale
from custseg.features.large import detect_roles_fast, feature_matrix
from custseg.features.roles import detect_roles
from custseg.features.selection import drop_constant_features
from custseg.io import arrow, read_table, write_csv
from custseg.io.arrow import read_table_fast, write_csv_fast


def _bytes_both(frame: pd.DataFrame, tmp_path) -> tuple[bytes, bytes]:
    write_csv(frame, tmp_path / "pandas.csv")
    write_csv_fast(frame, tmp_path / "arrow.csv")
    return (tmp_path / "pandas.csv").read_bytes(), (tmp_path / "arrow.csv").read_bytes()


def test_fast_writer_matches_pandas_on_awkward_values(tmp_path):
    frame = pd.DataFrame(
        {
            "id, with comma": ["0001", "a,b", 'say "hi"', "line\nbreak", "", "ünïcode", "cr\r"],
            "Int": pd.array([1, None, -3, 0, 2**40, 7, None], dtype="Int64"),
            "int": np.array([1, -2, 3, 0, 5, 6, 7], dtype="int64"),
            "float": [1.0, 1e-05, 2.5e20, np.nan, -0.0, 1 / 3, 123456789012345.0],
            "big": [1e16, 1e15, 9.99e12, 1e-4, 0.5, np.inf, -np.inf],
            "flag": [True, False, True, True, False, False, True],
            "arrow": pd.array(
                ["x", None, "y,z", "", "0", "q", None], dtype=pd.ArrowDtype(pa.string())
            ),
        }
    )
    pandas_bytes, arrow_bytes = _bytes_both(frame, tmp_path)
    assert arrow_bytes == pandas_bytes


def test_fast_writer_matches_pandas_on_segment_names_as_categories(tmp_path):
    from custseg.model import segment_name_categories, segment_name_column

    segment = pd.array([0, 1, None, 2, 7, 0, 3, 1], dtype="Int64")
    names = {0: "Older · Low income", 1: 'a, "quoted" name', 2: "=SUM(A1)", 3: "Older · Low income"}
    categories = pd.Series(segment_name_categories(segment, names))
    # The same text as the plain names: an unknown id and a missing one give "".
    assert categories.astype(object).tolist() == segment_name_column(segment, names).tolist()
    frame = pd.DataFrame({"segment": segment, "segment_name": categories, "n": range(8)})
    pandas_bytes, arrow_bytes = _bytes_both(frame, tmp_path)
    assert arrow_bytes == pandas_bytes
    as_text = frame.assign(segment_name=categories.astype(object))
    assert _bytes_both(as_text, tmp_path)[0] == pandas_bytes


def test_fast_writer_matches_pandas_on_adjacent_few_valued_columns(tmp_path, monkeypatch):
    # Booleans, small ids and names side by side are written as one field of
    # combinations; missing values, quoting, a group too big to combine whole and a
    # group that ends the line must still give pandas' bytes.
    monkeypatch.setattr(arrow, "_FUSED_MAX", 40)
    rng = np.random.default_rng(3)
    n = 500
    names = pd.Categorical.from_codes(rng.integers(-1, 3, n), ["plain", 'a, "b"', "=c"])
    frame = pd.DataFrame(
        {
            "flag": rng.integers(0, 2, n).astype(bool),
            "segment": pd.array(
                np.where(rng.random(n) < 0.1, None, rng.integers(0, 9, n)), "Int64"
            ),
            "segment_name": names,
            "x": rng.standard_normal(n),
            "small": rng.integers(0, 4, n),
            "bigger": rng.integers(0, 1000, n),
            "maybe": pd.array(np.where(rng.random(n) < 0.1, None, rng.random(n) < 0.5), "boolean"),
            "outlier": rng.integers(0, 2, n).astype(bool),
        }
    )
    for columns in (list(frame.columns), ["x", "flag"], ["segment_name", "x"]):
        pandas_bytes, arrow_bytes = _bytes_both(frame[columns], tmp_path)
        assert arrow_bytes == pandas_bytes, columns
    assert b'"a, ""b"""' in _bytes_both(frame, tmp_path)[1]


def test_fast_writer_writes_an_empty_field_of_a_one_column_table_quoted(tmp_path):
    # Python's csv module writes a row of one empty field as "", not as a blank line.
    for values in (
        pd.array([True, None, False], dtype="boolean"),
        pd.array(["a", None, "", "b"], dtype=pd.ArrowDtype(pa.string())),
        pd.Categorical(["x", None, "y"]),
        [1.5, np.nan, 2.0],
    ):
        frame = pd.DataFrame({"only": values})
        pandas_bytes, arrow_bytes = _bytes_both(frame, tmp_path)
        assert arrow_bytes == pandas_bytes
        assert b'\n""\n' in arrow_bytes


def test_fast_writer_matches_pandas_on_random_floats(tmp_path):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(60_000) * 10.0 ** rng.integers(-9, 18, 60_000)
    values[::7] = np.round(values[::7])
    values[::11] = np.round(values[::11], 2)
    # Any bit pattern: subnormals, the largest floats, infinities, NaNs with payloads.
    bits = np.frombuffer(rng.bytes(8 * 60_000), dtype=np.float64)
    frame = pd.DataFrame({"d": values, "s": np.arange(60_000).astype(str), "b": bits, "e": values})
    # The first field is formatted by Arrow, a later one by orjson with its comma.
    pandas_bytes, arrow_bytes = _bytes_both(frame, tmp_path)
    assert arrow_bytes == pandas_bytes


def test_fast_writer_matches_pandas_across_chunks(tmp_path, monkeypatch):
    # Small chunks and two threads: each chunk is formatted on its own, so a rare
    # value (an exponent float, a quoted text) must be handled where it appears and
    # the chunks must land in order.
    monkeypatch.setattr(arrow, "_WRITE_CHUNK_ROWS", 1000)
    monkeypatch.setattr(arrow, "_WRITE_THREADS", 2)
    n = 5000
    rng = np.random.default_rng(1)
    ids = pa.chunked_array(
        [pa.array([f"{i:08d}" for i in range(s, min(s + 700, n))]) for s in range(0, n, 700)]
    )
    text = np.array([f"t{i}" for i in range(n)], dtype=object)
    text[[2500, 2600, 2700, 4999]] = ["a,b", 'say "hi"', "x\ny", "cr\r"]  # chunks 2 and 4 only
    names = rng.choice(["Average", "Very low income · High spending"], n).astype(object)
    names[3333] = 'Big, "loyal"'
    labels = names.copy()
    labels[[5, 4200]] = [None, np.nan]
    margin = rng.random(n)
    odd = {
        10: 3e-05,
        3010: -5e-7,
        20: 2.0,
        30: np.nan,
        40: 1e16,
        41: -1.5e17,
        42: 1e15,
        43: 12345678901.0,
        44: -0.0,
        45: 1e-4,
        46: 0.0,
        4001: 1e300,
    }
    margin[list(odd)] = list(odd.values())
    frame = pd.DataFrame(
        {
            "CustomerID": pd.Series(pd.arrays.ArrowExtensionArray(ids)),
            "note": pd.Series(text, dtype=object),
            "segment": pd.array(rng.integers(1, 6, n), dtype="Int64"),
            "segment_name": pd.Series(names, dtype="str"),
            "label": pd.Series(labels, dtype=object),  # a few distinct values
            "margin": margin,
            "whole": np.round(rng.standard_normal(n) * 1e6),
            "borderline": pd.array(rng.random(n) < 0.1, dtype="boolean"),
        }
    )
    assert frame["note"].dtype == frame["label"].dtype == object
    pandas_bytes, arrow_bytes = _bytes_both(frame, tmp_path)
    assert arrow_bytes == pandas_bytes
    assert b'"a,b"' in arrow_bytes and b"3e-05" in arrow_bytes  # the cases really occur


def test_fast_reader_keeps_text_exactly(tmp_path):
    path = tmp_path / "c.csv"
    path.write_bytes(
        b'\xef\xbb\xbfCustomerID;Name ;Spend\r\n0001;A b;1,5\r\n0002;;\r\n0003;"x;y";2'
    )
    fast = read_table_fast(path)
    core = read_table(path)
    assert list(fast.columns) == list(core.columns) == ["CustomerID", "Name", "Spend"]
    as_text = fast.astype(object).where(fast.notna(), "")
    pd.testing.assert_frame_equal(as_text, core, check_dtype=False)


@pytest.fixture(scope="module")
def sample_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("fast") / "customers.csv"
    frame = custseg.make_customers(1500, random_state=3)
    frame = frame.astype({"Age": object})
    frame.loc[5, "Age"] = ""  # a missing value, imputed
    write_csv(frame, path)
    return path


def test_fast_roles_and_features_equal_the_core(sample_path):
    fast, core = read_table_fast(sample_path), read_table(sample_path)
    assert detect_roles_fast(fast).to_dict() == detect_roles(core).to_dict()
    features = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
    np.testing.assert_array_equal(feature_matrix(fast, features), feature_matrix(core, features))


def test_a_column_major_feature_matrix_is_kept_without_a_copy(sample_path):
    fast = read_table_fast(sample_path)
    features = ["Age", "Annual Income (k$)", "Spending Score (1-100)"]
    X = feature_matrix(fast, features, order="F")
    assert X.flags.f_contiguous
    np.testing.assert_array_equal(X, feature_matrix(fast, features))
    skipped: list[dict] = []
    kept, names = drop_constant_features(X, features, skipped, "customers.csv")
    assert kept is X and names == features and not skipped
    # A row-major matrix, or a dropped column, still gives a column-major copy.
    X_c = feature_matrix(fast, features)
    copied, _ = drop_constant_features(X_c, features, [], "customers.csv")
    assert copied is not X_c and copied.flags.f_contiguous
    np.testing.assert_array_equal(copied, X_c)
    X[:, 1] = 7.0
    with pytest.warns(DataWarning, match="single value"):
        fewer, names = drop_constant_features(X, features, skipped, "customers.csv")
    assert names == [features[0], features[2]] and fewer.flags.f_contiguous
    np.testing.assert_array_equal(fewer, X[:, [0, 2]])


def test_fast_path_segments_exactly_like_the_core(sample_path, tmp_path):
    core = (
        custseg.segment(read_table(sample_path), k=4, stability=0)
        if _takes_stability()
        else custseg.segment(read_table(sample_path), k=4)
    )
    fast_frame = read_table_fast(sample_path)
    fast = (
        custseg.segment(fast_frame, k=4, stability=0)
        if _takes_stability()
        else custseg.segment(fast_frame, k=4)
    )
    assert fast.summary == core.summary
    write_csv(core.table, tmp_path / "core.csv")
    write_csv_fast(fast.table, tmp_path / "fast.csv")
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "core.csv").read_bytes()


def _takes_stability() -> bool:
    import inspect

    return "stability" in inspect.signature(custseg.Segmenter).parameters


def test_fast_counts_and_features_equal_the_core_on_awkward_text(monkeypatch):
    # A short head sample, so that a repeat after it must still be counted; padded
    # values, missing-value tokens, empty text and nulls take each shortcut's slow way.
    monkeypatch.setattr(scale, "ROLE_SAMPLE_ROWS", 50)
    n = 400
    rng = np.random.default_rng(2)
    up = [f"{i:05d}" for i in range(n)]
    repeat = up.copy()
    repeat[300] = up[299]
    spend = [f"{v:.2f}" for v in rng.random(n) * 100]
    odd = [" 12.5 ", "NA", "  ", "n/a", "null", None, "-NaN", "1e3"]
    for i, v in enumerate(odd):
        spend[3 + 20 * i] = v
    plain = [str(v) for v in rng.integers(0, 50, n)]
    plain[7], plain[9] = None, ""
    columns = {
        "CustomerID": up,
        "down_id": up[::-1],
        "repeat_id": repeat,
        "shuffled_id": [up[i] for i in rng.permutation(n)],
        "spend": spend,
        "plain": plain,
        "word": list(rng.choice(["a", "b", " a", "c "], n)),
    }
    text = pd.ArrowDtype(pa.string())
    fast = pd.DataFrame({k: pd.array(v, dtype=text) for k, v in columns.items()})
    core = pd.DataFrame({k: ["" if x is None else x for x in v] for k, v in columns.items()})

    def counts(schema):
        return [(c["name"], c["missing"], c["distinct"]) for c in schema.to_dict()]

    assert counts(detect_roles_fast(fast)) == counts(detect_roles(core))
    assert counts(detect_roles_fast(fast))[2] == ("repeat_id", 0, n - 1)
    features = ["spend", "plain"]
    np.testing.assert_array_equal(feature_matrix(fast, features), feature_matrix(core, features))


def test_fast_parser_reports_a_bad_value_like_the_core(sample_path, tmp_path):
    frame = read_table(sample_path)
    frame.loc[41, "Age"] = "forty"
    core_path = tmp_path / "bad.csv"
    write_csv(frame, core_path)
    with pytest.raises(SchemaError) as core_err:
        feature_matrix(read_table(core_path), ["Age"], source="bad.csv")
    with pytest.raises(SchemaError) as fast_err:
        feature_matrix(read_table_fast(core_path), ["Age"], source="bad.csv")
    assert str(fast_err.value) == str(core_err.value)
    assert "'forty' at row 42" in str(fast_err.value)


def test_distinct_rows_are_exact_up_to_at_least_and_a_true_lower_bound_above(monkeypatch):
    monkeypatch.setattr(scale, "LARGE_ROWS", 400)  # heads of 20 and 400 rows
    rng = np.random.default_rng(0)
    few = rng.integers(0, 3, size=(2000, 2)).astype(float)  # 9 profiles at most
    assert scale.count_distinct_rows(few, at_least=10) == len(np.unique(few, axis=0))
    # The first rows repeat one profile; the rest is varied: the count must not stop there.
    late = np.vstack([np.zeros((500, 2)), rng.normal(size=(1500, 2))])
    count = scale.count_distinct_rows(late, at_least=10)
    assert 10 < count <= len(np.unique(late, axis=0))
    many = rng.normal(size=(2000, 2))
    assert 10 < scale.count_distinct_rows(many, at_least=10) <= 2000


def test_fast_writer_matches_pandas_on_repetitive_text_columns(tmp_path):
    # Text columns of few values (segment names) are written by code; text with
    # quotes and commas, a missing value and a formula-like cell still give
    # pandas' bytes and the same formula warning; mixed objects go to pandas.
    names = ["Older · Low income", 'a, "quoted" name', "=SUM(A1)", None, "", "Young"]
    frame = pd.DataFrame(
        {
            "segment": pd.array([0, 1, 2, None, 4, 5] * 50, dtype="Int64"),
            "segment_name": pd.Series(names * 50, dtype=object),
            "n": np.arange(300, dtype="float64") / 7,
        }
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pandas_bytes, arrow_bytes = _bytes_both(frame, tmp_path)
    assert arrow_bytes == pandas_bytes
    pandas_warning, arrow_warning = [str(w.message) for w in caught]
    assert "(first: column 'segment_name', row 3, '=SUM(A1)')" in arrow_warning
    assert arrow_warning.replace("arrow.csv", "pandas.csv") == pandas_warning
    mixed = frame.assign(segment_name=pd.Series([1, "1", 2.5, None, "x", True] * 50, dtype=object))
    pandas_bytes, arrow_bytes = _bytes_both(mixed, tmp_path)
    assert arrow_bytes == pandas_bytes
