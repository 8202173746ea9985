"""Options several commands share, spelled once so they read the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

from factflow_cli._context import Globals

__all__ = [
    "AllowFailuresOpt",
    "FollowOpt",
    "LabelOpt",
    "NoQueueOpt",
    "PriorityOpt",
    "TimeoutOpt",
    "WaitOpt",
    "globals_of",
    "seconds",
]

TimeoutOpt = Annotated[
    str | None,
    typer.Option("--timeout", metavar="DURATION", help="Give up waiting after this long (exit 4)."),
]
WaitOpt = Annotated[
    bool, typer.Option("--wait", "-w", help="Wait for the end; the exit code says how it ended.")
]
FollowOpt = Annotated[
    bool, typer.Option("--follow", "-f", help="Show live progress until the end.")
]
AllowFailuresOpt = Annotated[
    bool,
    typer.Option(
        "--allow-failures",
        help="Exit 0 when the run completed although some messages failed (default: exit 1).",
    ),
]
LabelOpt = Annotated[
    list[str] | None,
    typer.Option("--label", "-l", metavar="KEY=VALUE", help="Label the run (repeatable)."),
]

NoQueueOpt = Annotated[
    bool,
    typer.Option(
        "--no-queue",
        help="Start now or fail (the server answers 503 when it is full or the config is at "
        "its limit) instead of waiting in the run queue.",
    ),
]
PriorityOpt = Annotated[
    int,
    typer.Option(
        "--priority",
        min=-1000,
        max=1000,
        help="If the run has to wait in the queue: higher starts first (default 0).",
    ),
]


def globals_of(ctx: typer.Context) -> Globals:
    """The invocation's ``Globals`` (set by the root command)."""
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals()


def seconds(timeout: str | None) -> float | None:
    """``--timeout`` in seconds; ``None`` for none."""
    from factflow_cli._durations import parse_duration

    return parse_duration(timeout) if timeout is not None else None
