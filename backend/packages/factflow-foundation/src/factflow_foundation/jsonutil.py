"""JSON helpers shared by every tier (compact, deterministic where it matters)."""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeAlias

__all__ = ["JSONValue", "canonical_json", "dumps", "fingerprint", "loads"]

JSONValue: TypeAlias = dict[str, "JSONValue"] | list["JSONValue"] | str | int | float | bool | None


def dumps(value: Any) -> str:
    """Compact JSON text; non-JSON values fall back to ``str`` (dates, paths)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def loads(text: str | bytes) -> Any:
    """Parse JSON text."""
    return json.loads(text)


def canonical_json(value: Any) -> str:
    """Key-sorted compact JSON: equal values give equal text."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str)


def fingerprint(value: Any) -> str:
    """SHA-256 hex digest of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
