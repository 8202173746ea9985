"""Every error response, in one place: RFC 9457 ``application/problem+json``.

The FactFlowError tree maps by branch (the subclass's ``code`` becomes the
problem ``type``, its ``extra`` the extension members)::

    InvalidInputError        422   (ConfigValidationError adds ``issues``)
    NotFoundError            404
    ConflictError            409
    CapacityExceededError    503   with Retry-After
    InfrastructureError      503
    other FactFlowError      500

FastAPI's request validation errors are 422 problems whose ``issues`` name the
field locations; Starlette's HTTP errors (404 route, 405, 401, 413, 415) keep
their status; a database "data exception" (a value the database cannot hold,
such as a NUL character) and a lost connection reach here already translated by
``factflow_infra``'s ``Database`` (``DatabaseValueError`` 422,
``DatabaseUnavailableError`` 503); text that is not valid Unicode (a lone
surrogate) is a 422 wherever it is first encoded.  Anything else
is a 500 problem that names a reference id and leaks nothing; the exception is
logged with that id.

A problem quotes what the client sent (a name, a path, a value), and a client
may send megabytes: every string in a problem is cut to ``MAX_TEXT`` characters
and every list (``issues`` above all) to ``MAX_ITEMS`` entries, the cut said in
place, so an error is always small.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final, cast
from urllib.parse import quote

from factflow_foundation import (
    CapacityExceededError,
    ConflictError,
    FactFlowError,
    InfrastructureError,
    InvalidInputError,
    NotFoundError,
    get_logger,
    new_id,
)
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, ExceptionHandler, Message, Receive, Scope, Send

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "ProblemIssue",
    "ProblemResponse",
    "UnexpectedErrorMiddleware",
    "install_problem_handlers",
    "instance_of",
    "internal_error_response",
    "problem_response",
    "status_for",
]

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
#: The longest string a problem carries (longer ones are cut, saying so).
MAX_TEXT: Final = 1000
#: The most entries a list in a problem carries (``issues``: the rest counted).
MAX_ITEMS: Final = 100
_TYPE_PREFIX: Final = "urn:factflow:problem:"
_RESERVED: Final = frozenset({"type", "title", "status", "detail", "instance"})

_log = get_logger("factflow.server.errors")

_BRANCHES: Final[tuple[tuple[type[FactFlowError], int], ...]] = (
    (InvalidInputError, 422),
    (NotFoundError, 404),
    (ConflictError, 409),
    (CapacityExceededError, 503),
    (InfrastructureError, 503),
)

_HTTP_CODES: Final[Mapping[int, str]] = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    408: "request-timeout",
    413: "payload-too-large",
    415: "unsupported-media-type",
    416: "range-not-satisfiable",
    422: "invalid-input",
    503: "unavailable",
}


class ProblemIssue(BaseModel):
    """One thing wrong with the input: a field path, what is wrong, and the line
    in the config text when known."""

    path: str = Field(
        description="Where: a config field path (routes.split.processors[0].type) or a "
        "request location (query.limit, body.params)."
    )
    message: str = Field(description="What is wrong there, and what would be right.")
    line: int | None = Field(
        default=None, description="The 1-based line in the config text; null when unknown."
    )


class Problem(BaseModel):
    """An RFC 9457 problem document.  Extension members vary by ``type``
    (``issues``, ``candidates``, ``id``, ``capacity``, …)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="``urn:factflow:problem:<code>``; stable, branch on it.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="What went wrong this time, for humans.")
    instance: str | None = Field(default=None, description="The request path.")
    issues: list[ProblemIssue] | None = Field(
        default=None, description="Invalid config or request fields (422)."
    )
    candidates: list[str] | None = Field(
        default=None, description="Ids an ambiguous id prefix matches (422 ambiguous-id)."
    )


def status_for(error: FactFlowError) -> int:
    """The HTTP status of a FactFlowError, by the branch of the tree it is on."""
    for branch, status in _BRANCHES:
        if isinstance(error, branch):
            return status
    return 500


def instance_of(scope: Scope) -> str:
    """The request path as sent (percent-encoded): the problem's ``instance``."""
    raw = scope.get("raw_path")
    if isinstance(raw, bytes):
        return raw.decode("latin-1")
    return quote(str(scope.get("path", "")))


def _title(code: str) -> str:
    return code.replace("-", " ").capitalize()


