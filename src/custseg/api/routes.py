"""The routes: request schema → library → response schema, nothing more.

``POST /v1/score`` reads its body itself: pydantic validates the raw JSON bytes
against the request schema in one pass (no intermediate Python objects), the
library scores the rows, and orjson writes the documented response. The
request schema is still the one in ``/openapi.json`` (see ``app.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, TypeAdapter, ValidationError

from custseg.api.deps import CardDep, SettingsDep, WatchDep
from custseg.api.errors import ErrorResponse, validation_response
from custseg.api.schemas import Health, ModelCard, ScoreResponse, id_key
from custseg.model import SegmentModel
from custseg.serving import RowScorer

__all__ = ["SCORE_REQUEST_REF", "build_router"]

#: Where ``/openapi.json`` keeps the request schema of ``POST /v1/score``.
SCORE_REQUEST_REF = "#/components/schemas/ScoreRequest"

_ERROR = {"model": ErrorResponse}
_AUTH: dict[int | str, dict[str, Any]] = {
    401: {**_ERROR, "description": "Missing or wrong API key (when one is configured)."}
}
_BUSY: dict[int | str, dict[str, Any]] = {
    503: {
        **_ERROR,
        "description": "The worker already holds its limit of scoring requests, or is "
        "stopping; retry after the Retry-After seconds.",
    }
}
_SCORE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "Malformed JSON body."},
    **_AUTH,
    408: {**_ERROR, "description": "The body was not received within the body timeout."},
    413: {**_ERROR, "description": "Too many customers, or a body over the size limit."},
    415: {**_ERROR, "description": "The body is not sent as JSON (Content-Type)."},
    422: {
        **_ERROR,
        "description": "A missing feature, a wrong type, NaN or infinity; details name the "
        "customer index and the field.",
    },
    **_BUSY,
}


def _feature_rows(customers: list[dict[str, Any]], names: list[str]) -> list[Any]:
    """Each customer's feature values in model order (validated: numbers or None)."""
    rows = list(map(itemgetter(*names), customers))
    return rows if len(names) > 1 else [(value,) for value in rows]


def build_router(
    model: SegmentModel, request_model: type[BaseModel], *, tolerance: float
) -> APIRouter:
    """Routes for ``model``, whose ``POST /v1/score`` body is ``request_model``;
    ``tolerance`` is the range rule's (``Settings.range_tolerance``)."""
    router = APIRouter()
    _add_service_routes(router)
    _add_score_route(router, TypeAdapter(request_model).validate_json, model, tolerance)
    return router


def _add_service_routes(router: APIRouter) -> None:
    """``/healthz`` and ``/v1/model``: what a probe and a client read before scoring."""

    # HEAD answers like GET without a body (probes that only read the status use it);
    # it is left out of the schema, where it would repeat GET's operation.
    @router.head("/healthz", include_in_schema=False)
    @router.get(
        "/healthz",
        tags=["service"],
        summary="Liveness and readiness probe (no API key needed)",
    )
    async def healthz(request: Request, watch: WatchDep) -> Health:
        """Ready once the model is loaded and checked; names the model version served and
        whether the model file it came from still holds it (``model_file``)."""
        return Health(
            ready=True,
            model_version=request.app.state.card["model_version"],
            model_file=watch.status(),
        )

    @router.get(
        "/v1/model",
        tags=["scoring"],
        summary="Describe the served model",
        responses=_AUTH,
    )
    async def describe_model(card: CardDep, settings: SettingsDep) -> ModelCard:
        """Features with their types and training ranges, segments with names and
        profiles (centre in original units and z-scores), model version and the
        fingerprint of the training data."""
        return ModelCard(
            **card,
            range_tolerance=settings.range_tolerance,
            max_customers=settings.max_customers,
        )


def _add_score_route(
    router: APIRouter, parse: Callable[[bytes], BaseModel], model: SegmentModel, tolerance: float
) -> None:
    """``POST /v1/score``: validate the raw body in one pass, score, write JSON."""
    names = model.feature_names
    echo = id_key(model)
    scorer = RowScorer(model, tolerance=tolerance)

    @router.post(
        "/v1/score",
        tags=["scoring"],
        summary="Assign customers to segments",
        response_model=ScoreResponse,
        responses=_SCORE_ERRORS,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": SCORE_REQUEST_REF}}},
            }
        },
    )
    async def score(request: Request) -> Response:
        """Score 1 to 10,000 customers (the limit is a setting). Each result echoes the
        customer's id and gives segment, segment_name, distance_to_center,
        probabilities (models that have them), warnings for values filled in or far
        outside the training range and, with `"explain": true`, why the customer is in
        their segment. Results equal `custseg score` on the same rows."""
        state = request.app.state
        settings = state.settings
        body = await request.body()
        try:
            payload = parse(body)
        except ValidationError as exc:
            return validation_response(exc.errors(), settings.max_customers, body=body)
        customers = payload.customers  # type: ignore[attr-defined]
        records = scorer.records(
            _feature_rows(customers, names),
            [customer.get(echo) for customer in customers],
            explain=payload.explain,  # type: ignore[attr-defined]
        )
        # Plain JSON of the documented ScoreResponse shape: building 10,000 pydantic
        # objects (and validating them again) would cost more than the scoring.
        content = orjson.dumps(
            {
                "model_version": state.card["model_version"],
                "n_customers": len(records),
                "results": records,
            }
        )
        return Response(content, media_type="application/json")
