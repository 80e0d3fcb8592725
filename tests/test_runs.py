"""The run writer: a run folder holds one complete run, and only custseg's files are removed."""

import hashlib
import json
import multiprocessing
import os
import signal
import subprocess
import time

import pandas as pd
import pytest
from tests.conftest import CUSTSEG_BIN

import custseg
from custseg.errors import InputError
from custseg.io import MANIFEST_NAME, RunWriter, check_run, listed_files
from custseg.io.arrow import write_csv_fast
from custseg.io.runs import remove_stale
from custseg.io.writers import FileDigest


def _run(out, files, **options):
    """Publish ``files`` ({name: text}) as one run into ``out``; the writer."""
    with RunWriter(out, command="segment", **options) as run:
        for name, text in files.items():
            run.path(name).write_text(text)
    return run


def _contents(folder):
    """Every file under ``folder`` but a killed run's staging folder, with its bytes."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.relative_to(folder).parts[0].startswith(".custseg-staging-")
    }


FIRST = {
    "segments.csv": "a\n1\n",
    "summary.json": "{}",
    "report.html": "<p>first</p>",
    "charts/sizes.png": "png1",
}
SECOND = {"segments.csv": "a\n2\n", "summary.json": '{"k": 2}'}


def test_a_run_is_published_with_its_manifest(tmp_path):
    run = _run(tmp_path / "out", FIRST)
    out = tmp_path / "out"
    assert {n: b.decode() for n, b in _contents(out).items() if n != MANIFEST_NAME} == FIRST
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert manifest["command"] == "segment"
    assert sorted(manifest["files"]) == sorted(FIRST)
    assert manifest["files"]["summary.json"]["bytes"] == 2
    assert listed_files(out) == set(FIRST)
    assert run.final(run.staging / "charts" / "sizes.png") == out / "charts" / "sizes.png"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_only_the_earlier_runs_files_are_removed(tmp_path):
    out = tmp_path / "out"
    _run(out, FIRST)
    (out / "charts" / "holiday.png").write_text("the user's photo")
    (out / "notes.txt").write_text("the user's notes")
    run = _run(out, SECOND)
    assert sorted(run.removed) == ["charts/sizes.png", "report.html"]
    files = _contents(out)
    assert files["charts/holiday.png"] == b"the user's photo"
    assert files["notes.txt"] == b"the user's notes"
    assert "report.html" not in files and "charts/sizes.png" not in files
    assert listed_files(out) == set(SECOND)


def test_a_listed_file_the_user_changed_is_kept(tmp_path):
    out = tmp_path / "out"
    _run(out, FIRST)
    (out / "report.html").write_text("<p>edited by hand</p>")
    run = _run(out, SECOND)
    assert run.removed == ["charts/sizes.png"]
    assert (out / "report.html").read_text() == "<p>edited by hand</p>"
    assert not (out / "charts").exists()  # emptied by the run, so removed


def test_an_input_is_never_removed_nor_replaced(tmp_path):
    out = tmp_path / "out"
    _run(out, FIRST)
    run = _run(out, SECOND, inputs=[out / "report.html"])
    assert "report.html" not in run.removed and (out / "report.html").is_file()
    before = _contents(out)
    with pytest.raises(InputError, match="is an input of this run and would be replaced"):
        _run(out, SECOND, inputs=[out / "segments.csv"])
    assert _contents(out) == before


def test_a_folder_without_manifest_loses_nothing(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").write_text("<p>someone's report</p>")
    (out / "segments.csv").write_text("old\n")
    run = _run(out, SECOND)
    assert run.removed == []
    assert (out / "report.html").read_text() == "<p>someone's report</p>"
    assert (out / "segments.csv").read_text() == SECOND["segments.csv"]


def test_a_failed_run_changes_nothing(tmp_path):
    out = tmp_path / "out"
    _run(out, FIRST)
    before = _contents(out)
    with pytest.raises(RuntimeError), RunWriter(out, command="segment") as run:
        run.path("segments.csv").write_text("half")
        raise RuntimeError("the run failed")
    assert _contents(out) == before
    with pytest.raises(RuntimeError), RunWriter(tmp_path / "new", command="segment"):
        raise RuntimeError("the run failed")
    assert not (tmp_path / "new").exists()


def test_keep_replaces_only_the_report(tmp_path):
    out = tmp_path / "out"
    _run(out, FIRST)
    with RunWriter(out, command="report", keep=lambda n: n != "report.html") as run:
        run.path("report.html").write_text("<p>second</p>")
    assert listed_files(out) == set(FIRST)
    assert (out / "report.html").read_text() == "<p>second</p>"
    assert (out / "charts" / "sizes.png").read_text() == "png1"
    with pytest.raises(InputError, match=r"run folder '.*' does not exist"):
        RunWriter(tmp_path / "absent", command="report", keep=bool).__enter__()


def _publish_and_die_at(out, files, kill_at):
    """In a child process: publish ``files``, SIGKILLed at the ``kill_at``-th step.

    The steps are the renames that move the files and then the manifest into
    place, and last the removal of the staging folder.
    """
    import custseg.io.runs as runs

    steps = [0]

    def dying(step):
        def wrapped(*args, **kwargs):
            steps[0] += 1
            if steps[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return step(*args, **kwargs)

        return wrapped

    runs.os.replace = dying(os.replace)
    runs.shutil.rmtree = dying(runs.shutil.rmtree)
    _run(out, files)
    os._exit(0)


@pytest.mark.parametrize("kill_at", [1, 2, 3, 4, 5])
def test_a_run_killed_while_publishing_is_detected_and_repaired(tmp_path, kill_at):
    out = tmp_path / "out"
    _run(out, FIRST)
    new = {**SECOND, "k_selection.csv": "k\n2\n"}
    child = multiprocessing.get_context("fork").Process(
        target=_publish_and_die_at, args=(out, new, kill_at)
    )
    child.start()
    child.join(60)
    assert child.exitcode == -signal.SIGKILL
    # Steps 1-3 move the new files, 4 the manifest, 5 removes the staging folder.
    # Whatever the moment, a reader sees the earlier run or the new one, complete, or
    # is told the folder holds an interrupted run.
    try:
        listed = check_run(out)
    except InputError as exc:
        assert "holds an interrupted custseg run" in str(exc)
        assert 2 <= kill_at <= 4
    else:
        run = {name: _contents(out)[name].decode() for name in listed}
        assert run == (FIRST if kill_at <= 2 else new)
    [staging] = [p for p in out.iterdir() if p.name.startswith(".custseg-staging-")]
    # The next run into the folder removes what the killed one left, and every file
    # of either earlier run that it does not write again.
    _run(out, {"segments.csv": "a\n3\n"})
    assert not staging.exists()
    assert set(_contents(out)) == {"segments.csv", MANIFEST_NAME}
    check_run(out)


def test_stale_temporaries_are_removed_but_not_a_running_processes(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    dead = _dead_pid()
    stale = out / f".segments.csv.custseg-{dead}-abcd1234.tmp"
    live = out / f".segments.csv.custseg-{os.getpid()}-abcd1234.tmp"
    older = out / ".summary.json.k2j4_x9q.tmp"  # an older custseg's naming
    user = out / ".my-notes.tmp"
    for path in (stale, live, older, user):
        path.write_text("x")
    (out / f".custseg-staging-{dead}-zz").mkdir()
    remove_stale(out)
    assert not stale.exists() and live.exists() and user.exists()
    assert not (out / f".custseg-staging-{dead}-zz").exists()
    _run(out, {"summary.json": "{}"})
    assert not older.exists()


def _dead_pid():
    proc = multiprocessing.get_context("fork").Process(target=os._exit, args=(0,))
    proc.start()
    proc.join()
    return proc.pid


# -- a real run, killed -------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """300,000 customers: long enough to write that a run can be killed mid-way."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    rng = np.random.default_rng(0)
    n = 300_000
    table = pa.table(
        {
            "id": np.arange(n),
            "spend": rng.integers(0, 5000, n),
            "visits": rng.integers(1, 60, n),
        }
    )
    path = tmp_path_factory.mktemp("big") / "customers.csv"
    pa_csv.write_csv(table, path, pa_csv.WriteOptions(quoting_style="none"))
    return path


