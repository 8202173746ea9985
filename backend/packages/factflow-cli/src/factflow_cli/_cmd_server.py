"""``factflow server`` and ``factflow demo``: the two commands that run a server.

Both reach the server package only through ``factflow_cli._embedded``, and
only once they run, so no other command pays for importing it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from factflow_cli._context import Globals

__all__ = ["register", "server_argv"]


class LogLevel(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


def server_argv(
    *,
    host: str | None,
    port: int | None,
    database_url: str | None,
    data_dir: Path | None,
    migrate: bool | None,
    log_level: str,
    allow_unauthenticated: bool,
) -> list[str]:
    """The ``factflow-server`` arguments equivalent to ``factflow server``'s options."""
    argv: list[str] = []
    for flag, value in (("--host", host), ("--port", port), ("--database-url", database_url)):
        if value is not None:
            argv += [flag, str(value)]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    if migrate is not None:
        argv.append("--migrate" if migrate else "--no-migrate")
    argv += ["--log-level", log_level]
    if allow_unauthenticated:
        argv.append("--allow-unauthenticated")
    return argv


def server(
    host: Annotated[
        str | None,
        typer.Option("--host", help="Interface to bind (default 127.0.0.1, FACTFLOW_HOST)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=0, max=65535, help="TCP port (default 8000, FACTFLOW_PORT)."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            metavar="URL",
            help="SQLAlchemy URL, e.g. postgresql://user@host/db (default: SQLite in data dir).",
        ),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory (default ~/.factflow, FACTFLOW_DATA_DIR)."),
    ] = None,
    migrate: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="Apply migrations at start-up (default: yes on SQLite, no on PostgreSQL).",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        LogLevel, typer.Option("--log-level", case_sensitive=False)
    ] = LogLevel.INFO,
    allow_unauthenticated: Annotated[
        bool,
        typer.Option(
            "--allow-unauthenticated",
            help="Allow a non-loopback --host without FACTFLOW_API_TOKEN (trusted networks only).",
        ),
    ] = False,
) -> None:
    """Run the FactFlow API server (REST + live SSE streams) in the foreground.

    The same server and options as `factflow-server`; stop it with Ctrl-C
    (running executions get FACTFLOW_SHUTDOWN_GRACE seconds, then are
    marked interrupted).

    Examples:

      factflow server

      factflow server --port 9000 --data-dir /var/lib/factflow

      factflow server --database-url postgresql://postgres@127.0.0.1/factflow --migrate
    """
    from factflow_cli._embedded import run_server

    argv = server_argv(
        host=host,
        port=port,
        database_url=database_url,
        data_dir=data_dir,
        migrate=migrate,
        log_level=log_level.value,
        allow_unauthenticated=allow_unauthenticated,
    )
    raise typer.Exit(run_server(argv))


def demo(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Where the demo's SQLite database and artifacts go "
            "(default: <FACTFLOW_DATA_DIR or ~/.factflow>/demo; kept afterwards).",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Pipeline config (default: examples/pipelines/facts.yaml)."),
    ] = None,
    source_dir: Annotated[
        Path | None,
        typer.Option(
            "--source-dir", help="Directory to read (default: this Python's site-packages)."
        ),
    ] = None,
    timeout: Annotated[
        str, typer.Option("--timeout", metavar="DURATION", help="Give up after this long.")
    ] = "10m",
) -> None:
    """Run the example pipeline end to end on an embedded server, and show what it did.

    Starts a server on a free local port over SQLite in the data directory,
    applies the example config, runs it with live progress over the METADATA
    files of the installed Python packages, prints the summary, the DAG and
    where the artifacts are, replays the messages that the example's flaky sink
    failed on purpose, and stops the server.  Everything stays in the data
    directory: `factflow server --data-dir DIR` serves it again.

    Examples:

      factflow demo

      factflow demo --data-dir /tmp/factflow-demo
    """
    from factflow_cli._demo import run_demo
    from factflow_cli._durations import parse_duration

    obj = ctx.find_root().obj
    g = obj if isinstance(obj, Globals) else Globals()
    code = run_demo(
        g,
        data_dir=data_dir,
        config=config,
        source_dir=source_dir,
        timeout=parse_duration(timeout),
    )
    raise typer.Exit(int(code))


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.command("demo")(demo)
