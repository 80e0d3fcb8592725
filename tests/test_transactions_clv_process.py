"""Lifetime value fitted in a helper process: the same values as in-process, or a fallback."""

from __future__ import annotations

import gc
import io
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import invoke_cli
from custseg.cli._early import early_helper, take_clv_helper, wants_clv_helper
from custseg.cli.features import clv_helper
from custseg.datasets import make_transactions
from custseg.errors import EngineError
from custseg.io import write_table
from custseg.io.transactions import read_transactions
from custseg.transactions import build_customer_features, clv_process
from custseg.transactions.cleaning import clean_log
from custseg.transactions.clv import clv_available, clv_inputs, fit_clv, predict_clv
from custseg.transactions.clv_process import ClvProcess, collector_paused, helper_environment
from custseg.transactions.detect import detect_log_columns

pytestmark = pytest.mark.skipif(
    not clv_available(), reason='pymc-marketing is not installed (pip install "custseg[clv]")'
)


@pytest.fixture(scope="module")
def cleaned():
    log = make_transactions(300, random_state=11)
    return clean_log(log, detect_log_columns(log))


@pytest.fixture(scope="module")
def local(cleaned):
    return fit_clv(clv_inputs(cleaned), horizon_months=6)


def test_the_helper_fits_the_same_values_to_the_bit(cleaned, local):
    with ClvProcess() as helper:
        proc = helper.process
        remote = helper.fit(clv_inputs(cleaned), horizon_months=6)
    assert remote is not None
    for name in ("p_alive", "purchases", "spend"):
        assert getattr(remote, name).tobytes() == getattr(local, name).tobytes()
    assert remote.params == local.params
    # One request per helper; it has stopped once it answered.
    assert proc is not None and proc.returncode is not None
    assert helper.process is None


def test_a_helper_that_died_leaves_the_fit_here_with_the_same_result(cleaned, local):
    helper = ClvProcess()
    assert helper.process is not None
    helper.process.kill()
    helper.process.wait()
    predictions, info = predict_clv(cleaned, horizon_months=6, process=helper)
    assert predictions["p_alive"].tolist() == np.round(local.p_alive, 4).tolist()
    assert predictions["predicted_purchases"].tolist() == np.round(local.purchases, 3).tolist()
    assert predictions["predicted_spend"].tolist() == np.round(local.spend, 2).tolist()
    assert info["params"] == local.params


