"""``ServerSettings``: the process settings plus what only the HTTP server needs.

Everything reads from the environment with the ``FACTFLOW_`` prefix, like
``FactFlowSettings`` itself (``FACTFLOW_SSE_HEARTBEAT=5``,
``FACTFLOW_MAX_BODY_BYTES=4194304``, ``FACTFLOW_API_TOKEN=…``).  What is bounded
how (body size and read time, head time, keep-alive) is drawn in
``docs/operations.md`` (Security).
"""

from __future__ import annotations

from pathlib import Path

from factflow_foundation import FactFlowSettings
from pydantic import Field

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ServerSettings"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class ServerSettings(FactFlowSettings):
    """``FactFlowSettings`` plus the HTTP server's own knobs."""

    host: str = Field(default=DEFAULT_HOST, description="Interface to bind.")
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535, description="TCP port to bind.")
    migrate: bool | None = Field(
        default=None,
        description="Run migrations at start-up; default: yes on SQLite, no on PostgreSQL.",
    )
    sse_heartbeat: float = Field(
        default=15.0, gt=0, description="Seconds between SSE comment heartbeats."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1, description="Largest request body accepted (413 above)."
    )
    session_ttl: int = Field(
        default=12 * 3600,
        ge=60,
        le=30 * 24 * 3600,
        description="Seconds a browser session (POST /api/v1/auth/login) stays valid.",
    )
    ui_dir: Path | None = Field(
        default=None,
        description="Directory of the web UI build to serve at '/'; default: the one "
        "packaged with the server (factflow_server/_ui).",
    )
    http_header_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a request line and headers may take to arrive in full (from "
        "the connection opening or the request's first byte); then the connection is closed.",
    )
    http_body_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds a whole request body may take to arrive; then 408 and the "
        "connection is closed.",
    )
    http_keep_alive_timeout: int = Field(
        default=5, ge=1, description="Seconds an idle keep-alive connection stays open."
    )
    retry_after_seconds: int = Field(
        default=5, ge=0, description="Retry-After sent with 503 'capacity exceeded' problems."
    )

    @classmethod
    def from_base(cls, settings: FactFlowSettings | None) -> ServerSettings:
        """Server settings from plain ``FactFlowSettings`` (server fields from the
        environment or their defaults); ``None`` reads everything from the environment."""
        if settings is None:
            return cls()
        if isinstance(settings, ServerSettings):
            return settings
        return cls(**settings.model_dump(exclude_unset=False))

    @property
    def should_migrate(self) -> bool:
        """Whether start-up migrates: as configured, else only for SQLite databases."""
        if self.migrate is not None:
            return self.migrate
        return self.resolved_database_url.startswith("sqlite")
