"""Optional bearer-token authentication (``FACTFLOW_API_TOKEN``).

When a token is configured, every request except the health checks must carry
``Authorization: Bearer <token>``; anything else is a 401 problem with
``WWW-Authenticate: Bearer``.  The comparison is constant-time.  Checked
before anything else, so an unauthenticated client learns nothing about
routes, ids or validation rules.
"""

from __future__ import annotations

import hmac
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from factflow_server._problems import instance_of, problem_response

__all__ = ["PUBLIC_PATHS", "BearerAuthMiddleware"]

PUBLIC_PATHS: Final = frozenset({"/healthz", "/readyz"})


class BearerAuthMiddleware:
    """Pure ASGI middleware enforcing one shared bearer token."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        if not token:
            raise ValueError("an empty API token would let everyone in")
        self.app = app
        self._token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        presented = _bearer(scope)
        if presented is not None and hmac.compare_digest(presented, self._token):
            await self.app(scope, receive, send)
            return
        detail = (
            "this server requires 'Authorization: Bearer <token>' (FACTFLOW_API_TOKEN)"
            if presented is None
            else "the bearer token is not valid for this server"
        )
        # RFC 6750 §3: no error code when no credentials were presented at all.
        challenge = 'Bearer realm="factflow"'
        if presented is not None:
            challenge += ', error="invalid_token"'
        response = problem_response(
            401,
            "unauthorized",
            detail,
            instance=instance_of(scope),
            headers={"WWW-Authenticate": challenge},
        )
        await response(scope, receive, send)


def _bearer(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = bytes(value).partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return token.strip()
            return None
    return None
