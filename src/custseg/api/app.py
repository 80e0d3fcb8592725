"""The app factory: settings in, a FastAPI app serving one model out.

Nothing is built at import time: :func:`create_app` loads the model named by its
settings (or takes one already loaded), so each app is independent.
:func:`create_app_from_env` is the zero-argument factory uvicorn calls in its
worker processes (``custseg serve`` passes the settings through ``CUSTSEG_*``
environment variables, with the version every worker must serve).
"""

from __future__ import annotations

import gc
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from uvicorn.config import STARTUP_FAILURE

from custseg._version import __version__
from custseg.api.errors import install_error_handlers
from custseg.api.health import ModelFileWatch
from custseg.api.middleware import OPEN_PATHS, GateMiddleware
from custseg.api.routes import SCORE_REQUEST_REF, build_router
from custseg.api.schemas import build_request_model
from custseg.api.settings import Settings
from custseg.errors import CustsegError, ModelError
from custseg.model import SegmentModel, load_model
from custseg.serving import model_card

logger = logging.getLogger("custseg.api")

__all__ = ["create_app", "create_app_from_env"]

_DESCRIPTION = """\
Assign customers to the segments of a custseg model, one at a time or up to
{max_customers} per request. Results equal `custseg score` on the same rows.

Every error has the body `{{"error": {{"status", "code", "message", "details"}}}}`.
Values more than {tolerance:g} × the training range beyond the training min/max are
scored and listed in `warnings`, as are unknown (null) values filled with the
training median. With `"explain": true` each result says which features put the
customer in their segment rather than the next nearest one.
"""


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # Everything the service keeps for its life is loaded by now (pandas, scikit-learn,
    # the model): leave it out of the cyclic garbage collector's scans, which would
    # otherwise walk those hundreds of thousands of objects again and again while a
    # request builds its answer (ten times the cost of building 1,000 results).
    gc.freeze()
    yield


def create_app(settings: Settings, *, model: SegmentModel | None = None) -> FastAPI:
    """Build the scoring service for the model named in ``settings``.

    Parameters
    ----------
    settings : Settings
    model : SegmentModel, optional
        The model, when the caller has loaded it already (``custseg serve`` loads
        it once); read from ``settings.model_path`` otherwise.

    Returns
    -------
    FastAPI

    Raises
    ------
    ModelError, InputError
        The model cannot be loaded, is not the version ``settings.model_version``
        pins, or the API key file cannot be read.
    """
    if model is None:
        model = load_model(settings.model_path)
    api_key = settings.resolved_api_key()
    card = model_card(model)
    version = card["model_version"]
    if settings.model_version is not None and version != settings.model_version:
        raise ModelError(
            f"'{settings.model_path}' holds model {version}, not {settings.model_version} "
            "that this service was started with; restart custseg serve to serve it"
        )
    request_model = build_request_model(model, max_customers=settings.max_customers)

    app = FastAPI(
        lifespan=_lifespan,
        title="custseg scoring service",
        version=__version__,
        description=_DESCRIPTION.format(
            max_customers=settings.max_customers, tolerance=settings.range_tolerance
        ),
    )
    app.state.model = model
    app.state.settings = settings
    app.state.card = card
    app.state.watch = ModelFileWatch(settings.model_origin or settings.model_path, version)
    app.include_router(build_router(model, request_model, tolerance=settings.range_tolerance))
    install_error_handlers(app, max_customers=settings.max_customers)
    app.add_middleware(
        GateMiddleware,
        api_key=api_key,
        max_body_bytes=settings.max_body_bytes,
        max_concurrent=settings.max_concurrent,
        body_timeout=settings.body_timeout,
    )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _add_request_schema(schema, request_model)
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


def _add_request_schema(schema: dict[str, Any], request_model: type[BaseModel]) -> None:
    """Put the ``POST /v1/score`` body schema where the route's reference points."""
    body = request_model.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(body.pop("$defs", {}))
    components[SCORE_REQUEST_REF.rsplit("/", 1)[1]] = body


def create_app_from_env() -> FastAPI:
    """:func:`create_app` with :meth:`Settings.from_env` (uvicorn's ``factory=True`` entry).

    A model that cannot be served stops the worker with uvicorn's start-up failure
    code, on which uvicorn stops the whole service instead of restarting the worker
    again and again.
    """
    try:
        return create_app(Settings.from_env())
    except CustsegError as exc:
        logger.error("custseg: error: %s", " ".join(str(exc).split()))
        sys.exit(STARTUP_FAILURE)
