"""One JSON error shape for every failure of the scoring service.

Every response with a status of 400 or above has this body::

    {"error": {"status": 422,
               "code": "validation_error",
               "message": "customer 3, field 'Age': Input should be a finite number",
               "details": [{"loc": ["body", "customers", 3, "Age"],
                            "customer": 3, "field": "Age",
                            "reason": "Input should be a finite number"}]}}

``code`` is one of :data:`ERROR_CODES`; ``message`` is one line for a person;
``details`` lists each problem (empty when there is only the message). The
shape is pinned by ``tests/test_api_errors.py``. Error bodies never repeat the
values a client sent (they may hold customer data), only where and why.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from custseg.errors import CustsegError

__all__ = [
    "ERROR_CODES",
    "ErrorBody",
    "ErrorDetail",
    "ErrorResponse",
    "PayloadTooLarge",
    "RequestTimeout",
    "error_payload",
    "error_response",
    "install_error_handlers",
    "validation_response",
]

logger = logging.getLogger("custseg.api")

#: HTTP status → the error ``code`` clients can switch on.
ERROR_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    500: "internal_error",
    503: "service_unavailable",
}


class ErrorDetail(BaseModel):
    """One problem: where it is and why it is one."""

    loc: list[str | int] = Field(
        description="Path of the offending item, e.g. body/customers/3/Age."
    )
    customer: int | None = Field(
        default=None, description="0-based index of the customer in 'customers', if any."
    )
    field: str | None = Field(default=None, description="The offending field, if any.")
    reason: str = Field(description="What is wrong, in words.")


class ErrorBody(BaseModel):
    status: int = Field(description="The HTTP status code, repeated.")
    code: str = Field(description="Machine-readable error kind: " + ", ".join(ERROR_CODES.values()))
    message: str = Field(description="One line for a person: what failed and what to do.")
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorBody


class PayloadTooLarge(StarletteHTTPException):
    """Raised while a request body is being read once it exceeds the size limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"request body is larger than the limit of {limit} bytes; send fewer customers "
            "per request",
        )


class RequestTimeout(StarletteHTTPException):
    """Raised while a request body is being read once it takes longer than allowed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"the request body did not arrive within {seconds:g} s; send it faster or send "
            "fewer customers per request",
            headers={"Connection": "close"},
        )


def error_payload(
    status: int, message: str, details: Sequence[dict[str, Any]] = ()
) -> dict[str, Any]:
    """The error body as a plain dict (for middleware that answers before FastAPI)."""
    body = ErrorBody(
        status=status,
        code=ERROR_CODES.get(status, "http_error"),
        message=message,
        details=[ErrorDetail(**d) for d in details],
    )
    return ErrorResponse(error=body).model_dump(mode="json")


def error_response(
    status: int,
    message: str,
    details: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = error_payload(status, message, details)
    return JSONResponse(body, status_code=status, headers=headers)


# -- validation errors ------------------------------------------------------------------
_UNION_BRANCHES = {"str", "constrained-str", "int", "float", "none", "function-after[...]"}


def _reason(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing" and list(err.get("loc", ())) == ["body"]:
        return 'a JSON body is required: {"customers": [{...}, ...]}'
    if kind == "missing":
        return "field required"
    if kind == "too_short":
        return "send at least one customer"
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return "must be a JSON object"
    if kind == "list_type":
        return "must be a list of customer objects"
    if kind in ("less_than_equal", "greater_than_equal"):
        return "must be a finite number between -1e100 and 1e100"
    if kind in ("float_type", "float_parsing"):
        return "must be a number (or null for an unknown value), not a string or boolean"
    if kind in ("string_type", "int_type"):
        return "must be a string, an integer or null"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "bool_type":
        return "must be true or false"
    if kind == "finite_number":
        return "must be a finite number; NaN and Infinity are not allowed"
    if kind == "json_invalid":
        return f"malformed JSON: {ctx.get('error', 'could not parse')}"
    return str(err.get("msg", "invalid value"))


def _detail(err: dict[str, Any]) -> dict[str, Any]:
    loc = list(err.get("loc", ()))
    # A union type reports one error per branch (…, 'id', 'str'); report the field once.
    while loc and isinstance(loc[-1], str) and loc[-1] in _UNION_BRANCHES:
        loc.pop()
    customer = field = None
    if len(loc) >= 3 and loc[:2] == ["body", "customers"] and isinstance(loc[2], int):
        customer = loc[2]
        if len(loc) >= 4:
            field = str(loc[3])
    elif len(loc) >= 2 and loc[0] == "body" and isinstance(loc[1], str):
        field = loc[1]
    return {"loc": loc, "customer": customer, "field": field, "reason": _reason(err)}


def _describe(detail: dict[str, Any]) -> str:
    where = []
    if detail["customer"] is not None:
        where.append(f"customer {detail['customer']}")
    if detail["field"] is not None:
        where.append(f"field '{detail['field']}'")
    prefix = ", ".join(where) or "request body"
    return f"{prefix}: {detail['reason']}"


def validation_response(
    errors: Sequence[Any], max_customers: int, *, body: bytes | None = None
) -> JSONResponse:
    """The response to a request body that failed its schema.

    Parameters
    ----------
    errors : sequence of dict
        Pydantic's errors, with or without the leading ``"body"`` in ``loc``.
    max_customers : int
        The limit named in the 413 message.
    body : bytes, optional
        The raw body, when the route validated it itself: an empty one is told apart
        from malformed JSON.
    """
    errors = [
        {**err, "loc": ("body", *err.get("loc", ()))}
        if tuple(err.get("loc", ()))[:1] != ("body",)
        else err
        for err in errors
    ]
    if body is not None and not body.strip():
        return error_response(422, 'a JSON body is required: {"customers": [{...}, ...]}')
    for err in errors:
        if err.get("type") == "json_invalid":
            where = (err.get("ctx") or {}).get("error", "could not parse")
            return error_response(
                400,
                f"the request body is not valid JSON ({where}); send a JSON object like "
                '{"customers": [{...}]}',
            )
        if err.get("type") == "too_long" and list(err.get("loc", ())) == ["body", "customers"]:
            return error_response(
                413,
                f"too many customers in one request: the limit is {max_customers}; split "
                "the batch or use custseg score for files",
            )
    details: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    for err in errors:
        detail = _detail(err)
        key = tuple(detail["loc"])
        if key not in seen:
            seen.add(key)
            details.append(detail)
    message = _describe(details[0]) if details else "the request is invalid"
    if len(details) > 1:
        message += f" (and {len(details) - 1} more problem(s), listed in details)"
    return error_response(422, message, details)


def install_error_handlers(app: FastAPI, *, max_customers: int) -> None:
    """Render every failure — validation, HTTP, domain, unexpected — in the one shape."""

    @app.exception_handler(RequestValidationError)
    async def _on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_response(exc.errors(), max_customers)

    @app.exception_handler(StarletteHTTPException)
    async def _on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no endpoint at {request.url.path}; see /docs for the endpoints"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; see /docs"
        return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(CustsegError)
    async def _on_domain(request: Request, exc: CustsegError) -> JSONResponse:
        return error_response(422, " ".join(str(exc).split()))

    @app.exception_handler(Exception)
    async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Log the kind of failure and where, never the request body (customer data).
        logger.error(
            "internal error on %s %s: %s", request.method, request.url.path, type(exc).__name__
        )
        return error_response(
            500, "internal error; the server log names the failure, please report it"
        )
