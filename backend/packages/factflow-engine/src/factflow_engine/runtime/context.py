"""The light context object processors and adapters receive."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from factflow_protocols import ExecutionStorage, Message

__all__ = ["RunContext"]


class RunContext:
    """Implements ``ProcessorContext`` / ``AdapterContext``.

    One instance per worker (and per adapter), so ``message`` - the message
    being processed right now - is never shared between concurrent calls.
    """

    __slots__ = ("execution_id", "logger", "message", "params", "route", "storage")

    def __init__(
        self,
        execution_id: str,
        route: str,
        params: Mapping[str, Any],
        storage: ExecutionStorage,
        logger: logging.Logger,
    ) -> None:
        self.execution_id = execution_id
        self.route = route
        self.params = params
        self.storage = storage
        self.logger = logger
        self.message: Message | None = None

    def __repr__(self) -> str:
        return f"RunContext(execution_id={self.execution_id!r}, route={self.route!r})"
