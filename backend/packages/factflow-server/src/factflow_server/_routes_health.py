"""``/healthz`` (the process answers) and ``/readyz`` (database up, schema at head)."""

from __future__ import annotations

from fastapi import APIRouter

from factflow_server._deps import Service
from factflow_server._problems import Problem
from factflow_server._schemas import HealthStatus, ReadyStatus
from factflow_server._views import check_ready

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=HealthStatus,
    summary="Liveness: the process serves",
    description="Always 200 while the process serves; touches nothing else.",
)
async def healthz() -> HealthStatus:
    return HealthStatus()


@router.get(
    "/readyz",
    response_model=ReadyStatus,
    summary="Readiness: the database answers and migrations are at head",
    description="200 when the database answers and its schema is at this code's head "
    "revision; otherwise a 503 problem (`not-ready` or `infrastructure`).",
    responses={
        503: {
            "model": Problem,
            "description": "The database is unreachable, or its schema not at head.",
        }
    },
)
async def readyz(service: Service) -> ReadyStatus:
    return await check_ready(service)
