"""FactFlow infrastructure: database, migrations, storage, queues and the event bus."""

from factflow_infra.bus import InProcessEventBus, InProcessSubscription
from factflow_infra.db import Database, upgrade_to_head
from factflow_infra.queues import InMemoryQueue, InMemoryQueueBackend, queue_backend_from_settings
from factflow_infra.storage import (
    ExecutionStorageService,
    InvalidStorageKeyError,
    LocalFileStorage,
    validate_key,
)

__all__ = [
    "Database",
    "ExecutionStorageService",
    "InMemoryQueue",
    "InMemoryQueueBackend",
    "InProcessEventBus",
    "InProcessSubscription",
    "InvalidStorageKeyError",
    "LocalFileStorage",
    "queue_backend_from_settings",
    "upgrade_to_head",
    "validate_key",
]
