"""The scoring service: a FastAPI app that assigns customers to a model's segments.

Needs the ``api`` extra (``pip install 'custseg[api]'``). Build an app with
:func:`create_app`; ``custseg serve MODEL`` runs one under uvicorn.

>>> from custseg.api import Settings, create_app      # doctest: +SKIP
>>> app = create_app(Settings(model_path="custseg-out/model.json"))  # doctest: +SKIP
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "the scoring service needs FastAPI and uvicorn: pip install 'custseg[api]'"
    ) from exc

from custseg.api.app import create_app, create_app_from_env
from custseg.api.settings import Settings

__all__ = ["Settings", "create_app", "create_app_from_env"]
