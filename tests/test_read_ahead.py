"""Reading a big CSV ahead, while pandas imports: the same table, the same errors in their turn."""

from __future__ import annotations

import gc
import os
import sys

import pandas as pd
import pytest
from tests.conftest import run_cli

import custseg
import custseg.cli._ahead
import custseg.io.arrow_csv as arrow_csv
from custseg.cli._ahead import import_in_background, imports_unscanned
from custseg.errors import DataFormatError
from custseg.io import read_table


@pytest.fixture
def reads(monkeypatch) -> list:
    """Every file Arrow reads, with Arrow's reader for every file."""
    monkeypatch.setattr(arrow_csv, "FAST_READ_BYTES", 0)
    calls = []
    real = arrow_csv.read_csv_arrow

    def spy(path, layout):
        calls.append(path)
        return real(path, layout)

    monkeypatch.setattr(arrow_csv, "read_csv_arrow", spy)
    return calls


def _write(path, n: int, start: int = 0) -> None:
    frame = pd.DataFrame({"id": [f"{i:05d}" for i in range(start, start + n)], "Age": range(n)})
    frame.to_csv(path, index=False)


def test_the_table_read_ahead_is_the_table_read_now_and_is_used_once(tmp_path, reads):
    path = tmp_path / "c.csv"
    _write(path, 50)
    now = read_table(path)
    arrow_csv.read_ahead(path)
    assert reads == [path, path]
    ahead = read_table(path)
    assert reads == [path, path]  # read once, ahead
    pd.testing.assert_frame_equal(ahead, now)
    assert ahead["id"].iloc[0] == "00000"
    read_table(path)
    assert reads == [path, path, path]


def test_a_file_changed_after_reading_ahead_is_read_again(tmp_path, reads):
    path = tmp_path / "c.csv"
    _write(path, 50)
    arrow_csv.read_ahead(path)
    _write(path, 60, start=100)
    table = read_table(path)
    assert len(table) == 60
    assert table["id"].iloc[0] == "00100"
    assert reads == [path, path]


def test_an_error_found_ahead_is_raised_when_the_file_is_read(tmp_path, reads):
    path = tmp_path / "dup.csv"
    path.write_text("id,Age,Age\n1,2,3\n")
    with pytest.raises(DataFormatError) as now:
        read_table(path)
    arrow_csv.read_ahead(path)  # says nothing
    with pytest.raises(DataFormatError) as later:
        read_table(path)
    assert str(later.value) == str(now.value)
    assert "Age" in str(later.value)


def test_only_a_big_csv_is_read_ahead(tmp_path, reads, monkeypatch):
    path = tmp_path / "c.csv"
    _write(path, 50)
    monkeypatch.setattr(arrow_csv, "FAST_READ_BYTES", path.stat().st_size + 1)
    arrow_csv.read_ahead(path)
    arrow_csv.read_ahead(tmp_path / "absent.csv")
    assert reads == []


@pytest.fixture(scope="module")
def model_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ahead")
    custseg.make_customers(80, random_state=1).to_csv(folder / "customers.csv", index=False)
    custseg.segment(folder / "customers.csv", k=3, stability=0, random_state=0).save(folder / "run")
    return folder


def _score(model_run, model, table, out, *, ahead: bool):
    # CUSTSEG_FAST_READ_BYTES=0 makes every CSV "big": read ahead by `custseg score`.
    env = {k: v for k, v in os.environ.items() if k != "CUSTSEG_FAST_READ_BYTES"}
    if ahead:
        env["CUSTSEG_FAST_READ_BYTES"] = "0"
    return run_cli("score", model, table, "--out", out, env=env)


def test_score_reading_ahead_writes_the_same_file(model_run):
    model, table = model_run / "run" / "model.json", model_run / "customers.csv"
    plain = _score(model_run, model, table, model_run / "plain.csv", ahead=False)
    ahead = _score(model_run, model, table, model_run / "ahead.csv", ahead=True)
    assert plain.returncode == ahead.returncode == 0, ahead.stderr
    assert (model_run / "ahead.csv").read_bytes() == (model_run / "plain.csv").read_bytes()
    assert ahead.stdout.replace("ahead.csv", "X") == plain.stdout.replace("plain.csv", "X")


