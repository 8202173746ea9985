"""Optional bearer-token authentication (``FACTFLOW_API_TOKEN``).

When a token is configured, every request except the public ones must carry
``Authorization: Bearer <token>`` or a valid browser session cookie (see
``_session``); anything else is a 401 problem with ``WWW-Authenticate:
Bearer``.  The comparison is constant-time.  Checked before anything else, so
an unauthenticated client learns nothing about routes, ids or validation rules.

Public: the health checks, the login/logout/session endpoints, and the web
UI's shell (its HTML pages and static assets, which hold no data: the UI asks
for the token and logs in through the API).
"""

from __future__ import annotations

import hmac
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from factflow_server._problems import instance_of, problem_response
from factflow_server._session import SessionSigner, cookie_value
from factflow_server._ui import is_ui_path

__all__ = ["AUTH_PATHS", "PUBLIC_PATHS", "BearerAuthMiddleware", "is_public_path"]

PUBLIC_PATHS: Final = frozenset({"/healthz", "/readyz"})
AUTH_PATHS: Final = frozenset({"/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/auth/session"})


def is_public_path(path: str) -> bool:
    """Whether ``path`` is served without credentials."""
    return path in PUBLIC_PATHS or path in AUTH_PATHS or is_ui_path(path)


class BearerAuthMiddleware:
    """Pure ASGI middleware enforcing one shared bearer token."""

    def __init__(self, app: ASGIApp, *, token: str, sessions: SessionSigner) -> None:
        if not token:
            raise ValueError("an empty API token would let everyone in")
        self.app = app
        self._token = token.encode()
        self._sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public_path(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        presented = _bearer(scope)
        if presented is not None and hmac.compare_digest(presented, self._token):
            await self.app(scope, receive, send)
            return
        if presented is None and self._valid_session(scope):
            await self.app(scope, receive, send)
            return
        detail = (
            "this server requires 'Authorization: Bearer <token>' (FACTFLOW_API_TOKEN) "
            "or a session from POST /api/v1/auth/login"
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

    def _valid_session(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", ()):
            if name == b"cookie":
                cookie = cookie_value(bytes(value))
                if cookie is not None and self._sessions.verify(cookie) is not None:
                    return True
        return False


def _bearer(scope: Scope) -> bytes | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = bytes(value).partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return token.strip()
            return None
    return None
