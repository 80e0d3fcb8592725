"""Lifetime value: the optional pymc-marketing models, and the log without them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from custseg.datasets import make_transactions
from custseg.errors import DataWarning, EngineError, InputError
from custseg.transactions import CLV_COLUMNS, build_customer_features
from custseg.transactions import features as features_module
from custseg.transactions.cleaning import clean_log
from custseg.transactions.clv import clv_available, clv_inputs, predict_clv
from custseg.transactions.detect import detect_log_columns


@pytest.fixture(scope="module")
def log():
    return make_transactions(300, random_state=11)


def test_clv_inputs_follow_the_bg_nbd_convention():
    import pandas as pd

    log = pd.DataFrame(
        {
            "CustomerID": ["a", "a", "a", "a", "b"],
            "InvoiceDate": ["2024-01-01", "2024-01-01", "2024-01-05", "2024-01-11", "2024-01-03"],
            "Amount": ["10", "5", "20", "30", "8"],
        }
    )
    cleaned = clean_log(log, detect_log_columns(log))
    data = clv_inputs(cleaned).set_index("customer_id")
    # a: purchase days Jan 1, 5, 11 -> 2 repeat days, 10 days apart, T to Jan 12 = 11;
    # repeat-day spend (20 + 30) / 2 = 25. b: one day, no repeat spend.
    assert data.loc[0].tolist() == [2.0, 10.0, 11.0, 25.0]
    assert data.loc[1].tolist() == [0.0, 0.0, 9.0, 0.0]


def test_without_pymc_marketing_auto_skips_and_says_how_to_install(log, monkeypatch):
    monkeypatch.setattr(features_module, "clv_available", lambda: False)
    features, report = build_customer_features(log, clv="auto")
    assert not set(CLV_COLUMNS) & set(features.columns)
    assert report["clv"]["status"] == "skipped"
    assert 'pip install "custseg[clv]"' in report["clv"]["reason"]


def test_without_pymc_marketing_an_explicit_request_fails_with_the_pip_line(log, monkeypatch):
    import custseg.transactions.clv as clv_module

    monkeypatch.setattr(clv_module, "clv_available", lambda: False)
    with pytest.raises(EngineError, match=r'pip install "custseg\[clv\]"'):
        build_customer_features(log, clv=True)


def test_too_few_repeat_buyers_is_a_clear_input_error():
    small = make_transactions(3, random_state=0)
    cleaned = clean_log(small, detect_log_columns(small))
    if not clv_available():
        pytest.skip('pymc-marketing is not installed (pip install "custseg[clv]")')
    with pytest.raises(InputError, match="at least 10 customers who bought on two different days"):
        predict_clv(cleaned)
    with pytest.warns(DataWarning, match="lifetime value skipped"):
        _, report = build_customer_features(small, clv="auto")
    assert report["clv"]["status"] == "skipped"


def test_numba_is_blocked_only_while_the_model_libraries_load():
    if importlib.util.find_spec("numba") is None:
        pytest.skip("numba is not installed (it comes with the clv extra)")
    # In a fresh interpreter: this one may have loaded numba already, and then the
    # block leaves it alone.
    code = textwrap.dedent(
        """
        import importlib.util, sys
        from custseg.transactions.clv import _numba_blocked
        with _numba_blocked():
            try:
                import numba
            except ImportError:
                print("blocked")
            assert importlib.util.find_spec("numba") is None  # what ArviZ checks
        print("numba" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["blocked", "False"]


def test_a_stack_that_needs_numba_is_imported_again_with_it(monkeypatch):
    import custseg.transactions.clv as clv_module

    attempts = []

    def load():
        blocked = "numba" in sys.modules and sys.modules["numba"] is None
        attempts.append(blocked)
        if blocked:
            raise ImportError("import of numba halted; None in sys.modules")
        return ("BetaGeoModel", "GammaGammaModel", "Prior")

    monkeypatch.delitem(sys.modules, "numba", raising=False)
    monkeypatch.setattr(clv_module, "_load_models", load)
    assert clv_module._import_models() == ("BetaGeoModel", "GammaGammaModel", "Prior")
    assert attempts == [True, False]


def test_a_broken_pymc_marketing_is_an_engine_error_with_the_pip_line(monkeypatch):
    import custseg.transactions.clv as clv_module

    def load():
        raise ImportError("cannot import name 'Model' from 'pymc'")

    monkeypatch.setattr(clv_module, "_load_models", load)
    with pytest.raises(
        EngineError,
        match=r"failed to import \(cannot import name 'Model'.*"
        r'pip install "custseg\[clv\]"',
    ):
        clv_module._import_models()


@pytest.mark.slow
def test_lifetime_value_columns_are_plausible(log):
    if not clv_available():
        pytest.skip('pymc-marketing is not installed (pip install "custseg[clv]")')
    features, report = build_customer_features(log, clv=True, horizon=6)
    # The import of the model libraries blocked numba only while it ran.
    assert sys.modules.get("numba", "not loaded") is not None
    clv = report["clv"]
    assert clv["status"] == "fitted"
    assert clv["horizon_months"] == 6
    assert set(clv["params"]["bg_nbd"]) == {"r", "alpha", "a", "b"}
    assert features["p_alive"].between(0, 1).all()
    assert (features["predicted_purchases"] >= 0).all()
    assert (features["predicted_spend"] > 0).all()
    np.testing.assert_allclose(
        features["predicted_clv"],
        features["predicted_purchases"] * features["predicted_spend"],
        rtol=0.01,
        atol=0.5,  # the columns are rounded to 3 and 2 decimals
    )
    # Customers who buy more often are predicted to buy more.
    top = features.nlargest(20, "frequency")["predicted_purchases"].mean()
    bottom = features.nsmallest(20, "frequency")["predicted_purchases"].mean()
    assert top > bottom
    # Run again: the same table and the same report, so the summary file is reproducible
    # (no timings or other run-dependent values in it).
    again, report_again = build_customer_features(log, clv=True, horizon=6)
    assert again.equals(features)
    assert report_again == report


def test_the_compiler_is_checked_while_the_model_libraries_load():
    if not clv_available():
        pytest.skip('pymc-marketing is not installed (pip install "custseg[clv]")')
    # In a fresh interpreter, where nothing has compiled yet: PyTensor's flags for this
    # CPU are known once the libraries are loaded, and the check's thread has ended.
    code = textwrap.dedent(
        """
        import threading
        from custseg.transactions.clv import load_models
        load_models()
        from pytensor.link.c.cmodule import GCC_compiler
        print(GCC_compiler.march_flags is not None)
        print(sorted(t.name for t in threading.enumerate()))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["True", "['MainThread']"]


def test_customer_data_become_inputs_of_any_length():
    if not clv_available():
        pytest.skip('pymc-marketing is not installed (pip install "custseg[clv]")')
    import pytensor
    import pytensor.tensor as pt

    from custseg.transactions.clv import _data_as_inputs

    n = 5
    x = pt.dscalar("x")
    per_customer = pt.constant(np.arange(1.0, n + 1))
    other = pt.constant(np.array([2.0, 3.0]))  # not one value per customer: stays a constant
    outputs, inputs, arrays = _data_as_inputs([pt.sum(pt.log(per_customer) * x) + pt.sum(other)], n)
    assert len(inputs) == 1 and inputs[0].type.shape == (None,)
    assert np.array_equal(arrays[0], np.arange(1.0, n + 1))
    f = pytensor.function([x, *inputs], outputs[0], mode="FAST_COMPILE")
    # The same compiled function serves a table of another size.
    for values in (arrays[0], np.arange(1.0, n + 8)):
        assert f(0.5, values) == pytest.approx(0.5 * np.log(values).sum() + 5.0, rel=1e-12)
