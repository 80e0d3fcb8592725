"""Whether the lifetime-value extra is installed, and how to install it.

Light enough for a command's first moments: it imports neither pandas nor the models.
"""

from __future__ import annotations

import importlib.util

__all__ = ["INSTALL_HINT", "clv_available"]

INSTALL_HINT = 'pip install "custseg[clv]"'


def clv_available() -> bool:
    """Return whether pymc-marketing (the ``clv`` extra) is installed."""
    return importlib.util.find_spec("pymc_marketing") is not None
