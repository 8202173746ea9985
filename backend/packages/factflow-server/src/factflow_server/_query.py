"""Unknown query parameters are a 422 on every endpoint, from one app-wide dependency.

FastAPI ignores query parameters an endpoint does not declare, so a typo
(``?mesage_id=…``) or a filter the endpoint lacks silently returns everything.
``reject_unknown_query`` compares the request's query keys with the ones the
matched route declares (its own parameters and those of every dependency)
and raises the same ``RequestValidationError`` FastAPI raises for a bad
value, so the client gets the usual ``invalid-request`` problem whose
``issues`` name each unknown parameter (``query.mesage_id``) and what the
endpoint takes instead.

The liveness and readiness probes are exempt: a probe must answer whatever a
load balancer appends to its URL.  So are the routes outside the API document
(the web UI's pages, the docs): their query string belongs to the browser app.
"""

from __future__ import annotations

import difflib
from typing import Any, Final

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

__all__ = ["EXEMPT_PATHS", "declared_query_parameters", "reject_unknown_query"]

EXEMPT_PATHS: Final = frozenset({"/healthz", "/readyz"})


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """The query parameter names (aliases) ``route`` and its dependencies declare.

    A walk over a handful of dependants; cheap enough per request that nothing
    is cached (routes are not hashable)."""
    found: set[str] = set()
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        found.update(field.alias for field in dependant.query_params)
        pending.extend(dependant.dependencies)
    return frozenset(found)


def _issue(name: str, allowed: frozenset[str]) -> dict[str, Any]:
    if allowed:
        takes = f"this endpoint takes {', '.join(sorted(allowed))}"
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
    else:
        takes, hint = "this endpoint takes no query parameters", ""
    return {
        "type": "extra_forbidden",
        "loc": ("query", name),
        "msg": f"unknown query parameter ({takes}){hint}",
        "input": None,
    }


async def reject_unknown_query(request: Request) -> None:
    """Raise a 422 naming every query parameter the matched route does not declare."""
    route = request.scope.get("route")
    if (
        not isinstance(route, APIRoute)
        or not route.include_in_schema
        or request.url.path in EXEMPT_PATHS
    ):
        return
    allowed = declared_query_parameters(route)
    unknown = sorted({key for key in request.query_params if key not in allowed})
    if unknown:
        raise RequestValidationError([_issue(name, allowed) for name in unknown])
