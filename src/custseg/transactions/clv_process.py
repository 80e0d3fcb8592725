"""Fit lifetime value in a helper process that imports the model libraries early.

Most of what lifetime value costs a command is importing PyMC and pymc-marketing,
which needs no data. So ``custseg features`` starts a helper process before it reads
the log: the helper imports the model libraries while the command reads and cleans
the log, then takes the per-customer inputs (:func:`~custseg.transactions.clv.clv_inputs`,
one small row per customer), fits the two models and sends the values back.

The helper is this module run as ``python -m custseg.transactions.clv_process``. It
reads one request on its standard input and answers on its standard output, then
exits. Each message is a 4-byte big-endian length then its bytes. The request is a
JSON header (``horizon_months``, ``columns``) then one NumPy ``.npy`` array per column;
the answer a JSON header (``params``) then the ``.npy`` arrays of
:class:`~custseg.transactions.clv.ClvFit`, or nothing when the fit failed. Arrays
are read without pickle. The helper runs the same :func:`fit_clv` as the caller
would, so the values are the same to the bit; when it cannot start, dies or fails,
:meth:`ClvProcess.fit` returns ``None`` and the caller fits in its own process. Its
compiled modules are kept in custseg's cache (:func:`helper_environment`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from custseg.errors import EngineError
from custseg.io.paths import cache_dir
from custseg.io.pipes import (
    receive_message,
    send_message,
    serve_standard_streams,
    start_helper,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from custseg.transactions.clv import ClvFit

__all__ = ["ClvProcess", "collector_paused", "helper_environment", "load_models_alone", "serve"]

_ARRAYS = ("p_alive", "purchases", "spend")
#: PyTensor's settings: in its flags, and in the files it reads them from.
_PYTENSOR_FLAGS = "PYTENSOR_FLAGS"
_PYTENSOR_RC = ("PYTENSORRC", ".pytensorrc", ".pytensorrc.txt")
#: Packages whose own module imports much that lifetime value never uses.
_PACKAGES = ("pymc_marketing", "pymc_extras")


def _npy(values: np.ndarray) -> bytes:
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


def _array(message: bytes | None) -> np.ndarray:
    import numpy as np

    if message is None:
        raise EOFError("the message ended early")
    return np.load(io.BytesIO(message), allow_pickle=False)


def helper_environment() -> dict[str, str] | None:
    """The helper's environment: PyTensor's compiled modules in custseg's cache folder.

    PyTensor keeps the C modules it compiles in one folder, shared by everything that
    uses it, and reads the key of every module there before its first compile: a
    few tenths of a second once a few hundred are kept. In custseg's own folder
    (:func:`~custseg.io.paths.cache_dir`) there are only the few that custseg's
    models need. The modules are compiled from the same code with the same flags as
    in PyTensor's default folder, so the values are the same. A folder the user
    chose for PyTensor (in its flags or its configuration file) is kept. None when
    the environment stays as it is.

    PyTensor also keeps, on every node of a graph it builds, the lines of the
    caller's code that made it, for its error messages: thousands of stack walks per
    fit. The helper's graphs are custseg's, and a helper that fails leaves the fit to
    the command, which keeps them; so the helper keeps none (``traceback__limit=0``,
    not part of the compiled modules' keys), unless the user set it.
    """
    folder = cache_dir()
    flags = os.environ.get(_PYTENSOR_FLAGS, "")
    if folder is None or "compiledir" in flags or os.environ.get(_PYTENSOR_RC[0]):
        return None
    with contextlib.suppress(RuntimeError):  # no home folder: no configuration file
        if any((Path.home() / name).exists() for name in _PYTENSOR_RC[1:]):
            return None
    base = folder / "pytensor"
    if "," in str(base) or "=" in str(base):  # PyTensor's flags cannot say it
        return None
    setting = f"base_compiledir={base}"
    if "traceback__" not in flags:
        setting += ",traceback__limit=0"
    return {**os.environ, _PYTENSOR_FLAGS: f"{flags},{setting}" if flags else setting}


def load_models_alone() -> None:
    """Import pymc-marketing's CLV models without the rest of pymc-marketing and pymc-extras.

    pymc-marketing's package module imports all of its model families (media mix,
    Bass diffusion, customer choice, with seaborn for their plots) and its data
    helpers, a quarter of a second that lifetime value never uses; its CLV module
    needs none of them. Likewise pymc-extras' package module imports its state-space
    models, inference methods and distributions, a tenth of a second, where the CLV
    models need only its ``Prior`` class. So each package module is set up without
    running its code, and the modules the CLV models need are imported into it from
    the same files. The helper process does nothing else, so nothing else can miss
    what was skipped. When that import fails for any reason (a release whose modules
    need their package's code), it is undone and everything is imported as usual.

    Raises
    ------
    EngineError
        pymc-marketing is installed but fails to import.
    """
    from custseg.transactions.clv import load_models

    alone = [name for name in _PACKAGES if _package_without_its_code(name)]
    if not alone:
        load_models()
        return
    try:
        load_models()
        return
    except Exception:  # whatever broke, the usual import is the answer
        for name in [n for n in sys.modules if n.partition(".")[0] in alone]:
            del sys.modules[name]
    load_models()


def _package_without_its_code(name: str) -> bool:
    """Put package ``name``'s module in place without running it; False when it cannot."""
    spec = importlib.util.find_spec(name)
    if name in sys.modules or spec is None or spec.submodule_search_locations is None:
        return False
    sys.modules[name] = importlib.util.module_from_spec(spec)
    return True


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Turn off Python's cyclic garbage collector for the block; restore it after.

    Importing PyMC, PyTensor and ArviZ creates hundreds of thousands of objects that
    live as long as the process, and the collector walks all of them again and again
    while they are created; so do PyTensor's graph rewrites, which build and drop
    many small graphs. The helper does that work once and exits, so in it those
    passes only cost time: about a fifth of its imports and fit. What it leaves as
    cycles is under ten megabytes, whatever the number of customers, freed when it
    exits. Reference counting still frees everything else (the arrays) at once. A
    collector already off stays off.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """The helper's work: import the model libraries, then answer one request."""
    with collector_paused():
        _serve(requests, answers)


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    import pandas as pd

    from custseg.transactions.clv import fit_clv

    try:
        load_models_alone()
    except EngineError:
        return  # the caller imports them itself and reports the failure
    message = receive_message(requests)
    if message is None:
        return
    header = json.loads(message)
    data = pd.DataFrame({name: _array(receive_message(requests)) for name in header["columns"]})
    fit = fit_clv(data, horizon_months=header["horizon_months"])
    send_message(answers, json.dumps({"params": fit.params}).encode())
    for name in _ARRAYS:
        send_message(answers, _npy(getattr(fit, name)))
    answers.flush()


class ClvProcess:
    """A helper process that imports the model libraries now and fits them later.

    Use it as a context manager and call :meth:`fit` once. On leaving, a helper that
    was not asked (or a block that raised) is stopped at once.
    """

    def __init__(self) -> None:
        self._proc = start_helper("custseg.transactions.clv_process", helper_environment())

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The helper process, or None when it did not start."""
        return self._proc

    def fit(self, data: pd.DataFrame, *, horizon_months: int) -> ClvFit | None:
        """:func:`~custseg.transactions.clv.fit_clv` in the helper; None when it fails there."""
        proc, self._proc = self._proc, None  # one request per helper
        if proc is None:
            return None
        try:
            return self._ask(proc, data, horizon_months)
        except (OSError, EOFError, ValueError, KeyError):
            return None
        finally:
            self._stop(proc, kill=True)

    @staticmethod
    def _ask(proc: subprocess.Popen[bytes], data: pd.DataFrame, horizon_months: int) -> ClvFit:
        requests, answers = proc.stdin, proc.stdout
        if requests is None or answers is None:
            raise EOFError("the helper has no pipes")
        header = {"horizon_months": horizon_months, "columns": list(data.columns)}
        send_message(requests, json.dumps(header).encode())
        for name in data.columns:
            send_message(requests, _npy(data[name].to_numpy()))
        requests.close()
        message = receive_message(answers)
        if message is None:
            raise EOFError("the helper stopped without an answer")
        params = json.loads(message)["params"]
        arrays = {name: _array(receive_message(answers)) for name in _ARRAYS}
        from custseg.transactions.clv import ClvFit

        return ClvFit(params=params, **arrays)

    @staticmethod
    def _stop(proc: subprocess.Popen[bytes], *, kill: bool) -> None:
        if kill:
            proc.kill()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        proc.wait()

    def __enter__(self) -> ClvProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            self._stop(proc, kill=True)


if __name__ == "__main__":
    serve_standard_streams(serve)
