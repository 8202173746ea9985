"""``{name}`` param placeholders inside component options.

A string that is exactly ``{name}`` becomes the param's typed value; anywhere
else ``{name}`` is replaced by the value's text.  ``{{`` and ``}}`` stand for
literal braces (so ``storage_write`` key templates are written ``{{field}}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from factflow_engine.errors import FieldPath

__all__ = [
    "Placeholder",
    "TemplateSyntaxError",
    "iter_strings",
    "parse_template",
    "substitute",
]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A ``{name}`` reference to a param."""

    name: str


class TemplateSyntaxError(ValueError):
    """A string has a brace that is neither a placeholder nor an escape."""


def parse_template(text: str) -> list[str | Placeholder]:
    """Split ``text`` into literal runs and placeholders (raises ``TemplateSyntaxError``)."""
    if "{" not in text and "}" not in text:
        return [text]
    parts: list[str | Placeholder] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                literal.append("{")
                i += 2
                continue
            end = text.find("}", i + 1)
            name = text[i + 1 : end] if end != -1 else ""
            if end == -1 or not _NAME.fullmatch(name):
                shown = text[i : end + 1] if end != -1 else text[i:]
                raise TemplateSyntaxError(
                    f"{shown!r} is not a param placeholder; placeholders look like "
                    "'{param_name}', and a literal brace is written '{{' or '}}'"
                )
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Placeholder(name))
            i = end + 1
        elif ch == "}":
            if not text.startswith("}}", i):
                raise TemplateSyntaxError(
                    "single '}' without a matching '{'; write '}}' for a literal brace"
                )
            literal.append("}")
            i += 2
        else:
            literal.append(ch)
            i += 1
    if literal:
        parts.append("".join(literal))
    return parts


def iter_strings(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """Every string inside nested dicts/lists, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_strings(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from iter_strings(item, (*path, index))


def substitute(value: Any, params: Mapping[str, Any]) -> Any:
    """``value`` with every placeholder replaced (params must cover every name)."""
    if isinstance(value, str):
        return _render(value, params)
    if isinstance(value, Mapping):
        return {key: substitute(item, params) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, params) for item in value]
    return value


def _render(text: str, params: Mapping[str, Any]) -> Any:
    parts = parse_template(text)
    if len(parts) == 1 and isinstance(parts[0], Placeholder):
        return params[parts[0].name]
    return "".join(part if isinstance(part, str) else _as_text(params[part.name]) for part in parts)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
