"""``/healthz`` (the process answers) and ``/readyz`` (database up, schema at head)."""

from __future__ import annotations

from fastapi import APIRouter

from factflow_server._deps import Service
from factflow_server._openapi import problems
from factflow_server._schemas import HealthStatus, ReadyStatus
from factflow_server._views import check_ready

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthStatus, summary="Liveness", responses=problems())
async def healthz() -> HealthStatus:
    return HealthStatus()


@router.get(
    "/readyz",
    response_model=ReadyStatus,
    summary="Readiness: the database answers and migrations are at head",
    responses=problems(503),
)
async def readyz(service: Service) -> ReadyStatus:
    return await check_ready(service)
