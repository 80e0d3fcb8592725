"""The app factory: settings in, a FastAPI app serving one model out.

Nothing is built at import time: :func:`create_app` loads the model named by its
settings, so each app (and each uvicorn worker) is independent.
:func:`create_app_from_env` is the zero-argument factory uvicorn calls in its
worker processes (``custseg serve`` passes the settings through ``CUSTSEG_*``
environment variables).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from custseg._version import __version__
from custseg.api.errors import install_error_handlers
from custseg.api.middleware import OPEN_PATHS, GateMiddleware
from custseg.api.routes import build_router
from custseg.api.schemas import build_request_model
from custseg.api.settings import Settings
from custseg.model import load_model
from custseg.serving import model_card

__all__ = ["create_app", "create_app_from_env"]

_DESCRIPTION = """\
Assign customers to the segments of a custseg model, one at a time or up to
{max_customers} per request. Results equal `custseg score` on the same rows.

Every error has the body `{{"error": {{"status", "code", "message", "details"}}}}`.
Values more than {tolerance:g} × the training range beyond the training min/max are
scored and listed in `warnings`.
"""


def create_app(settings: Settings) -> FastAPI:
    """Build the scoring service for the model named in ``settings``.

    Parameters
    ----------
    settings : Settings

    Returns
    -------
    FastAPI

    Raises
    ------
    ModelError, InputError
        The model cannot be loaded, or the API key file cannot be read.
    """
    model = load_model(settings.model_path)
    api_key = settings.resolved_api_key()
    card = model_card(model)
    request_model = build_request_model(model, max_customers=settings.max_customers)

    app = FastAPI(
        title="custseg scoring service",
        version=__version__,
        description=_DESCRIPTION.format(
            max_customers=settings.max_customers, tolerance=settings.range_tolerance
        ),
    )
    app.state.model = model
    app.state.settings = settings
    app.state.card = card
    app.include_router(build_router(request_model))
    install_error_handlers(app, max_customers=settings.max_customers)
    app.add_middleware(GateMiddleware, api_key=api_key, max_body_bytes=settings.max_body_bytes)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            if api_key is not None:
                schema.setdefault("components", {})["securitySchemes"] = {
                    "bearer": {"type": "http", "scheme": "bearer"}
                }
                for path, operations in schema.get("paths", {}).items():
                    if path in OPEN_PATHS:
                        continue
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def create_app_from_env() -> FastAPI:
    """:func:`create_app` with :meth:`Settings.from_env` (uvicorn's ``factory=True`` entry)."""
    return create_app(Settings.from_env())
