"""Clustering engines behind one registry.

Each engine registers under a name; :func:`get_engine` finds it and an unknown
name fails with the list of valid ones. Every engine returns a
:class:`~custseg.engines.base.Fitted` whose centres live in the scaled feature
space, so that a saved model can score new customers without the engine.
"""

from custseg.engines.base import Engine, Fitted, available_engines, get_engine, register
from custseg.engines import kmeans as _kmeans  # noqa: F401  (registers itself)

__all__ = ["Engine", "Fitted", "available_engines", "get_engine", "register"]
