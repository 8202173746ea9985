"""One settings object for the whole process (environment prefix ``FACTFLOW_``).

Built once in a composition root (the server's lifespan, the CLI's demo, a
test fixture) and passed down; nothing reads the environment at import time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Final

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

__all__ = ["FactFlowSettings", "SettingDefaults", "reveal"]


def reveal(secret: SecretStr | str | None) -> str | None:
    """The plain text of a secret setting, ``None`` when unset or empty.

    Secret settings are ``SecretStr`` (shown as ``**********`` in every repr,
    str and dump); only the code that must use the value calls this."""
    if isinstance(secret, SecretStr):
        secret = secret.get_secret_value()
    return secret or None


class SettingDefaults:
    """The defaults of the settings that constructors also take as arguments.

    Written once, here: ``FactFlowSettings`` uses them as its field defaults,
    and a constructor that takes the same value (``Database(busy_timeout_ms=…)``,
    ``PipelineOrchestrator(cancel_grace=…)``, …) defaults to the same constant
    instead of repeating the number.
    """

    queue_prefix: Final = "factflow"
    max_running_executions: Final = 100
    cancel_grace: Final = 5.0
    lineage_batch_size: Final = 1000
    lineage_flush_interval: Final = 0.25
    progress_interval: Final = 0.25
    max_failure_events: Final = 50
    max_log_records: Final = 10_000
    sqlite_busy_timeout_ms: Final = 30_000
    retention_interval: Final = 3600.0
    config_max_depth: Final = 64
    config_max_nodes: Final = 500_000
    config_max_aliases: Final = 1_000
    config_check_timeout: Final = 10.0
    config_check_concurrency: Final = 2


class FactFlowSettings(BaseSettings):
    """Process-wide configuration.

    Every field can be set from the environment with the ``FACTFLOW_`` prefix,
    e.g. ``FACTFLOW_DATABASE_URL=postgresql+asyncpg://…`` or
    ``FACTFLOW_DATA_DIR=/var/lib/factflow``.  Mappings take JSON
    (``FACTFLOW_ROUTES='{"extract": "facts.extract"}'``).
    """

    model_config = SettingsConfigDict(env_prefix="FACTFLOW_", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: Path.home() / ".factflow",
        description="Directory for the embedded SQLite database and local storage.",
    )
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy async URL; default is a SQLite file in data_dir.  Secret: "
        "it may hold a password.",
    )
    storage_dir: Path | None = Field(
        default=None, description="Root of the local storage backend; default data_dir/storage."
    )
    queue_url: SecretStr | None = Field(
        default=None,
        description="Queue broker URL (amqp://user:pass@host:5672/vhost for RabbitMQ); "
        "unset = in-memory queues in this process.  Secret: it may hold a password.",
    )
    queue_prefix: str = Field(
        default=SettingDefaults.queue_prefix,
        description="Prefix of queue names in the default route directory.",
    )
    routes: dict[str, str] = Field(
        default_factory=dict,
        description="Global route directory overrides: route name -> queue name.",
    )
    max_running_executions: int = Field(default=SettingDefaults.max_running_executions, ge=1)
    scheduler: bool = Field(
        default=True,
        description="Run the schedule loop in this process (every server may; each fire "
        "time still runs once).",
    )
    heartbeat_interval: float = Field(default=2.0, gt=0, description="Seconds between renewals.")
    heartbeat_timeout: float = Field(
        default=10.0, gt=0, description="A run whose owner stayed silent this long is interrupted."
    )
    shutdown_grace: float = Field(default=10.0, ge=0)
    cancel_grace: float = Field(
        default=SettingDefaults.cancel_grace,
        ge=0,
        description="Seconds in-flight processors may finish after a cancel.",
    )
    lineage_batch_size: int = Field(default=SettingDefaults.lineage_batch_size, ge=1)
    lineage_flush_interval: float = Field(default=SettingDefaults.lineage_flush_interval, gt=0)
    progress_interval: float = Field(
        default=SettingDefaults.progress_interval,
        gt=0,
        description="Minimum seconds between coalesced progress events.",
    )
    max_failure_events: int = Field(
        default=SettingDefaults.max_failure_events,
        ge=0,
        description="Message-failure events per execution before only counting.",
    )
    retention_days: float | None = Field(
        default=None,
        gt=0,
        description="Delete finished executions (rows, lineage, events, objects, files) "
        "this many days after they ended; unset keeps every run.",
    )
    retention_interval: float = Field(
        default=SettingDefaults.retention_interval,
        gt=0,
        description="Seconds between the server's retention passes (with retention_days).",
    )
    max_log_records: int = Field(
        default=SettingDefaults.max_log_records,
        ge=0,
        description="Log records kept per execution; beyond it they are counted and one "
        "record says how many were dropped.",
    )
    allow_import_paths: bool = Field(
        default=False,
        description="Let configs name processors as 'module:attr' import paths.",
    )
    file_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Directories the built-in file components (files, jsonl, read_text) may "
        "read, separated by ':' (or a JSON list); none by default, so nothing is read. "
        "/proc, /sys and /dev are never read, whatever is listed.",
    )
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token the API requires (unset: none).  Secret."
    )
    sqlite_busy_timeout_ms: int = Field(default=SettingDefaults.sqlite_busy_timeout_ms, ge=0)
    config_max_depth: int = Field(
        default=SettingDefaults.config_max_depth,
        ge=4,
        le=500,
        description="Deepest nesting of mappings and lists a config (YAML or JSON) may have.",
    )
    config_max_nodes: int = Field(
        default=SettingDefaults.config_max_nodes,
        ge=100,
        description="Most values a config may hold, counted with every YAML alias expanded "
        "(counted before anything is expanded).",
    )
    config_max_aliases: int = Field(
        default=SettingDefaults.config_max_aliases,
        ge=0,
        description="Most YAML aliases (*name) a config may use.",
    )
    config_check_timeout: float = Field(
        default=SettingDefaults.config_check_timeout,
        gt=0,
        description="Seconds parsing and checking one config may take (off the event loop).",
    )
    config_check_concurrency: int = Field(
        default=SettingDefaults.config_check_concurrency,
        ge=1,
        description="Configs parsed and checked at the same time; more wait their turn.",
    )

    @field_validator("file_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part for part in text.split(os.pathsep) if part]
        return value

    @field_validator("file_roots")
    @classmethod
    def _expand_roots(cls, value: list[Path]) -> list[Path]:
        return [root.expanduser() for root in value]

    @field_validator("data_dir", "storage_dir")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def resolved_database_url(self) -> str:
        """The database URL in effect (the SQLite default when none is set)."""
        url = reveal(self.database_url)
        if url:
            return url
        return f"sqlite+aiosqlite:///{self.data_dir / 'factflow.db'}"

    @property
    def resolved_storage_dir(self) -> Path:
        """The storage root in effect."""
        return self.storage_dir if self.storage_dir is not None else self.data_dir / "storage"