class ProblemResponse(JSONResponse):
    """``application/problem+json``, rendered as ASCII so that any text an error
    quotes back (even a lone surrogate from a client's escape) stays sendable."""

    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response (the only way this server reports an error)."""
    body: dict[str, Any] = {
        "type": f"{_TYPE_PREFIX}{code}",
        "title": _title(code),
        "status": status,
        "detail": _bounded(detail, 4 * MAX_TEXT),
        "instance": _bounded(instance, MAX_TEXT) if instance is not None else None,
    }
    for key, value in (extensions or {}).items():
        if key not in _RESERVED and value is not None:
            body[key] = _bounded(jsonable_encoder(value), MAX_TEXT)
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def _bounded(value: Any, limit: int) -> Any:
    """``value`` with long strings cut and long lists shortened (JSON-ready data)."""
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return value[:limit] + f"... ({len(value) - limit} more characters)"
    if isinstance(value, list):
        kept = [_bounded(item, limit) for item in value[:MAX_ITEMS]]
        if len(value) > MAX_ITEMS:
            kept.append(_bounded_note(value[0], len(value) - MAX_ITEMS))
        return kept
    if isinstance(value, dict):
        return {_bounded(k, limit): _bounded(v, limit) for k, v in value.items()}
    return value


def _bounded_note(first: Any, more: int) -> Any:
    """The entry that says a list was shortened, shaped like its entries when they
    are issues (so clients that read ``path``/``message`` show it)."""
    note = f"... and {more} more not shown"
    if isinstance(first, dict) and "message" in first:
        return {"path": "(more)", "message": note, "line": None}
    return note


async def _factflow_error(request: Request, exc: FactFlowError) -> JSONResponse:
    status = status_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, CapacityExceededError):
        headers["Retry-After"] = str(request.app.state.settings.retry_after_seconds)
    if status >= 500:
        _log.warning("%s %s: %s", request.method, request.url.path, exc.detail)
    return problem_response(
        status,
        exc.code,
        exc.detail,
        instance=instance_of(request.scope),
        extensions=exc.extra,
        headers=headers,
    )


def _location(loc: tuple[int | str, ...] | list[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(request)"


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    issues = [
        {
            "path": _location(error.get("loc", ())),
            "message": str(error.get("msg", "invalid")),
            "line": None,
        }
        for error in exc.errors()
    ]
    count = len(issues)
    summary = "; ".join(f"{i['path']}: {i['message']}" for i in issues[:5])
    return problem_response(
        422,
        "invalid-request",
        f"the request is invalid ({count} issue{'s' if count != 1 else ''}): {summary}",
        instance=instance_of(request.scope),
        extensions={"issues": issues},
    )


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    status = exc.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else phrase
    if detail == phrase:
        detail = f"{phrase}: {request.method} {request.url.path}"
    return problem_response(
        status,
        _HTTP_CODES.get(status, f"http-{status}"),
        detail,
        instance=instance_of(request.scope),
        headers=exc.headers,
    )


def internal_error_response(scope: Scope, exc: BaseException) -> JSONResponse:
    """Log ``exc`` under a new reference id and return a 500 problem naming only the id."""
    reference = new_id()
    _log.error(
        "unexpected error on %s %s (reference %s)",
        scope.get("method"),
        scope.get("path"),
        reference,
        exc_info=exc,
    )
    return problem_response(
        500,
        "internal-error",
        f"the server hit an unexpected error; it is logged under reference {reference}",
        instance=instance_of(scope),
        extensions={"reference": reference},
    )


async def _unencodable_text(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
    """Text a client sent that is not valid Unicode (a lone surrogate escape in a
    config, say) fails wherever it is first encoded; that is the client's 422."""
    if exc.reason != "surrogates not allowed":
        return internal_error_response(request.scope, exc)
    return problem_response(
        422,
        "invalid-input",
        "the request holds text that is not valid Unicode (a lone UTF-16 surrogate such as "
        "the escape \\ud800 without its pair)",
        instance=instance_of(request.scope),
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Register the problem+json handlers on ``app`` (the 500 path is the middleware)."""
    # Each handler is registered for exactly the class it is typed for.
    app.add_exception_handler(FactFlowError, cast(ExceptionHandler, _factflow_error))
    app.add_exception_handler(RequestValidationError, cast(ExceptionHandler, _validation_error))
    app.add_exception_handler(HTTPException, cast(ExceptionHandler, _http_error))
    app.add_exception_handler(UnicodeEncodeError, cast(ExceptionHandler, _unencodable_text))


class UnexpectedErrorMiddleware:
    """Turns an exception no handler took into a 500 problem with a reference id.

    The traceback goes to the server log under that id; the client sees
    neither the exception nor its message.  An error after the response has
    started cannot be reported to the client and is left to the ASGI server.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            response = internal_error_response(scope, exc)
            await response(scope, receive, send)
