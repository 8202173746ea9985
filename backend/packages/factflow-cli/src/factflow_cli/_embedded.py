"""The only module that imports ``factflow_server`` (lazily, inside functions).

``run_server`` is ``factflow server`` (it hands its options to the server
package's own entry point, so both behave the same); ``EmbeddedServer`` runs
the API on a background thread for ``factflow demo``.  Every other command
is an HTTP client and never loads the server stack (a test checks this).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from factflow_cli._errors import CliError

__all__ = ["EmbeddedServer", "default_port", "run_server"]


def run_server(argv: Sequence[str]) -> int:
    """Run ``factflow-server`` with ``argv`` in the foreground; its exit status."""
    from factflow_server import main

    try:
        return main(list(argv))
    except KeyboardInterrupt:  # uvicorn re-raises the Ctrl-C it handled: a normal stop
        return 0


def default_port() -> int:
    from factflow_server import DEFAULT_PORT

    return DEFAULT_PORT


class EmbeddedServer:
    """The FactFlow API on a background thread, on a port the OS picks.

    The listening socket is bound before the server starts, so a client may
    connect at once: the kernel queues the connection until the server's
    lifespan (migrations, recovery) has finished and it starts accepting.  If
    start-up fails, the socket closes and queued clients see the connection
    drop instead of hanging.
    """

    def __init__(
        self,
        *,
        data_dir: Path,
        database_url: str | None = None,
        host: str = "127.0.0.1",
        log_level: str = "warning",
        file_roots: Sequence[Path] = (),
    ) -> None:
        self.data_dir = data_dir
        #: directories the server's file components may read, on top of FACTFLOW_FILE_ROOTS
        self.file_roots = list(file_roots)
        self.database_url = database_url or f"sqlite+aiosqlite:///{data_dir / 'factflow.db'}"
        self.host = host
        self.log_level = log_level
        self.url = ""
        self.storage_dir: Path = data_dir / "storage"
        self.error: BaseException | None = None
        self._server: Any = None
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from factflow_server import ServerOptions, build_server

        self.data_dir.mkdir(parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(128)
        port = sock.getsockname()[1]
        options = ServerOptions(
            host=self.host,
            port=port,
            database_url=self.database_url,
            data_dir=self.data_dir,
            log_level=self.log_level,
        )
        try:
            settings = options.settings()
            if self.file_roots:
                roots = [*settings.file_roots, *self.file_roots]
                settings = settings.model_copy(update={"file_roots": roots})
            self._server = build_server(options, settings=settings)
        except Exception as exc:
            sock.close()
            raise CliError(f"cannot start the embedded server: {exc}") from None
        self.storage_dir = settings.resolved_storage_dir
        self._socket = sock
        self.url = f"http://{self.host}:{port}"
        self._thread = threading.Thread(
            target=self._run, args=(self._server, sock), name="factflow-server", daemon=True
        )
        self._thread.start()

    def _run(self, server: Any, sock: socket.socket) -> None:
        try:
            asyncio.run(server.serve(sockets=[sock]))
        except BaseException as exc:  # kept for the caller; the thread must not die silently
            self.error = exc
        finally:
            sock.close()

    def stop(self, timeout: float = 60.0) -> None:
        """Ask the server to stop (running executions are shut down) and wait for it."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def started(self) -> bool:
        return bool(self._server is not None and self._server.started)
