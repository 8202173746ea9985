"""Small helpers that make validation messages read as plain English."""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

__all__ = ["did_you_mean", "listing", "show_value"]


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` (or ``'x' or 'y'``) for close matches, else ``""``."""
    matches = difflib.get_close_matches(word, list(options), n=2, cutoff=0.6)
    if not matches:
        return ""
    return "; did you mean " + " or ".join(repr(m) for m in matches) + "?"


def listing(options: Iterable[str], limit: int = 30) -> str:
    """Sorted, comma-separated names (``(none)`` when empty), truncated past ``limit``."""
    names = sorted(options)
    if not names:
        return "(none)"
    if len(names) > limit:
        return ", ".join(names[:limit]) + f", ... ({len(names) - limit} more)"
    return ", ".join(names)


def show_value(value: Any, limit: int = 60) -> str:
    """A short human rendering of a config value (JSON-like: ``null``, ``true``, ``'x'``)."""
    if isinstance(value, str):
        text = repr(value)
    elif isinstance(value, dict):
        text = "a mapping " + _truncate(json.dumps(value, default=str, ensure_ascii=False), limit)
    elif isinstance(value, list):
        text = "a list " + _truncate(json.dumps(value, default=str, ensure_ascii=False), limit)
    else:
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):
            text = repr(value)
    return _truncate(text, limit)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
