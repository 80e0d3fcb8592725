"""Predicted lifetime value: BG/NBD for purchases, Gamma-Gamma for spend.

The models come from pymc-marketing's CLV module (the maintained successor of
``lifetimes``), an optional extra because it is heavy (PyMC, PyTensor, ArviZ;
about 380 MB installed on top of custseg's own dependencies)::

    pip install "custseg[clv]"

Both models are fitted by maximum a posteriori with flat priors on their
parameters, which is the maximum-likelihood fit ``lifetimes`` made: fast
(seconds on half a million lines), deterministic, and free of the default
priors' pull, which on a one-year log drives the BG/NBD dropout rate to zero.

Inputs per customer follow the models' convention: purchases are counted per
calendar day; ``frequency`` is the number of repeat purchase days, ``recency``
the days from the first to the last purchase day, ``T`` the days from the
first purchase day to the as-of day, and the Gamma-Gamma spend is the mean
value of the repeat purchase days (purchases only, before returns).
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from custseg.engines.exact_sums import exact_group_sums
from custseg.errors import EngineError, InputError
from custseg.transactions.cleaning import CleanLog
from custseg.transactions.clv_extra import INSTALL_HINT, clv_available

if TYPE_CHECKING:
    from custseg.transactions.clv_process import ClvProcess

__all__ = [
    "CLV_COLUMNS",
    "INSTALL_HINT",
    "ClvFit",
    "clv_available",
    "clv_inputs",
    "fit_clv",
    "load_models",
    "predict_clv",
]

#: Output columns of :func:`predict_clv` and their meaning.
CLV_COLUMNS: dict[str, str] = {
    "p_alive": "probability the customer is still active at the as-of date (BG/NBD)",
    "predicted_purchases": "expected purchase days over the horizon (BG/NBD)",
    "predicted_spend": "expected value of one purchase day (Gamma-Gamma)",
    "predicted_clv": "predicted_purchases x predicted_spend: value over the horizon, undiscounted",
}

_DAYS_PER_MONTH = 30  # pymc-marketing's own convention for months in daily data
_MIN_REPEAT_CUSTOMERS = 10


def clv_inputs(log: CleanLog) -> pd.DataFrame:
    """Summarise purchases per customer in the BG/NBD and Gamma-Gamma convention.

    Parameters
    ----------
    log : CleanLog

    Returns
    -------
    DataFrame of shape (n_customers, 5)
        ``customer_id`` (int, index into ``log.customers``), ``frequency``,
        ``recency``, ``T`` (days) and ``monetary_value`` (0 without repeat days).
    """
    buy = ~log.is_return
    customer, day = log.customer[buy], log.day[buy]
    days = pd.DataFrame({"customer_id": customer, "day": day})
    per_day = days.drop_duplicates().groupby("customer_id", sort=True)["day"]
    summary = pd.DataFrame(
        {"frequency": per_day.size() - 1, "first": per_day.min(), "last": per_day.max()}
    )
    # An exact sum of the lines after the first day: the same whatever their order.
    repeat = day != summary["first"].to_numpy()[customer]
    repeat_value = exact_group_sums(customer[repeat], log.value[buy][repeat], len(summary))
    as_of_day = int(log.as_of.value // 86_400_000_000_000)
    freq = summary["frequency"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(freq > 0, repeat_value / freq, 0.0)
    return pd.DataFrame(
        {
            "customer_id": summary.index.to_numpy(),
            "frequency": freq.astype(float),
            "recency": (summary["last"] - summary["first"]).to_numpy(dtype=float),
            "T": (as_of_day - summary["first"]).to_numpy(dtype=float),
            "monetary_value": monetary,
        }
    )


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence PyMC's progress and its libraries' advisory warnings during a fit."""
    loggers = [logging.getLogger(name) for name in ("pymc", "pytensor", "arviz")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


@contextlib.contextmanager
def _numba_blocked() -> Iterator[None]:
    """Make ``import numba`` fail while the model libraries are imported.

    Nothing in the fit uses numba (PyTensor compiles the likelihood with its C
    backend), but ArviZ, which PyMC imports, loads numba when it is installed and
    compiles a numba ufunc at import: most of a second on every run. ArviZ falls
    back to NumPy when the import fails, as it does without numba installed. A
    numba the process already loaded is left alone, and the block is lifted
    afterwards, so a later ``import numba`` works.
    """
    if "numba" in sys.modules:
        yield
        return
    sys.modules["numba"] = None  # type: ignore[assignment]  # Python's import-blocking marker
    try:
        yield
    finally:
        if "numba" in sys.modules and sys.modules["numba"] is None:
            del sys.modules["numba"]


def _load_models() -> tuple[Any, Any, Any]:
    from pymc_extras.prior import Prior
    from pymc_marketing.clv import BetaGeoModel, GammaGammaModel

    return BetaGeoModel, GammaGammaModel, Prior


def _import_models() -> tuple[Any, Any, Any]:
    """Return pymc-marketing's ``BetaGeoModel`` and ``GammaGammaModel`` and the ``Prior`` class.

    Imported without numba; a release of the PyMC stack that cannot load without
    it is imported again with it.

    Raises
    ------
    EngineError
        pymc-marketing is installed but fails to import (e.g. a mismatched PyMC).
    """
    try:
        with _numba_blocked():
            return _load_models()
    except ImportError:
        pass
    try:
        return _load_models()
    except ImportError as exc:
        raise EngineError(
            f"lifetime value needs pymc-marketing, which failed to import ({exc}); "
            f"reinstall it: {INSTALL_HINT}  (or pass --no-clv)"
        ) from None


def _point(values: Any) -> np.ndarray:
    """Collapse a MAP result's chain/draw dimensions to one value per customer."""
    dims = [d for d in ("chain", "draw") if d in values.dims]
    return np.asarray(values.mean(dims).values, dtype=float) if dims else np.asarray(values)


def _data_as_inputs(outputs: list[Any], n_rows: int) -> tuple[list[Any], list[Any], list[Any]]:
    """Turn the customers' data in a model's graph from constants into inputs.

    pymc-marketing builds the data into the likelihood as constants, with their
    number of rows in their type. PyTensor's compiled C modules, which it caches on
    disk, are keyed by those types: every log with a new number of customers would
    compile (and cache) new modules, seconds of C compilation. With the data as
    inputs of any length, the modules compiled once serve every log.

    Returns
    -------
    outputs : list
        ``outputs`` computed from the new inputs.
    inputs : list
        The new symbolic inputs, one per data constant (``n_rows`` rows).
    arrays : list of ndarray
        Their values, in the same order.
    """
    import pytensor.tensor as pt
    from pytensor.graph.basic import Variable
    from pytensor.graph.replace import clone_replace
    from pytensor.graph.traversal import graph_inputs
    from pytensor.tensor.variable import TensorConstant

    constants = [
        var
        for var in graph_inputs(outputs)
        if isinstance(var, TensorConstant) and var.ndim >= 1 and var.data.shape[0] == n_rows
    ]
    inputs = [pt.tensor(dtype=var.dtype, shape=(None,) * var.ndim) for var in constants]
    replace: dict[Variable, Variable] = dict(zip(constants, inputs, strict=True))
    replaced = clone_replace(outputs, replace, rebuild_strict=False)
    return list(replaced), inputs, [var.data for var in constants]


def _fit_map(model: Any, data: pd.DataFrame) -> None:
    """Fit a pymc-marketing CLV model by maximum a posteriori, with one compiled function.

    The model (its likelihood) is pymc-marketing's; what ``fit(method="map")`` does
    around it — ``pm.find_MAP`` compiling the log-probability, its gradient, a
    start-value check and a trace writer as separate PyTensor functions, seconds of
    graph rewriting on every run — is replaced by one function returning the
    log-probability and its gradient, maximised from the model's initial point by
    the same optimiser (SciPy's L-BFGS-B) on the same objective (no Jacobian term:
    with flat priors on the log scale this is the maximum-likelihood fit). The
    point is stored as the model's one-draw posterior, which its prediction
    methods and ``fit_summary`` read as after ``fit``.
    """
    import arviz as az
    import pymc as pm
    import pytensor
    from pymc.logprob.transforms import LogTransform
    from scipy.optimize import minimize
    from threadpoolctl import threadpool_limits

    model.build_model(data)
    graph = model.model
    values = graph.continuous_value_vars
    params = [graph.values_to_rvs[v] for v in values]
    for rv in params:
        if not isinstance(graph.rvs_to_transforms.get(rv), LogTransform):
            raise EngineError(f"lifetime value: parameter '{rv.name}' is not on a log scale")
    logp = graph.logp(jacobian=False)
    # pytensor types grad() as one variable, None or a sequence; given a list of
    # variables it returns a list of their gradients.
    grads = pytensor.gradient.grad(logp, values)
    outputs, inputs, arrays = _data_as_inputs([logp, *grads], len(data))  # type: ignore[misc]
    # In-place rewrites only save memory, which two small likelihoods do not need,
    # and rejected in-place candidates cost graph validations on every run.
    mode = pytensor.compile.mode.get_mode(None).excluding("inplace")
    logp_and_grad = pm.compile([*values, *inputs], outputs, mode=mode)
    start = graph.initial_point()

    def cost(x: np.ndarray) -> tuple[float, np.ndarray]:
        out = logp_and_grad(*x, *arrays)
        return -float(out[0]), -np.asarray(out[1:], dtype=float)

    x0 = np.array([start[v.name] for v in values], dtype=float)
    # A few parameters: BLAS threads only wait for each other (milliseconds a step).
    with threadpool_limits(limits=1, user_api="blas"):
        best = minimize(cost, x0, method="L-BFGS-B", jac=True).x
    # Every parameter is log-transformed (checked above): exp gives its value.
    point = {rv.name: float(np.exp(x)) for rv, x in zip(params, best, strict=True)}
    model.idata = az.from_dict(posterior={k: np.array([[v]]) for k, v in point.items()})


@dataclass(frozen=True)
class ClvFit:
    """What the two models give for each customer of a :func:`clv_inputs` table.

    Attributes
    ----------
    p_alive, purchases, spend : ndarray of shape (n_customers,)
        P(alive) and expected purchase days over the horizon (BG/NBD), and the
        expected value of one purchase day (Gamma-Gamma); unrounded.
    params : dict
        ``bg_nbd`` and ``gamma_gamma``: each model's fitted parameters.
    """

    p_alive: np.ndarray
    purchases: np.ndarray
    spend: np.ndarray
    params: dict[str, dict[str, float]]


def load_models() -> tuple[Any, Any, Any]:
    """Import the model libraries quietly; the models and ``Prior`` (see :func:`fit_clv`).

    Raises
    ------
    EngineError
        pymc-marketing is installed but fails to import.
    """
    with _quiet(), _compiler_checked():
        return _import_models()


@contextlib.contextmanager
def _compiler_checked() -> Iterator[None]:
    """Let PyTensor check the C compiler while the rest of the model libraries load.

    Before its first compiled function, PyTensor asks g++ for this CPU's flags and
    compiles and runs a test program with them: about half a second of waiting for
    other processes, once per process. Started in a thread as soon as PyTensor is
    imported, the check runs while the rest (PyMC, ArviZ, pymc-marketing) loads,
    which takes longer. It finds the same flags, so everything compiled with them is
    the same.
    """
    if "pymc_marketing.clv" in sys.modules:
        yield
        return
    try:
        from pytensor.link.c.cmodule import GCC_compiler
    except ImportError:  # the import of the models reports it
        yield
        return

    def check() -> None:
        with contextlib.suppress(Exception):  # the first compiled function reports it
            GCC_compiler.compile_args()

    thread = threading.Thread(target=check, name="custseg-compiler-check", daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def fit_clv(data: pd.DataFrame, *, horizon_months: int) -> ClvFit:
    """Fit BG/NBD and Gamma-Gamma on a :func:`clv_inputs` table and predict from them.

    Parameters
    ----------
    data : DataFrame of shape (n_customers, 5)
        As :func:`clv_inputs` returns it, with at least ten customers who have
        repeat days with a positive spend (checked by :func:`predict_clv`).
    horizon_months : int
        Prediction horizon, in months of 30 days.

    Returns
    -------
    ClvFit
    """
    repeat = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
    BetaGeoModel, GammaGammaModel, Prior = load_models()
    with _quiet():
        flat = Prior("HalfFlat")
        bg = BetaGeoModel(model_config={k: flat for k in ("r", "alpha", "a", "b")})
        _fit_map(bg, data)
        gg = GammaGammaModel(model_config={k: flat for k in ("p", "q", "v")})
        _fit_map(gg, repeat)
        features = data[["customer_id", "frequency", "recency", "T"]]
        p_alive = _point(bg.expected_probability_alive(data=features))
        purchases = _point(
            bg.expected_purchases(data=features, future_t=horizon_months * _DAYS_PER_MONTH)
        )
        # For customers without repeat days (spend 0 here) Gamma-Gamma returns its
        # population mean, which is the model's honest guess for them.
        spend = _point(gg.expected_customer_spend(data=data))
        params = {
            "bg_nbd": {k: float(v) for k, v in bg.fit_summary().items()},
            "gamma_gamma": {k: float(v) for k, v in gg.fit_summary().items()},
        }
    return ClvFit(p_alive=p_alive, purchases=purchases, spend=spend, params=params)


def predict_clv(
    log: CleanLog, *, horizon_months: int = 12, process: ClvProcess | None = None
) -> tuple[pd.DataFrame, dict]:
    """Fit BG/NBD and Gamma-Gamma on the log and predict each customer's value.

    Parameters
    ----------
    log : CleanLog
    horizon_months : int, default 12
        Prediction horizon, in months of 30 days.
    process : ClvProcess, optional
        A helper process started earlier (:mod:`custseg.transactions.clv_process`),
        which has imported the model libraries meanwhile: the models are fitted
        there. Default, or when the helper fails: in this process, with the same
        result.

    Returns
    -------
    predictions : DataFrame of shape (n_customers, 4)
        Columns of :data:`CLV_COLUMNS`, in ``log.customers`` order.
    info : dict
        ``library``, ``models``, ``horizon_months``, fitted ``params`` and
        ``repeat_customers`` (customers the spend model saw). No timings: the
        summary it goes into is byte-identical from run to run
        (``benchmarks/features.py`` times the fit).

    Raises
    ------
    EngineError
        pymc-marketing is not installed (the message gives the pip line).
    InputError
        Fewer than 10 customers bought on two different days: too few to fit.
    """
    if horizon_months < 1:
        raise InputError(f"--horizon must be at least 1 month; got {horizon_months}")
    if not clv_available():
        raise EngineError(
            "lifetime value needs pymc-marketing, which is not installed; "
            f"run: {INSTALL_HINT}  (or pass --no-clv)"
        )
    data = clv_inputs(log)
    repeat = int(((data["frequency"] > 0) & (data["monetary_value"] > 0)).sum())
    if repeat < _MIN_REPEAT_CUSTOMERS:
        raise InputError(
            f"lifetime value needs at least {_MIN_REPEAT_CUSTOMERS} customers who bought on "
            f"two different days; this log has {repeat}. Pass --no-clv"
        )
    fit = process.fit(data, horizon_months=horizon_months) if process is not None else None
    if fit is None:
        fit = fit_clv(data, horizon_months=horizon_months)
    from importlib.metadata import version  # only here: it costs every command's start

    predictions = pd.DataFrame(
        {
            "p_alive": np.round(fit.p_alive, 4),
            "predicted_purchases": np.round(fit.purchases, 3),
            "predicted_spend": np.round(fit.spend, 2),
            "predicted_clv": np.round(fit.purchases * fit.spend, 2),
        }
    )
    info = {
        "library": f"pymc-marketing {version('pymc-marketing')}",
        "models": "BG/NBD (purchases, P(alive)) + Gamma-Gamma (spend), MAP with flat priors",
        "horizon_months": horizon_months,
        "params": fit.params,
        "repeat_customers": repeat,
    }
    return predictions, info
