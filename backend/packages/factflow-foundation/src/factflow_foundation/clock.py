"""Wall-clock time, always timezone-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["ensure_utc", "utcnow"]


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def ensure_utc(value: datetime) -> datetime:
    """Treat a naive datetime as UTC (SQLite drops the zone) and convert aware ones."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