def test_a_helper_that_cannot_start_asks_for_the_fit_here(cleaned, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("no processes left")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    helper = ClvProcess()
    assert helper.process is None
    assert helper.fit(clv_inputs(cleaned), horizon_months=6) is None


def test_a_failing_block_stops_its_helper_at_once():
    with pytest.raises(RuntimeError, match="bad log"), ClvProcess() as helper:
        proc = helper.process
        raise RuntimeError("bad log")
    # Killed while it was still importing: it never answered or exited by itself.
    assert proc is not None and proc.returncode == -9


def test_the_command_writes_what_the_library_writes_in_process(tmp_path):
    path = tmp_path / "orders.csv"
    make_transactions(300, random_state=11).to_csv(path, index=False)
    out = tmp_path / "cli" / "customers.csv"
    done = invoke_cli("features", path, "--out", out, "--clv", "--horizon", "6", "--quiet")
    assert done.returncode == 0, done.stderr
    table, report = build_customer_features(read_transactions(path), clv=True, horizon=6)
    assert report["clv"]["status"] == "fitted"
    expected = tmp_path / "library.csv"
    write_table(table, expected)
    assert out.read_bytes() == expected.read_bytes()
    assert np.isfinite(table["predicted_clv"]).all()


@pytest.fixture
def no_pytensor_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTSEG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("PYTENSOR_FLAGS", "PYTENSORRC"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_helper_keeps_its_compiled_modules_in_custsegs_cache(no_pytensor_settings):
    cache = no_pytensor_settings / "cache" / "pytensor"
    flags = f"base_compiledir={cache},traceback__limit=0"
    assert helper_environment()["PYTENSOR_FLAGS"] == flags


def test_the_users_other_pytensor_flags_are_kept(no_pytensor_settings, monkeypatch):
    monkeypatch.setenv("PYTENSOR_FLAGS", "floatX=float64")
    cache = no_pytensor_settings / "cache" / "pytensor"
    flags = f"floatX=float64,base_compiledir={cache},traceback__limit=0"
    assert helper_environment()["PYTENSOR_FLAGS"] == flags


def test_a_traceback_limit_the_user_set_is_kept(no_pytensor_settings, monkeypatch):
    monkeypatch.setenv("PYTENSOR_FLAGS", "traceback__limit=20")
    cache = no_pytensor_settings / "cache" / "pytensor"
    flags = f"traceback__limit=20,base_compiledir={cache}"
    assert helper_environment()["PYTENSOR_FLAGS"] == flags


def test_a_compile_folder_the_user_chose_is_kept(no_pytensor_settings, monkeypatch):
    monkeypatch.setenv("PYTENSOR_FLAGS", "base_compiledir=/srv/pytensor")
    assert helper_environment() is None
    monkeypatch.delenv("PYTENSOR_FLAGS")
    home = no_pytensor_settings / "home"
    home.mkdir()
    (home / ".pytensorrc").write_text("[global]\nbase_compiledir = /srv/pytensor\n")
    assert helper_environment() is None


def test_the_command_starts_its_helper_before_it_loads_pandas():
    # In a fresh interpreter, as the command runs: the helper's import of the model
    # libraries overlaps the command's own imports too.
    code = textwrap.dedent(
        """
        import sys
        from custseg.cli.features import clv_helper
        with clv_helper(None) as helper:
            proc = helper.process
            print(proc is not None, "pandas" in sys.modules)
        print(proc.returncode is not None)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "True"]


@pytest.fixture
def collector():
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_the_collector_is_off_in_the_block_and_back_on_after(collector):
    gc.enable()
    with pytest.raises(RuntimeError, match="fit failed"), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("fit failed")
    assert gc.isenabled()


def test_a_collector_already_off_stays_off(collector):
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_the_helper_imports_and_fits_without_the_collector(collector, monkeypatch):
    gc.enable()
    seen = []

    def load_models_alone():
        seen.append(gc.isenabled())
        raise EngineError("pymc-marketing failed to import")

    monkeypatch.setattr(clv_process, "load_models_alone", load_models_alone)
    answers = io.BytesIO()
    clv_process.serve(io.BytesIO(), answers)
    assert seen == [False]
    assert gc.isenabled()
    assert answers.getvalue() == b""  # no models: no answer, the command fits itself


def _load_alone(patch: str = "") -> list[str]:
    # In a fresh interpreter, as in the helper: what got imported, and what was asked.
    code = textwrap.dedent(
        """
        import sys
        import custseg.transactions.clv as clv
        from custseg.transactions.clv_process import load_models_alone
        calls = []
        real = clv.load_models
        def load_models():
            package = sys.modules.get("pymc_marketing")
            calls.append(hasattr(package, "__version__"))
            {patch}
            return real()
        clv.load_models = load_models
        load_models_alone()
        print(
            calls,
            "pymc_marketing.clv" in sys.modules,
            "pymc_marketing.mmm" in sys.modules,
            "pymc_extras.prior" in sys.modules,
            "pymc_extras.statespace" in sys.modules,
        )
        """
    ).format(patch=patch)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_the_helper_imports_the_clv_models_without_the_rest_of_their_packages():
    assert _load_alone() == ["[False]", "True", "False", "True", "False"]


def test_a_clv_module_that_needs_its_package_is_imported_as_usual():
    # The first import fails as a release needing the package's own code would.
    failing = 'if len(calls) == 1: raise AttributeError("no __version__")'
    assert _load_alone(failing) == ["[False,", "False]", "True", "True", "True", "True"]


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["features", "log.csv"], True),
        (["--debug", "features", "log.csv", "--clv"], True),
        (["features", "log.csv", "--no-clv"], False),
        (["features", "--help"], False),
        (["score", "model.json", "new.csv"], False),
        ([], False),
    ],
)
def test_the_console_script_starts_the_helper_for_features_with_lifetime_value(args, wanted):
    assert wants_clv_helper(args) is wanted


@pytest.fixture
def popens(monkeypatch):
    started = []
    popen = subprocess.Popen

    def recording(*args, **kwargs):
        started.append(popen(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(subprocess, "Popen", recording)
    return started


def test_the_command_takes_the_helper_the_console_script_started(popens):
    with early_helper(["features", "log.csv"]):
        with clv_helper(None) as helper:
            assert helper is not None and helper.process is popens[0]
        assert take_clv_helper() is None  # taken once
    assert len(popens) == 1 and popens[0].returncode is not None


def test_a_helper_the_command_did_not_take_is_stopped(popens):
    with early_helper(["features", "missing.csv"]):
        assert popens[0].poll() is None  # importing the model libraries
    assert popens[0].poll() is not None
    assert take_clv_helper() is None
