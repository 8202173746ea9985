"""Paged listings: up to ``--limit`` items across the server's pages, and the
"more:" command that continues where a listing stopped, with the same filters.

Every listing command (``execution list``, ``execution lineage``, ``storage
ls``, …) takes the same options for the same idea:

* ``--limit/-n N``: at most N items (default ``DEFAULT_LIMIT``), fetched in as
  many requests as the server's page size needs;
* ``--all``: every item;
* ``--after CURSOR``: continue after CURSOR, the value the previous listing's
  "more:" line (or its JSON ``next_cursor``/``next_after``) gave.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from factflow_cli._errors import InputError

__all__ = [
    "DEFAULT_LIMIT",
    "AfterOpt",
    "AllOpt",
    "LimitOpt",
    "Page",
    "collect",
    "continuation",
    "int_cursor",
]

DEFAULT_LIMIT = 50

LimitOpt = Annotated[
    int,
    typer.Option("--limit", "-n", min=1, help=f"At most this many (default {DEFAULT_LIMIT})."),
]
AllOpt = Annotated[bool, typer.Option("--all", help="Every item (overrides --limit).")]
AfterOpt = Annotated[
    str | None,
    typer.Option(
        "--after",
        metavar="CURSOR",
        help="Continue a listing: the CURSOR its 'more:' line (or JSON next_…) gave.",
    ),
]

#: Fetches one page: (page size, cursor or None) → (items, next cursor or None).
FetchPage = Callable[[int, str | None], tuple[list[dict[str, Any]], str | None]]


@dataclass(frozen=True)
class Page:
    """What a listing collected, and the cursor to continue from (``None``: the end)."""

    items: list[dict[str, Any]]
    next: str | None


def collect(fetch: FetchPage, *, limit: int | None, after: str | None, page_max: int) -> Page:
    """Fetch pages of at most ``page_max`` until ``limit`` items (``None``: all)."""
    items: list[dict[str, Any]] = []
    cursor = after
    while True:
        want = page_max if limit is None else min(page_max, limit - len(items))
        got, next_cursor = fetch(want, cursor)
        items += got
        if next_cursor is None or not got:
            return Page(items, None)
        if limit is not None and len(items) >= limit:
            return Page(items, next_cursor)
        cursor = next_cursor


def int_cursor(value: str | None, what: str = "--after") -> int | None:
    """A numeric cursor (a record id), or an ``InputError`` naming the option."""
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise InputError(f"{what} takes a record number (the '#' column), not {value!r}")
    return number


# Root options repeated in a "more:" command when given on the command line;
# never the token (a secret), which the environment supplies anyway.
_ROOT_OPTIONS = {"server": "--server", "output": "--format"}


def continuation(ctx: typer.Context, cursor: str, *, drop: Sequence[str] = ()) -> str:
    """The command line that continues this listing after ``cursor``.

    The same command with the same arguments and options as given (filters
    included, ``drop`` left out), ``--after CURSOR`` in place of any earlier
    one; words are quoted for a POSIX shell.
    """
    from typer.core import TyperArgument

    words = ["factflow"]
    root = ctx.find_root()
    for name, flag in _ROOT_OPTIONS.items():
        if _given(root, name):
            words += [flag, str(_plain(root.params[name]))]
    words += ctx.command_path.split()[1:]
    for param in ctx.command.params:
        name = param.name or ""
        value = ctx.params.get(name)
        if name in ("after", "all_", *drop) or not _given(ctx, name):
            continue
        if isinstance(param, TyperArgument):
            words.append(str(value))
            continue
        flag = max(param.opts, key=len)  # the long form
        if getattr(param, "is_flag", False):
            if value:
                words.append(flag)
        elif isinstance(value, list | tuple):
            for item in value:
                words += [flag, str(_plain(item))]
        else:
            words += [flag, str(_plain(value))]
    words += ["--after", cursor]
    return " ".join(shlex.quote(word) for word in words)


def _given(ctx: Any, name: str) -> bool:
    from typer._click.core import ParameterSource

    return ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)  # enums as their value
