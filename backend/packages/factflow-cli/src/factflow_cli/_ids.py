"""Execution ids as arguments, and short forms of them that stay copyable.

The server (``resolve_id``) takes a full id or a unique prefix of at least
``MIN_PREFIX`` characters; a shorter one can match nothing, so the CLI says
"too short" before asking (a test keeps the two rules equal).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from factflow_cli._errors import InputError

__all__ = ["MIN_PREFIX", "SHORT_ID", "IdArg", "check_id", "short_ids"]

#: The server's shortest accepted id prefix (factflow_execution's ``_MIN_PREFIX``).
MIN_PREFIX = 4
#: Characters of a short id: an execution id (UUIDv7) through its millisecond
#: timestamp, so runs created apart are told apart.
SHORT_ID = 13


def check_id(value: str) -> str:
    """``value`` if it can name an execution, else an ``InputError`` saying why."""
    text = value.strip()
    if len(text) < MIN_PREFIX:
        raise InputError(
            f"execution id prefix {value!r} is too short: give at least {MIN_PREFIX} "
            "characters of the id (factflow execution list shows them)"
        )
    return text


def _check(value: str | None) -> str | None:
    return None if value is None else check_id(value)


IdArg = Annotated[
    str,
    typer.Argument(
        metavar="ID",
        help=f"Execution id or unique prefix (≥{MIN_PREFIX} characters).",
        callback=_check,
    ),
]


def short_ids(ids: Sequence[str], *, minimum: int = SHORT_ID) -> dict[str, str]:
    """Each id → its shortest prefix of at least ``minimum`` characters that no
    other id in ``ids`` shares (and that does not end on a ``-``)."""
    ordered = sorted(set(ids))
    result: dict[str, str] = {}
    for index, execution_id in enumerate(ordered):
        length = minimum
        for neighbour in ordered[max(0, index - 1) : index] + ordered[index + 1 : index + 2]:
            length = max(length, _common(execution_id, neighbour) + 1)
        if length < len(execution_id) and execution_id[length - 1] == "-":
            length += 1
        result[execution_id] = execution_id[:length]
    return result


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
