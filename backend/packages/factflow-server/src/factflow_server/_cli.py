"""``factflow-server`` / ``python -m factflow_server``: run the API under uvicorn.

``ServerOptions`` + ``serve`` are the programmatic form, so the CLI's
``factflow server`` command offers the same options without re-implementing
them; ``build_server`` returns the ``uvicorn.Server`` for callers that run it
on their own event loop (an embedded demo server, tests).
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import uvicorn
from factflow_foundation import configure_logging, get_logger, reveal
from factflow_infra.db import display_url
from pydantic import ValidationError

from factflow_server._app import create_app
from factflow_server._protocol import bounded_protocol
from factflow_server._settings import ServerSettings

__all__ = [
    "LOG_LEVELS",
    "ServerOptions",
    "UnsafeBindError",
    "build_server",
    "check_bind",
    "main",
    "serve",
    "startup_banner",
]

_log = get_logger("factflow.server")

LOG_LEVELS: Final = ("critical", "error", "warning", "info", "debug")
#: Seconds open HTTP connections get to finish when the server stops (SSE
#: streams end at once; running executions get ``FACTFLOW_SHUTDOWN_GRACE``).
HTTP_SHUTDOWN_GRACE: Final = 5


class UnsafeBindError(ValueError):
    """Listening beyond loopback without a token was not explicitly allowed."""


@dataclass(frozen=True)
class ServerOptions:
    """Command-line options; ``None`` means "from the environment / defaults"."""

    host: str | None = None
    port: int | None = None
    database_url: str | None = None
    data_dir: Path | None = None
    migrate: bool | None = None
    log_level: str = "info"
    allow_unauthenticated: bool = False

    def settings(self) -> ServerSettings:
        """``ServerSettings`` from the environment, overridden by the given options."""
        overrides: dict[str, Any] = {
            name: value
            for name, value in (
                ("host", self.host),
                ("port", self.port),
                ("database_url", self.database_url),
                ("data_dir", self.data_dir),
                ("migrate", self.migrate),
            )
            if value is not None
        }
        return ServerSettings(**overrides)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(settings: ServerSettings, *, allow_unauthenticated: bool) -> None:
    """Refuse a non-loopback address without a token unless explicitly allowed."""
    if reveal(settings.api_token) or allow_unauthenticated or _is_loopback(settings.host):
        return
    raise UnsafeBindError(
        f"refusing to listen on {settings.host or 'every interface'} without authentication: "
        "anyone who can reach it could run pipelines. Set FACTFLOW_API_TOKEN to require a "
        "bearer token, or pass --allow-unauthenticated if that network is trusted."
    )


def startup_banner(settings: ServerSettings, port: int) -> str:
    """Where the server listens and keeps its data (the database password hidden)."""
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = f"http://{host}:{port}"
    return (
        f"FactFlow API at {base} (docs {base}/docs)\n"
        f"  data dir: {settings.data_dir}\n"
        f"  database: {display_url(settings.resolved_database_url)}\n"
        f"  storage:  {settings.resolved_storage_dir}"
    )


class _Server(uvicorn.Server):
    """uvicorn's server, which announces the URL, data dir and database once bound
    (the port is only known then when 0 was asked for)."""

    def __init__(self, config: uvicorn.Config, settings: ServerSettings) -> None:
        super().__init__(config)
        self._settings = settings

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers and self.servers[0].sockets:
            port = self.servers[0].sockets[0].getsockname()[1]
            _log.info("%s", startup_banner(self._settings, port))


def build_server(
    options: ServerOptions, *, settings: ServerSettings | None = None
) -> uvicorn.Server:
    """A configured (not yet started) ``uvicorn.Server`` for the FactFlow API."""
    resolved = settings or options.settings()
    check_bind(resolved, allow_unauthenticated=options.allow_unauthenticated)
    level = options.log_level.lower()
    if level not in LOG_LEVELS:
        raise ValueError(f"unknown log level {options.log_level!r}; choose from {LOG_LEVELS}")
    configure_logging(level.upper())
    config = uvicorn.Config(
        create_app(resolved),
        host=resolved.host,
        port=resolved.port,
        log_level=level,
        lifespan="on",
        timeout_graceful_shutdown=HTTP_SHUTDOWN_GRACE,
        proxy_headers=False,
        http=bounded_protocol(resolved.http_header_timeout),
        timeout_keep_alive=resolved.http_keep_alive_timeout,
    )
    return _Server(config, resolved)


def serve(options: ServerOptions) -> None:
    """Run the server in the foreground until SIGINT/SIGTERM (blocking)."""
    server = build_server(options)
    server.run()
    if not server.started:
        raise SystemExit(3)  # start-up failed; uvicorn has logged why


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="factflow-server",
        description="Run the FactFlow API (REST + SSE) under uvicorn.",
    )
    parser.add_argument("--host", help="interface to bind (default 127.0.0.1, FACTFLOW_HOST)")
    parser.add_argument("--port", type=int, help="TCP port (default 8000, FACTFLOW_PORT)")
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL, e.g. postgresql://user@host/db (default: SQLite in the data dir)",
    )
    parser.add_argument(
        "--data-dir", type=Path, help="data directory (default ~/.factflow, FACTFLOW_DATA_DIR)"
    )
    parser.add_argument(
        "--migrate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="apply database migrations at start-up (default: yes on SQLite, no on PostgreSQL)",
    )
    parser.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    parser.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="allow a non-loopback --host without FACTFLOW_API_TOKEN (trusted networks only)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``factflow-server``; returns the exit status."""
    args = _parser().parse_args(argv)
    options = ServerOptions(
        host=args.host,
        port=args.port,
        database_url=args.database_url,
        data_dir=args.data_dir,
        migrate=args.migrate,
        log_level=args.log_level,
        allow_unauthenticated=args.allow_unauthenticated,
    )
    try:
        serve(options)
    except ValidationError as exc:
        print(f"factflow-server: invalid settings:\n{exc}", file=sys.stderr)
        return 2
    except UnsafeBindError as exc:
        print(f"factflow-server: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
