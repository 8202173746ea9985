"""``/api/v1/auth``: browser sessions for a server protected by ``FACTFLOW_API_TOKEN``.

Scripts and the CLI send ``Authorization: Bearer <token>``; a browser cannot
on an ``EventSource``, so it trades the token once for an ``HttpOnly``,
``SameSite=Strict`` session cookie (see ``_session``).  These endpoints are
public; login is the only one that looks at a token.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from factflow_foundation import reveal
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from factflow_server._deps import Settings
from factflow_server._openapi import problems
from factflow_server._problems import instance_of, problem_response
from factflow_server._session import SESSION_COOKIE, SessionSigner, cookie_value

__all__ = ["LoginRequest", "SessionInfo", "router", "signer_for"]

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginRequest(BaseModel):
    """``POST /auth/login``."""

    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=4096, description="The server's API token.")


class SessionInfo(BaseModel):
    """Whether this server wants a token, and whether this request has a session."""

    model_config = ConfigDict(frozen=True)

    auth_required: bool = Field(description="True when FACTFLOW_API_TOKEN is set.")
    authenticated: bool = Field(description="True when this request may use the API.")
    expires_at: datetime | None = Field(
        default=None, description="When the browser session ends (null without one)."
    )


def signer_for(request: Request) -> SessionSigner | None:
    """The app's session signer (``None`` when no token is configured)."""
    signer: SessionSigner | None = request.app.state.sessions
    return signer


def _expiry(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


@router.get(
    "/session",
    response_model=SessionInfo,
    summary="Whether a token is required and whether this browser has a session",
    responses=problems(),
)
async def get_session(request: Request) -> SessionInfo:
    signer = signer_for(request)
    if signer is None:
        return SessionInfo(auth_required=False, authenticated=True)
    cookie = cookie_value(request.headers.get("cookie", "").encode("latin-1"))
    expires = signer.verify(cookie) if cookie else None
    if expires is None:
        return SessionInfo(auth_required=True, authenticated=False)
    return SessionInfo(auth_required=True, authenticated=True, expires_at=_expiry(expires))


@router.post(
    "/login",
    response_model=SessionInfo,
    summary="Trade the API token for a browser session cookie",
    description=(
        "Sets an `HttpOnly`, `SameSite=Strict` cookie that the API and the SSE streams "
        "accept like the bearer token, for `FACTFLOW_SESSION_TTL` seconds. Without a "
        "configured token there is nothing to log in to: the answer says so."
    ),
    responses=problems(400),
)
async def login(
    body: LoginRequest, request: Request, response: Response, settings: Settings
) -> Response | SessionInfo:
    signer = signer_for(request)
    token = reveal(settings.api_token)
    if signer is None or not token:
        return SessionInfo(auth_required=False, authenticated=True)
    if not hmac.compare_digest(body.token.encode(), token.encode()):
        return problem_response(
            401,
            "unauthorized",
            "that is not this server's API token (FACTFLOW_API_TOKEN)",
            instance=instance_of(request.scope),
        )
    value, expires = signer.issue()
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=signer.ttl_seconds,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return SessionInfo(auth_required=True, authenticated=True, expires_at=_expiry(expires))


@router.post(
    "/logout",
    status_code=204,
    summary="End this browser's session (clears the cookie)",
    responses=problems(),
)
async def logout(request: Request) -> Response:
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response
