"""The gate in front of every request: API key, then body size.

A pure ASGI middleware, so that it covers every path — including ``/docs``,
``/openapi.json`` and unknown paths — and answers before any body is read.
"""

from __future__ import annotations

import hmac
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from custseg.api.errors import PayloadTooLarge, error_payload

__all__ = ["OPEN_PATHS", "GateMiddleware"]

#: Paths that never need the API key (load balancers probe them).
OPEN_PATHS = frozenset({"/healthz"})


async def _send_error(send: Send, status: int, message: str, headers: dict[str, str]) -> None:
    body = json.dumps(error_payload(status, message)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class GateMiddleware:
    """Require ``Authorization: Bearer <key>`` (when a key is set) and cap body size.

    Parameters
    ----------
    app : ASGI app
    api_key : str or None
        None disables authentication.
    max_body_bytes : int
        A declared ``Content-Length`` above this is refused at once; a streamed
        body is counted while it is read and refused when it passes the limit.
    """

    def __init__(self, app: ASGIApp, *, api_key: str | None, max_body_bytes: int) -> None:
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.max_body_bytes = max_body_bytes

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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._authorised(scope):
            await _send_error(
                send,
                401,
                "missing or wrong API key; send the header 'Authorization: Bearer <key>'",
                {"WWW-Authenticate": "Bearer"},
            )
            return
        limit = self.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_error(send, 400, "the Content-Length header is not a number", {})
                    return
                if declared > limit:
                    await _send_error(
                        send,
                        413,
                        f"request body of {declared} bytes is larger than the limit of {limit} "
                        "bytes; send fewer customers per request",
                        {},
                    )
                    return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)
