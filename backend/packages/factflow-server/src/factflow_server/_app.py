"""``create_app``: the FastAPI application and its lifespan (the composition root).

Without an injected service the lifespan builds one from settings, migrates
when asked (by default on SQLite), runs startup recovery, and on stop shuts
the service down gracefully (DESIGN §6) and disposes the database.  An
injected service belongs to the caller, who starts and stops it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version

from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings, InfrastructureError, get_logger, reveal
from factflow_infra.db import current_revision, head_revision
from fastapi import APIRouter, Depends, FastAPI
from starlette.middleware import Middleware

from factflow_server import (
    _metrics,
    _routes_artifacts,
    _routes_auth,
    _routes_components,
    _routes_configs,
    _routes_executions,
    _routes_health,
    _routes_lineage,
    _routes_logs,
    _routes_queue,
    _routes_retention,
    _routes_schedules,
    _routes_streams,
)
from factflow_server._auth import BearerAuthMiddleware
from factflow_server._limits import BodyLimitMiddleware
from factflow_server._openapi import install_openapi
from factflow_server._problems import UnexpectedErrorMiddleware, install_problem_handlers
from factflow_server._query import reject_unknown_query
from factflow_server._session import SessionSigner
from factflow_server._settings import ServerSettings
from factflow_server._ui import UI_DIR, install_docs, install_ui

__all__ = ["API_PREFIX", "SchemaNotAtHeadError", "create_app"]

API_PREFIX = "/api/v1"

_log = get_logger("factflow.server")

_TAGS = [
    {"name": "configs", "description": "Stored, versioned pipeline configs, and running them."},
    {"name": "executions", "description": "Runs of configs: list, inspect, control, wait."},
    {"name": "lineage and storage", "description": "What a run recorded and stored."},
    {"name": "streams", "description": "Live Server-Sent Event streams of a run."},
    {"name": "components", "description": "The processors and adapters this server can run."},
    {"name": "schedules", "description": "Cron and interval triggers that run configs."},
    {
        "name": "queue",
        "description": "Runs waiting for a slot, and per-config concurrency limits.",
    },
    {"name": "auth", "description": "Browser sessions when the server has an API token."},
    {"name": "health", "description": "Liveness and readiness probes."},
    {"name": "metrics", "description": "Prometheus metrics of this server process."},
]


class SchemaNotAtHeadError(InfrastructureError):
    """Start-up without ``--migrate`` found a database schema this code cannot use."""

    code = "schema-not-at-head"


def _version() -> str:
    try:
        return version("factflow-server")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"


async def _start(settings: ServerSettings) -> ExecutionService:
    service = ExecutionService.from_settings(settings)
    try:
        migrate = settings.should_migrate
        if not migrate:
            revision, head = await current_revision(service.db), head_revision()
            if revision != head:
                raise SchemaNotAtHeadError(
                    f"the database ({service.db!r}) is at schema revision {revision or 'none'} "
                    f"but this server needs {head}; start it with --migrate "
                    "(or FACTFLOW_MIGRATE=true)",
                    extra={"revision": revision, "head": head},
                )
        interrupted = await service.startup(migrate=migrate)
    except BaseException:
        await service.db.dispose()
        raise
    if interrupted:
        _log.warning("start-up recovery marked %d execution(s) interrupted", len(interrupted))
    return service


def create_app(
    settings: FactFlowSettings | None = None, *, service: ExecutionService | None = None
) -> FastAPI:
    """The FactFlow API.

    ``settings`` default to the environment (``FACTFLOW_*``).  Pass ``service``
    to serve an already started ``ExecutionService`` (tests, embedding); the
    app then neither starts nor stops it.
    """
    server_settings = ServerSettings.from_base(settings)
    owns_service = service is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not owns_service:
            yield
            return
        started = await _start(server_settings)
        app.state.service = started
        try:
            yield
        finally:
            app.state.service = None
            try:
                await started.shutdown()
            finally:
                await started.db.dispose()

    middleware = [Middleware(UnexpectedErrorMiddleware)]
    sessions = None
    token = reveal(server_settings.api_token)
    if token:
        sessions = SessionSigner(token, ttl_seconds=server_settings.session_ttl)
        middleware.append(Middleware(BearerAuthMiddleware, token=token, sessions=sessions))
    middleware.append(
        Middleware(
            BodyLimitMiddleware,
            max_bytes=server_settings.max_body_bytes,
            body_timeout=server_settings.http_body_timeout,
        )
    )
    sse_streams = _metrics.SseStreams()
    middleware.append(Middleware(_metrics.SseStreamsMiddleware, streams=sse_streams))

    app = FastAPI(
        title="FactFlow API",
        version=_version(),
        description=(
            "Pipeline configs and their executions: run, inspect, control, wait on and "
            "stream them. Errors are RFC 9457 `application/problem+json` documents whose "
            "`type` is `urn:factflow:problem:<code>`."
        ),
        openapi_tags=_TAGS,
        lifespan=lifespan,
        middleware=middleware,
        generate_unique_id_function=lambda route: route.name,
        dependencies=[Depends(reject_unknown_query)],
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = server_settings
    app.state.sessions = sessions
    app.state.service = service
    app.state.sse_streams = sse_streams
    install_problem_handlers(app)

    api = APIRouter(prefix=API_PREFIX)
    for module in (
        _routes_configs,
        _routes_executions,
        _routes_artifacts,
        _routes_lineage,
        _routes_logs,
        _routes_retention,
        _routes_streams,
        _routes_components,
        _routes_schedules,
        _routes_queue,
        _routes_auth,
    ):
        api.include_router(module.router)
    api.include_router(_routes_streams.changes_router)
    app.include_router(_routes_health.router)
    app.include_router(_metrics.router)
    app.include_router(api)
    install_docs(app)
    install_ui(app, server_settings.ui_dir or UI_DIR)
    install_openapi(app, bearer=bool(token))
    return app
