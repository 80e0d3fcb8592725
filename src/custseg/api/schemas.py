"""Request and response schemas of the scoring service.

Requests and responses are separate classes. The request schema depends on the
model being served, so it is built at start-up by :func:`build_request_model`:
a ``Customer`` with one required key per model feature (the exact column name),
each a finite number or ``null``, inside :func:`pydantic.create_model`'s
``ScoreRequest``.
This validation is the service's only boundary check; the scoring code behind
it trusts what passed.
"""

from __future__ import annotations

from typing import Annotated, Any, NotRequired, Required

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    create_model,
)
from typing_extensions import TypedDict

from custseg.model import SegmentModel
from custseg.model_checks import VALUE_BOUND

__all__ = [
    "ID_MAX_LENGTH",
    "ExplainedFeature",
    "Explanation",
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

#: Longest customer id echoed back; ids are keys, not documents.
ID_MAX_LENGTH = 256

CustomerId = Annotated[
    Annotated[StrictStr, Field(max_length=ID_MAX_LENGTH)] | StrictInt | None,
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
        ``Customer`` objects, validated into dicts keyed by the column names (and
        :func:`id_key`). Keys besides the features and the id are ignored.
    """
    fields: dict[str, Any] = {id_key(model): NotRequired[CustomerId]}
    for feature in model.features:
        name = str(feature["name"])
        described = (
            f"'{name}' in original units (trained on {float(feature['min']):g} to "
            f"{float(feature['max']):g}); null means unknown and follows the model's "
            f"missing-value policy ({model.missing})."
        )
        fields[name] = Required[
            Annotated[
                StrictFloat | None,
                # Far beyond any real customer, and small enough that scaled squared
                # distances cannot overflow.
                Field(allow_inf_nan=False, ge=-VALUE_BOUND, le=VALUE_BOUND, title=name,
                      description=described),
            ]
        ]  # fmt: skip
    # A TypedDict keyed by the column names themselves ("Annual Income (k$)" is no
    # identifier): validated into a plain dict, half the cost of a model instance.
    customer = TypedDict("Customer", fields, total=False)  # type: ignore[misc]
    customer.__doc__ = "One customer: every model feature (required), and an optional id."
    customer.__pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[attr-defined]
    return create_model(
        "ScoreRequest",
        __config__=ConfigDict(extra="ignore"),
        __doc__=f"Between 1 and {max_customers} customers to score.",
        customers=(
            list[customer],
            Field(min_length=1, max_length=max_customers),
        ),
        explain=(
            StrictBool,
            Field(
                default=False,
                description="Add to each result why the customer is in their segment "
                "rather than the next nearest one ('explanation').",
            ),
        ),
    )


class ScoreWarning(BaseModel):
    """A value filled in, or far outside the training range (see docs/api.md)."""

    kind: str = Field(description="'filled' (null filled with the training median) or "
                      "'far_outside' (the range rule).")  # fmt: skip
    field: str
    value: float | None = Field(description="The value sent; null when it was filled.")
    filled_with: float | None = Field(description="The training median used for a null.")
    training_min: float
    training_max: float
    message: str


class ExplainedFeature(BaseModel):
    field: str
    value: float = Field(description="The customer's value (a null shows its filled value).")
    segment_center: float = Field(description="The segment's centre, original units.")
    runner_up_center: float = Field(description="The runner-up segment's centre.")
    share: float = Field(
        description="Part of the own centre's lead over the runner-up due to this feature; "
        "the shares add up to 1, negative ones pull towards the runner-up."
    )


class RunnerUp(BaseModel):
    segment: int
    segment_name: str


class Explanation(BaseModel):
    """Why the customer is in this segment rather than the next nearest one."""

    segment: int
    segment_name: str
    runner_up: RunnerUp
    margin: float = Field(description="(d_runner_up - d_own) / d_runner_up: 0 on the border.")
    features: list[ExplainedFeature] = Field(description="Every feature, strongest pull first.")
    sentence: str


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
    outlier: bool | None = Field(
        default=None,
        description="Beyond the model's outlier fences (still assigned to its nearest "
        "segment); null for a model without fences or an unscored customer.",
    )
    probabilities: dict[str, float | None] | None = Field(
        default=None,
        description="Per-segment membership probabilities, for models that have them.",
    )
    warnings: list[ScoreWarning] = Field(default_factory=list)
    explanation: Explanation | None = Field(
        default=None, description='Why this segment (only with "explain": true).'
    )
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
    model_config = ConfigDict(protected_namespaces=())

    status: str = "ok"
    ready: bool = Field(description="The model is loaded, checked and served.")
    model_version: str = Field(description="SHA-256 of the model served (see GET /v1/model).")
    model_file: str = Field(
        description="Whether the model file the service started from still holds the served "
        "model: 'unchanged', 'changed' or 'missing' (restart to serve a new file)."
    )
