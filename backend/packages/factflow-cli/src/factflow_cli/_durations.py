"""Durations (``30s``, ``5m``, ``1h30m``) and points in time (ISO 8601 or "ago")."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from factflow_cli._errors import InputError

__all__ = ["format_duration", "parse_duration", "parse_since"]

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> float:
    """Seconds in ``text``: ``90``, ``30s``, ``5m``, ``1h30m``, ``2d``, ``250ms``.

    A bare number means seconds.  Raises ``InputError`` on anything else.
    """
    value = text.strip().lower()
    if not value:
        raise InputError("empty duration; write e.g. 30s, 5m or 1h30m")
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        if seconds < 0:
            raise InputError(f"duration {text!r} is negative")
        return seconds
    position = 0
    total = 0.0
    for match in _PART.finditer(value):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(value):
        raise InputError(f"cannot read duration {text!r}; write e.g. 30s, 5m, 1h30m or 2d")
    return total


def parse_since(text: str, *, now: datetime | None = None) -> datetime:
    """A point in time: ISO 8601 (naive = UTC), or a duration meaning that long ago."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        pass
    else:
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        ago = parse_duration(value)
    except InputError:
        raise InputError(
            f"cannot read time {text!r}; give an ISO time (2026-01-31T12:00) or a duration "
            "meaning that long ago (1h, 30m, 2d)"
        ) from None
    return (now or datetime.now(UTC)) - timedelta(seconds=ago)


def format_duration(seconds: float | None) -> str:
    """``1.23s``, ``4m05s``, ``2h03m``; ``-`` for unknown."""
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.2f}s"
    whole = int(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{(whole % 3600) // 60:02d}m"
