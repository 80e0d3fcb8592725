"""The service's log configuration: uvicorn's, with query strings kept out.

uvicorn's access line carries the path with its query string; a client that
sends a key or customer data as ``?api_key=...`` would have it written to the
log. :class:`PathOnly` cuts every access line's path at the ``?``.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG

__all__ = ["PathOnly", "log_config"]


class PathOnly(logging.Filter):
    """Drop the query string from uvicorn's access lines (method, path, status stay)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn's access record: (client, method, path with query, HTTP version, status).
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with :class:`PathOnly` on the access log, whose
    lines also name the worker process that answered."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["path_only"] = {"()": f"{__name__}.PathOnly"}
    config["handlers"]["access"].setdefault("filters", []).append("path_only")
    access = config["formatters"]["access"]
    access["fmt"] = access["fmt"].replace("%(levelprefix)s ", "%(levelprefix)s [%(process)d] ")
    return config
