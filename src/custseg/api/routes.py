"""The service's routes: schema in, one library call, schema out.

No ``from __future__ import annotations`` here: the score route's body type is
built at start-up from the model, and FastAPI must see the class itself.
"""

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from custseg.api.deps import CardDep, ModelDep, SettingsDep
from custseg.api.errors import ErrorResponse
from custseg.api.schemas import Health, ModelCard, ScoreResponse
from custseg.serving import score_records

__all__ = ["build_router"]

_ERROR = {"model": ErrorResponse}
_AUTH = {401: {**_ERROR, "description": "Missing or wrong API key (when one is configured)."}}
_SCORE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "Malformed JSON body."},
    **_AUTH,
    413: {**_ERROR, "description": "Too many customers, or a body over the size limit."},
    422: {
        **_ERROR,
        "description": "A missing feature, a wrong type, NaN or infinity; details name the "
        "customer index and the field.",
    },
}


def build_router(request_model: type[BaseModel]) -> APIRouter:
    """Routes for a model whose ``POST /v1/score`` body is ``request_model``."""
    router = APIRouter()

    @router.get("/healthz", tags=["service"], summary="Liveness probe (no API key needed)")
    def healthz() -> Health:
        return Health()

    @router.get(
        "/v1/model",
        tags=["scoring"],
        summary="Describe the served model",
        responses=_AUTH,
    )
    def describe_model(card: CardDep, settings: SettingsDep) -> ModelCard:
        """Features with their types and training ranges, segments with names and
        profiles (centre in original units and z-scores), model version and the
        fingerprint of the training data."""
        return ModelCard(
            **card,
            range_tolerance=settings.range_tolerance,
            max_customers=settings.max_customers,
        )

    @router.post(
        "/v1/score",
        tags=["scoring"],
        summary="Assign customers to segments",
        response_model=ScoreResponse,
        responses=_SCORE_ERRORS,
    )
    def score(
        payload: Annotated[request_model, Body()],  # type: ignore[valid-type]
        model: ModelDep,
        settings: SettingsDep,
        card: CardDep,
    ) -> JSONResponse:
        """Score 1 to 10,000 customers (the limit is a setting). Each result echoes the
        customer's id and gives segment, segment_name, distance_to_center,
        probabilities (models that have them) and warnings for values far outside
        the training range. Results equal `custseg score` on the same rows."""
        customers = payload.customers  # type: ignore[attr-defined]
        n_features = len(model.features)
        X = np.empty((len(customers), n_features))
        for i, customer in enumerate(customers):
            for j in range(n_features):
                value = getattr(customer, f"f{j}")
                X[i, j] = np.nan if value is None else value
        records = score_records(model, X, tolerance=settings.range_tolerance)
        # Plain JSON of the documented ScoreResponse shape: building 10,000 pydantic
        # objects (and FastAPI validating them again) took ~1 s of a 10,000-customer
        # request; the shape is pinned by the tests and schemathesis instead.
        return JSONResponse(
            {
                "model_version": card["model_version"],
                "n_customers": len(records),
                "results": [
                    {"index": i, "id": customer.customer_id, **record}
                    for i, (customer, record) in enumerate(zip(customers, records, strict=True))
                ],
            }
        )

    return router
