"""Clustering engines behind one registry.

Each engine registers under a name; :func:`get_engine` finds it and an unknown
name fails with the list of valid ones. Every engine returns a
:class:`~custseg.engines.base.Fitted` whose centres live in the scaled feature
space, so that a saved model can score new customers without the engine. The
contract is documented in :mod:`custseg.engines.base`.
"""

from custseg.engines import agglomerative as _agglomerative  # noqa: F401
from custseg.engines import density as _density  # noqa: F401
from custseg.engines import gmm as _gmm  # noqa: F401
from custseg.engines import kmeans as _kmeans  # noqa: F401  (registers itself)
from custseg.engines.base import Engine, Fitted, available_engines, get_engine, register

__all__ = [
    "DEFAULT_ALGORITHMS",
    "Engine",
    "Fitted",
    "available_engines",
    "get_engine",
    "register",
]

#: One engine of each family: what ``custseg compare`` fits when not told otherwise.
DEFAULT_ALGORITHMS = ("kmeans", "gmm", "agglomerative", "hdbscan")
