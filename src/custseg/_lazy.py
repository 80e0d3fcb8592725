"""Packages that import their modules on first use (PEP 562).

``import custseg`` and ``import custseg.<package>`` run no heavy code: a package's
``__init__`` declares what it offers, and the module behind a name is imported the
first time the name is looked up. So ``custseg --help`` and a refused bad input
start in a fraction of a second, and ``custseg score`` loads pandas but never
scikit-learn, Altair or Spark. This is the one mechanism custseg uses to defer its
own modules (the approach of Scientific Python's SPEC 1, without the dependency):

* every submodule of a package is an attribute that imports it when looked up:
  ``custseg.segmentation.compare.compare_algorithms(...)`` after ``import custseg``;
* a package re-exports names by importing them under ``if typing.TYPE_CHECKING:``
  — type checkers read those imports, and :func:`attach` reads the same lines to
  know which module defines each name, so each name is declared once. (``import
  typing`` and ``attach as _attach`` keep the package's namespace to its exports.)

Modules whose job is to start fast — the command-line modules — import ``custseg``
at the top and look library functions up inside the command, when it runs. Library
modules import each other as usual. Heavy third-party libraries used by one function
only (scikit-learn in a model that merely scores, SciPy, PyMC) are imported inside
that function. ``tests/test_startup.py`` checks which libraries each command loads.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["attach"]


def _declared_names(init_file: str, package: str) -> dict[str, str]:
    """Map each name imported under ``if typing.TYPE_CHECKING:`` in ``init_file`` to its module."""
    tree = ast.parse(Path(init_file).read_text(encoding="utf-8"))
    origin: dict[str, str] = {}
    for node in tree.body:
        if not (isinstance(node, ast.If) and ast.unparse(node.test) == "typing.TYPE_CHECKING"):
            continue
        for stmt in node.body:
            if isinstance(stmt, ast.ImportFrom) and stmt.module and stmt.level == 0:
                for alias in stmt.names:
                    origin[alias.asname or alias.name] = stmt.module
    # A package's own submodules imported as names (`from custseg import io`) are
    # submodules, found by attach() itself.
    return {name: module for name, module in origin.items() if module != package}


def attach(package: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return the ``__getattr__`` and ``__dir__`` that make ``package`` load lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__``; its ``__init__`` must be executing or done.

    Returns
    -------
    getattr_ : callable
        Imports a submodule, or the module that defines a re-exported name, on
        first look-up, and caches the value on the package.
    dir_ : callable
        The package's names, submodules and re-exported names included.

    Examples
    --------
    In a package's ``__init__.py``::

        import typing

        from custseg._lazy import attach as _attach

        if typing.TYPE_CHECKING:
            from custseg.io.tables import read_table

        __getattr__, __dir__ = _attach(__name__)
        __all__ = ["read_table"]
    """
    module = sys.modules[package]
    init_file = module.__file__ or ""
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    origin = _declared_names(init_file, package)

    def getattr_(name: str) -> Any:
        if name in origin:
            value = getattr(importlib.import_module(origin[name]), name)
        elif name in submodules:
            value = importlib.import_module(f"{package}.{name}")
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(module, name, value)
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(module)) | submodules | set(origin))

    return getattr_, dir_
