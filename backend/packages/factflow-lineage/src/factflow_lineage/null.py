"""``NullLineageSink``: records nothing, for measuring what lineage costs."""

from __future__ import annotations

from factflow_protocols import LineageEntry

from factflow_lineage.recorder import RecorderCounters

__all__ = ["NullLineageSink"]


class NullLineageSink:
    """``LineageSink`` that counts entries and keeps none (``flush`` is a no-op)."""

    def __init__(self) -> None:
        self._recorded = 0

    async def record(self, entry: LineageEntry) -> None:
        """Count ``entry`` and drop it."""
        self._recorded += 1

    async def flush(self) -> None:
        """Nothing is ever pending."""

    async def close(self) -> None:
        """Nothing to release."""

    def counters(self) -> RecorderCounters:
        """Entries seen; nothing is ever written."""
        return RecorderCounters(
            recorded=self._recorded,
            rows_written=0,
            flushes=0,
            failed_flushes=0,
            spilled_payloads=0,
            pending=0,
        )
