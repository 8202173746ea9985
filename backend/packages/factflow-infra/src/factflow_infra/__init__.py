"""FactFlow infrastructure: database, migrations, storage, queues and the event bus."""

from factflow_infra.bus import InProcessEventBus, InProcessSubscription
from factflow_infra.db import Database, upgrade_to_head
from factflow_infra.queues import InMemoryQueue, InMemoryQueueBackend

__all__ = [
    "Database",
    "InMemoryQueue",
    "InMemoryQueueBackend",
    "InProcessEventBus",
    "InProcessSubscription",
    "upgrade_to_head",
]
