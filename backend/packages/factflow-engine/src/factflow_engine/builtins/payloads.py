"""Reading fields out of payloads, with errors that say which processor wanted what."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MISSING", "field_value", "require_field"]

MISSING: Any = object()


def field_value(payload: Any, field: str) -> Any:
    """``payload[field]`` following dots (``a.b``) through mappings, or ``MISSING``."""
    current = payload
    for part in field.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return MISSING
        current = current[part]
    return current


def require_field(payload: Any, field: str, processor: str) -> Any:
    """``field_value`` that raises ``ValueError`` naming ``processor`` when absent."""
    value = field_value(payload, field)
    if value is MISSING:
        if not isinstance(payload, Mapping):
            raise ValueError(
                f"{processor}: expected a mapping payload with a {field!r} field,"
                f" got {type(payload).__name__}"
            )
        keys = ", ".join(sorted(map(str, payload))) or "(none)"
        raise ValueError(f"{processor}: payload has no {field!r} field (fields: {keys})")
    return value
