"""Request and response schemas of the scoring service.

Requests and responses are separate classes. The request schema depends on the
model being served, so it is built at start-up by :func:`build_request_model`
with :func:`pydantic.create_model`: one required field per model feature
(the exact column name as the JSON key), each a finite number or ``null``.
This validation is the service's only boundary check; the scoring code behind
it trusts what passed.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    create_model,
)

from custseg.model import SegmentModel

__all__ = [
    "FEATURE_BOUND",
    "FeatureInfo",
    "Health",
    "ModelCard",
    "ScoreResponse",
    "ScoreWarning",
    "ScoredCustomer",
    "SegmentInfo",
    "TrainingInfo",
    "build_request_model",
    "id_key",
]

#: Feature values must lie in [-FEATURE_BOUND, FEATURE_BOUND]: far beyond any real
#: customer, and small enough that scaled squared distances cannot overflow.
FEATURE_BOUND = 1e100

CustomerId = Annotated[
    StrictStr | StrictInt | None,
    Field(description="Your identifier for the customer, echoed back unchanged."),
]


def id_key(model: SegmentModel) -> str:
    """Key of the echoed customer identifier: ``id``, or ``_id`` if a feature is named ``id``."""
    return "_id" if "id" in model.feature_names else "id"


def build_request_model(model: SegmentModel, *, max_customers: int) -> type[BaseModel]:
    """The ``POST /v1/score`` body schema for ``model``.

    Parameters
    ----------
    model : SegmentModel
    max_customers : int
        ``maxItems`` of ``customers``.

    Returns
    -------
    pydantic model class
        ``ScoreRequest`` with ``customers``: a list of 1..max_customers
        ``Customer`` objects. Keys besides the features and the id are ignored.
    """
    fields: dict[str, Any] = {}
    for j, feature in enumerate(model.features):
        name = str(feature["name"])
        described = (
            f"'{name}' in original units (trained on {float(feature['min']):g} to "
            f"{float(feature['max']):g}); null means unknown and follows the model's "
            f"missing-value policy ({model.missing})."
        )
        value_type = Annotated[
            StrictFloat | None,
            Field(allow_inf_nan=False, ge=-FEATURE_BOUND, le=FEATURE_BOUND),
        ]
        # Python names f0, f1, ... with the real column name as alias: column names
        # such as "Annual Income (k$)" are not identifiers.
        fields[f"f{j}"] = (value_type, Field(alias=name, title=name, description=described))
    customer = create_model(
        "Customer",
        __config__=ConfigDict(extra="ignore", populate_by_name=False),
        __doc__="One customer: every model feature (required), and an optional id.",
        customer_id=(CustomerId, Field(default=None, alias=id_key(model))),
        **fields,
    )
    return create_model(
        "ScoreRequest",
        __config__=ConfigDict(extra="ignore"),
        __doc__=f"Between 1 and {max_customers} customers to score.",
        customers=(
            list[customer],  # type: ignore[valid-type]
            Field(min_length=1, max_length=max_customers),
        ),
    )


class ScoreWarning(BaseModel):
    """A value far outside the training range (see the range rule in docs/api.md)."""

    field: str
    value: float
    training_min: float
    training_max: float
    message: str


class ScoredCustomer(BaseModel):
    index: int = Field(description="0-based position of the customer in the request.")
    id: str | int | None = Field(description="The customer's id as sent, or null.")
    segment: int | None = Field(
        description="Segment id (0 = largest); -1 = noise for density models; null when the "
        "customer could not be scored (see reason)."
    )
    segment_name: str | None
    distance_to_center: float | None = Field(
        description="Euclidean distance to the segment's centre, in scaled units."
    )
    probabilities: dict[str, float | None] | None = Field(
        default=None,
        description="Per-segment membership probabilities, for models that have them.",
    )
    warnings: list[ScoreWarning] = Field(default_factory=list)
    reason: str | None = Field(default=None, description="Why the customer was not scored.")


class ScoreResponse(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_version: str = Field(description="SHA-256 of the model served (see GET /v1/model).")
    n_customers: int
    results: list[ScoredCustomer]


class FeatureInfo(BaseModel):
    name: str
    dtype: str
    kind: str
    min: float
    max: float
    mean: float | None
    std: float | None
    quantiles: list[float] = Field(description="Training quantiles at 0, 0.1, ..., 1.")


class SegmentInfo(BaseModel):
    id: int
    name: str
    size: int
    share: float
    center: dict[str, float] | None = Field(description="Segment centre in original units.")
    z: dict[str, float | None] | None = Field(
        description="Centre's z-score per feature against the training population."
    )


class TrainingInfo(BaseModel):
    rows: int
    fingerprint: str
    random_state: Any = None


class ModelCard(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    model_version: str
    schema_version: int
    custseg_version: str
    algorithm: str
    training: TrainingInfo
    has_probabilities: bool
    range_tolerance: float = Field(description="Tolerance of the range rule for 'warnings'.")
    max_customers: int
    features: list[FeatureInfo]
    segments: list[SegmentInfo]


class Health(BaseModel):
    status: str = "ok"
