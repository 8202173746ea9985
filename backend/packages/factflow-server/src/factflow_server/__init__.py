"""FactFlow's HTTP API: ``/api/v1/configs``, ``/api/v1/executions`` and live SSE
streams, mapped almost one to one onto ``factflow_execution.ExecutionService``.

Quick use::

    from factflow_server import create_app
    app = create_app()          # settings from FACTFLOW_* environment variables

    # or run it: factflow-server --port 8000   /   python -m factflow_server

Errors are RFC 9457 ``application/problem+json`` (see ``Problem``), mapped in
one place from the ``factflow_foundation`` error tree.  ``ServerOptions`` and
``serve`` let another command (``factflow server``) start the same server.
"""

from factflow_server._app import API_PREFIX, SchemaNotAtHeadError, create_app
from factflow_server._cli import (
    ServerOptions,
    UnsafeBindError,
    build_server,
    check_bind,
    main,
    serve,
)
from factflow_server._problems import PROBLEM_MEDIA_TYPE, Problem, ProblemIssue
from factflow_server._settings import DEFAULT_HOST, DEFAULT_PORT, ServerSettings

__all__ = [
    "API_PREFIX",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "ProblemIssue",
    "SchemaNotAtHeadError",
    "ServerOptions",
    "ServerSettings",
    "UnsafeBindError",
    "build_server",
    "check_bind",
    "create_app",
    "main",
    "serve",
]