def test_score_reading_ahead_keeps_the_order_of_errors(model_run):
    broken = model_run / "broken.csv"
    broken.write_bytes(b"id,Age\n1,caf\xc3\xa9\n2,caf\xe9\n")  # UTF-8 and Latin-1 mixed
    # A missing model is refused before the file is read; with the model, the file is.
    for model, named in ((model_run / "none.json", "none.json"), (model_run / "run", "broken.csv")):
        out = model_run / "never.csv"
        plain = _score(model_run, model, broken, out, ahead=False)
        ahead = _score(model_run, model, broken, out, ahead=True)
        assert ahead.returncode == plain.returncode == 2
        assert ahead.stderr == plain.stderr
        assert len(ahead.stderr.strip().splitlines()) == 1
        assert named in ahead.stderr
        assert not out.exists()


def test_imports_in_background_run_in_order_and_stop_quietly_at_a_failure(tmp_path, monkeypatch):
    for name, body in (
        ("ahead_one", "ORDER = []\n"),
        ("ahead_two", "import ahead_one\nahead_one.ORDER.append(2)\n"),
        ("ahead_bad", "raise RuntimeError('broken')\n"),
        ("ahead_never", "import ahead_one\nahead_one.ORDER.append('never')\n"),
    ):
        (tmp_path / f"{name}.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    thread = import_in_background(("ahead_one", "ahead_two", "ahead_bad", "ahead_never"))
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert sys.modules["ahead_one"].ORDER == [2]
    assert "ahead_bad" not in sys.modules and "ahead_never" not in sys.modules
    for name in ("ahead_one", "ahead_two"):
        monkeypatch.delitem(sys.modules, name)


@pytest.mark.parametrize("program", [True, False])
@pytest.mark.parametrize("enabled", [True, False])
def test_imports_unscanned_pause_the_collector_and_freeze_only_in_the_program(
    monkeypatch, enabled, program
):
    monkeypatch.setattr(custseg.cli._ahead, "is_program", lambda: program)
    (gc.enable if enabled else gc.disable)()
    frozen = gc.get_freeze_count()
    try:
        with imports_unscanned():
            assert not gc.isenabled()
            made = [[] for _ in range(1000)]
        assert gc.isenabled() is enabled
        if program:
            assert gc.get_freeze_count() >= frozen + len(made)
        else:
            assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
        gc.enable()


def _segment(folder, table, out, *, ahead: bool, report: bool = True):
    env = {k: v for k, v in os.environ.items() if k != "CUSTSEG_FAST_READ_BYTES"}
    if ahead:
        env["CUSTSEG_FAST_READ_BYTES"] = "0"
    flags = () if report else ("--no-report",)
    return run_cli("segment", table, "--out", out, "--k", "3", "--stability", "0", *flags, env=env)


def test_segment_reading_ahead_writes_the_same_run_and_report(model_run):
    table = model_run / "customers.csv"
    plain = _segment(model_run, table, model_run / "seg-plain", ahead=False)
    ahead = _segment(model_run, table, model_run / "seg-ahead", ahead=True)
    assert plain.returncode == ahead.returncode == 0, ahead.stderr
    names = ["segments.csv", "summary.json", "model.json", "report.html"]
    charts = sorted(p.name for p in (model_run / "seg-plain" / "charts").iterdir())
    assert len(charts) >= 5
    for name in names + [f"charts/{c}" for c in charts]:
        assert (model_run / "seg-ahead" / name).read_bytes() == (
            model_run / "seg-plain" / name
        ).read_bytes(), name
    assert ahead.stdout.replace("seg-ahead", "X") == plain.stdout.replace("seg-plain", "X")


def test_segment_reading_ahead_keeps_its_errors_and_writes_nothing(model_run):
    broken = model_run / "broken.csv"
    broken.write_bytes(b"id,Age\n1,caf\xc3\xa9\n2,caf\xe9\n")  # UTF-8 and Latin-1 mixed
    out = model_run / "seg-never"
    plain = _segment(model_run, broken, out, ahead=False)
    ahead = _segment(model_run, broken, out, ahead=True)
    assert ahead.returncode == plain.returncode == 2
    assert ahead.stderr == plain.stderr
    assert len(ahead.stderr.strip().splitlines()) == 1
    assert "broken.csv" in ahead.stderr
    assert not out.exists()
