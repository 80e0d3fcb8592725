"""The gate in front of every request: API key, media type, load, body size and time.

A pure ASGI middleware, so that it covers every path — including ``/docs``,
``/openapi.json`` and unknown paths — and answers before any body is read. In
order, a request with a body (``POST``, ``PUT``, ``PATCH``) is refused:

1. 401 without the API key (when one is set; ``/healthz`` is always open);
2. 415 when its ``Content-Type`` is not JSON (a missing one is taken as JSON);
3. 413 when its declared ``Content-Length`` is over the limit;
4. 503 with ``Retry-After`` when the worker already holds ``max_concurrent``
   requests with bodies: their bodies and their scoring are what take memory;
5. 413 when a streamed body passes the limit, 408 when it does not arrive within
   ``body_timeout`` seconds (a stalled client no longer holds its slot forever).
"""

from __future__ import annotations

import asyncio
import hmac
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from custseg.api.errors import PayloadTooLarge, RequestTimeout, error_payload

__all__ = ["BODY_METHODS", "OPEN_PATHS", "GateMiddleware"]

#: Paths that never need the API key (load balancers probe them).
OPEN_PATHS = frozenset({"/healthz"})

#: Methods whose requests carry a body.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

#: Seconds a client told 503 should wait before retrying.
RETRY_AFTER = 1


async def _send_error(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    body = json.dumps(error_payload(status, message)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _is_json(media_type: bytes) -> bool:
    kind = media_type.split(b";", 1)[0].strip().lower()
    return kind == b"application/json" or (
        kind.startswith(b"application/") and kind.endswith(b"+json")
    )


class GateMiddleware:
    """Refuse what must not reach the routes (see the module docstring).

    Parameters
    ----------
    app : ASGI app
    api_key : str or None
        None disables authentication.
    max_body_bytes : int
        A declared ``Content-Length`` above this is refused at once; a streamed
        body is counted while it is read and refused when it passes the limit.
    max_concurrent : int
        Most requests with a body in progress at once.
    body_timeout : float
        Seconds from the request's headers to the end of its body.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: str | None,
        max_body_bytes: int,
        max_concurrent: int,
        body_timeout: float,
    ) -> None:
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.max_body_bytes = max_body_bytes
        self.max_concurrent = max_concurrent
        self.body_timeout = body_timeout
        self.in_progress = 0

    def _authorised(self, scope: Scope) -> bool:
        if self.api_key is None or scope.get("path") in OPEN_PATHS:
            return True
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    # Constant-time comparison: the time taken does not reveal how much
                    # of the key a guess got right.
                    return hmac.compare_digest(token.strip(), self.api_key)
        return False

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        """Status, message and headers of a refusal decided from the headers alone."""
        if not self._authorised(scope):
            return (
                401,
                "missing or wrong API key; send the header 'Authorization: Bearer <key>'",
                {"WWW-Authenticate": "Bearer"},
            )
        if scope.get("method") not in BODY_METHODS:
            return None
        limit = self.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-type" and not _is_json(value):
                return (
                    415,
                    "the body must be JSON: send it with the header "
                    "'Content-Type: application/json'",
                    {},
                )
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return (
                    413,
                    f"request body of {int(value)} bytes is larger than the limit of {limit} "
                    "bytes; send fewer customers per request",
                    {},
                )
        if self.in_progress >= self.max_concurrent:
            return (
                503,
                f"the service is busy: {self.in_progress} scoring requests are in progress "
                f"(the limit per worker is {self.max_concurrent}); retry in a moment",
                {"Retry-After": str(RETRY_AFTER)},
            )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await _send_error(send, *refusal)
            return
        if scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        deadline = asyncio.get_running_loop().time() + self.body_timeout
        received = 0
        complete = False

        async def guarded_receive() -> Message:
            nonlocal received, complete
            if complete:  # after the body only a disconnect can come: no deadline
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise RequestTimeout(self.body_timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
                complete = not message.get("more_body", False)
            return message

        self.in_progress += 1
        try:
            await self.app(scope, guarded_receive, send)
        finally:
            self.in_progress -= 1