def _kill_when(proc, out, ready, timeout=300):
    """SIGKILL ``proc`` as soon as ``ready(staging folder)`` holds; False if it ended first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        for staging in out.glob(".custseg-staging-*"):
            if ready(staging):
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                return True
        time.sleep(0.005)
    proc.kill()
    return False


def _writing_segments(staging):
    """segments.csv is being written: its temporary file holds two megabytes."""
    return any(p.stat().st_size > (2 << 20) for p in staging.glob(".segments.csv.custseg-*"))


@pytest.mark.parametrize("engine", ["local", "chunked"])
def test_a_run_killed_while_writing_leaves_the_earlier_run(tmp_path, big_csv, engine):
    out = tmp_path / "out"
    custseg.segment(custseg.make_customers(200), k=3, stability=0).save(out)
    before = _contents(out)
    args = ["segment", big_csv, "--out", out, "--k", "2", "--stability", "0", "--no-report"]
    proc = subprocess.Popen(
        [str(CUSTSEG_BIN), *map(str, args), "--engine", engine],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert _kill_when(proc, out, _writing_segments), "the run ended before it could be killed"
    assert _contents(out) == before
    check_run(out)
    [staging] = out.glob(".custseg-staging-*")
    assert sum(p.stat().st_size for p in staging.rglob("*")) > 2 << 20  # left by the kill
    custseg.segment(custseg.make_customers(100), k=2, stability=0).save(out)
    assert not staging.exists()
    assert listed_files(out) == {"segments.csv", "summary.json", "model.json"}


def test_a_digest_fed_while_writing_is_the_files_sha256(tmp_path):
    digest = FileDigest()
    for piece in (b"segment,", b"x" * 100_000, b"\n"):
        digest.update(piece)
    assert digest.hexdigest() == hashlib.sha256(b"segment," + b"x" * 100_000 + b"\n").hexdigest()
    # Arrow's pieces, and a column only pandas formats (the writer starts again).
    arrow = pd.DataFrame({"a": range(5000), "b": ["x", "y"] * 2500})
    pandas_only = arrow.assign(when=pd.Timestamp("2024-01-02"))
    for frame in (arrow, pandas_only):
        fed = FileDigest()
        path = write_csv_fast(frame, tmp_path / "t.csv", digest=fed)
        assert fed.hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_manifest_takes_the_digest_fed_while_writing(tmp_path):
    with custseg.io.RunWriter(tmp_path / "run", command="segment") as run:
        path = run.path("segments.csv")
        path.write_bytes(b"a,b\n1,2\n")
        run.digest("segments.csv").update(b"a,b\n1,2\n")
    entry = json.loads((tmp_path / "run" / "custseg-run.json").read_text())["files"]
    assert entry["segments.csv"] == {
        "bytes": 8,
        "sha256": hashlib.sha256(b"a,b\n1,2\n").hexdigest(),
    }
