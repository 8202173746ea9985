"""``factflow schedule …``: cron and interval triggers that run stored configs.

Each fire time runs once across every server sharing the database; the runs
are executions with source ``schedule`` (``factflow execution list --source
schedule``).  A schedule is named by its id or its name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer

from factflow_cli._durations import parse_duration
from factflow_cli._errors import InputError
from factflow_cli._options import globals_of as _g

__all__ = ["app"]

app = typer.Typer(
    help="Run configs on a cron expression or an interval: create, list, show, pause, "
    "resume, delete schedules; their next and past fire times.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

RefArg = Annotated[str, typer.Argument(metavar="SCHEDULE", help="Schedule id or name.")]


def _path(ref: str, tail: str = "") -> str:
    from urllib.parse import quote

    return f"/schedules/{quote(ref, safe='')}{tail}"


def _trigger(schedule: Mapping[str, Any]) -> str:
    if schedule.get("cron"):
        return f"cron {schedule['cron']} ({schedule.get('timezone', 'UTC')})"
    from factflow_cli._durations import format_duration

    return f"every {format_duration(float(schedule.get('interval_seconds') or 0))}"


def _state(schedule: Mapping[str, Any]) -> str:
    return "paused" if schedule.get("paused") else "active"


def _table(items: Sequence[Mapping[str, Any]]) -> Any:
    from rich.table import Table

    from factflow_cli._render import timestamp

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("NAME", "CONFIG", "TRIGGER", "STATE", "NEXT FIRE", "LAST FIRE"):
        table.add_column(column, no_wrap=True)
    for s in items:
        version = s.get("config_version")
        config = f"{s.get('config_name')}" + (f" v{version}" if version else "")
        table.add_row(
            str(s.get("name")),
            config,
            _trigger(s),
            _state(s),
            timestamp(s.get("next_fire_at")),
            timestamp(s.get("last_fire_at")),
        )
    return table


def _fires_table(items: Sequence[Mapping[str, Any]]) -> Any:
    from rich.table import Table

    from factflow_cli._render import timestamp

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("FIRE TIME", "OUTCOME", "EXECUTION", "REASON"):
        table.add_column(column, no_wrap=column != "REASON")
    for f in items:
        table.add_row(
            timestamp(f.get("fire_time")),
            str(f.get("outcome")),
            str(f.get("execution_id") or "-"),
            str(f.get("reason") or ""),
        )
    return table


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Unique name of the schedule.")],
    config: Annotated[str, typer.Option("--config", "-c", help="Stored config to run.")],
    cron: Annotated[
        str | None, typer.Option("--cron", help="Cron expression, e.g. '0 2 * * *'.")
    ] = None,
    every: Annotated[
        str | None, typer.Option("--every", metavar="DURATION", help="Interval: 30s, 5m, 1h…")
    ] = None,
    timezone: Annotated[
        str, typer.Option("--timezone", "--tz", help="IANA zone the cron is read in.")
    ] = "UTC",
    version: Annotated[
        int | None, typer.Option("--version", "-v", min=1, help="Pin a config version.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="KEY=VALUE",
            help="Param of each run (repeatable); KEY=@FILE.json reads a JSON value.",
        ),
    ] = None,
    label: Annotated[
        list[str] | None, typer.Option("--label", "-l", metavar="KEY=VALUE", help="Run label.")
    ] = None,
    catchup: Annotated[
        str,
        typer.Option(
            "--catchup",
            metavar="skip|once|all",
            help="After downtime: skip (runs only fire times within --grace), once (one "
            "catch-up run), all (every missed one, at most --catchup-limit).",
        ),
    ] = "skip",
    catchup_limit: Annotated[int, typer.Option("--catchup-limit", min=1)] = 100,
    grace: Annotated[
        str, typer.Option("--grace", metavar="DURATION", help="How late a fire time may run.")
    ] = "60s",
    max_active: Annotated[
        int | None,
        typer.Option("--max-active", min=1, help="Skip a fire time while N runs are active."),
    ] = None,
    paused: Annotated[bool, typer.Option("--paused", help="Create it paused.")] = False,
    description: Annotated[str | None, typer.Option("--description")] = None,
) -> None:
    """Create a schedule that runs a stored config.

    Examples:

      factflow schedule create nightly --config facts --cron "0 2 * * *" --tz Europe/Amsterdam

      factflow schedule create poll --config facts --every 5m -p source_dir=/data/in
    """
    if (cron is None) == (every is None):
        raise InputError("give exactly one of --cron and --every")
    interval = None
    if every is not None:
        seconds = parse_duration(every)
        if seconds < 1 or seconds != int(seconds):
            raise InputError(f"--every {every!r}: the interval must be whole seconds, at least 1s")
        interval = int(seconds)
    grace_seconds = parse_duration(grace)
    from factflow_cli._params import parse_labels, parse_params, resolve_path_params

    g = _g(ctx)
    params = parse_params(param)
    if params:  # path params are made absolute here, as `config run` does
        stored = g.client().get_config(config, version)
        declared = (stored.get("definition") or {}).get("params") or {}
        params = resolve_path_params(params, declared)
    body = {
        "name": name,
        "config_name": config,
        "config_version": version,
        "cron": cron,
        "interval_seconds": interval,
        "timezone": timezone,
        "params": params,
        "labels": parse_labels(label),
        "paused": paused,
        "catchup": catchup,
        "catchup_limit": catchup_limit,
        "misfire_grace_seconds": max(1, int(grace_seconds)),
        "max_active_runs": max_active,
        "description": description,
    }
    schedule = g.client().post_json("/schedules", body)
    if g.json:
        g.emit_json(schedule)
        return
    from factflow_cli._render import timestamp

    when = timestamp(schedule.get("next_fire_at")) if not paused else "never (paused)"
    g.out.print(f"schedule {schedule.get('name')} created: {_trigger(schedule)}; next fire {when}")


@app.command("list")
def list_(
    ctx: typer.Context,
    config: Annotated[str | None, typer.Option("--config", "-c", help="Only this config.")] = None,
    paused: Annotated[
        bool | None, typer.Option("--paused/--active", help="Only paused / active ones.")
    ] = None,
) -> None:
    """List schedules.

    Example:

      factflow schedule list --active
    """
    g = _g(ctx)
    page = g.client().get_json("/schedules", params={"config": config, "paused": paused})
    if g.json:
        g.emit_json(page)
        return
    items = page.get("items") or []
    if not items:
        g.note("no schedules; create one with: factflow schedule create NAME --config C --every 1h")
        return
    g.out.print(_table(items))


@app.command("show")
def show(ctx: typer.Context, ref: RefArg) -> None:
    """Show a schedule, its next fire times and its latest fires.

    Example:

      factflow schedule show nightly
    """
    g = _g(ctx)
    client = g.client()
    schedule = client.get_json(_path(ref))
    upcoming = client.get_json(_path(schedule["id"], "/next"), params={"count": 5})
    fires = client.get_json(_path(schedule["id"], "/fires"), params={"limit": 10})
    if g.json:
        g.emit_json({"schedule": schedule, "next": upcoming, "fires": fires})
        return
    from rich.table import Table

    from factflow_cli._render import timestamp

    fields = Table.grid(padding=(0, 2))
    rows = [
        ("id", schedule.get("id")),
        ("name", schedule.get("name")),
        ("config", schedule.get("config_name")),
        ("version", schedule.get("config_version") or "latest"),
        ("trigger", _trigger(schedule)),
        ("state", _state(schedule)),
        (
            "catch-up",
            f"{schedule.get('catchup')} (limit {schedule.get('catchup_limit')}, "
            f"grace {schedule.get('misfire_grace_seconds')}s)",
        ),
        ("max active runs", schedule.get("max_active_runs") or "unlimited"),
        ("params", schedule.get("params") or "-"),
        ("labels", schedule.get("labels") or "-"),
        ("last fire", timestamp(schedule.get("last_fire_at"))),
    ]
    for key, value in rows:
        fields.add_row(key, str(value))
    g.out.print(fields)
    label = "would fire (if resumed now)" if upcoming.get("paused") else "next fires"
    g.out.print(f"\n{label}: " + ", ".join(timestamp(t) for t in upcoming.get("times") or []))
    items = fires.get("items") or []
    if items:
        g.out.print("\nlatest fires:")
        g.out.print(_fires_table(items))


def _state_change(ctx: typer.Context, ref: str, action: str) -> None:
    g = _g(ctx)
    schedule = g.client().post_json(_path(ref, f"/{action}"))
    if g.json:
        g.emit_json(schedule)
        return
    from factflow_cli._render import timestamp

    tail = "" if schedule.get("paused") else f"; next fire {timestamp(schedule['next_fire_at'])}"
    g.out.print(f"schedule {schedule.get('name')} {_state(schedule)}{tail}")


@app.command("pause")
def pause(ctx: typer.Context, ref: RefArg) -> None:
    """Pause a schedule (runs already started carry on).

    Example:

      factflow schedule pause nightly
    """
    _state_change(ctx, ref, "pause")


@app.command("resume")
def resume(ctx: typer.Context, ref: RefArg) -> None:
    """Resume a schedule from its next fire time (nothing is caught up for the pause).

    Example:

      factflow schedule resume nightly
    """
    _state_change(ctx, ref, "resume")


@app.command("delete")
def delete(ctx: typer.Context, ref: RefArg) -> None:
    """Delete a schedule and its fire records; its runs stay.

    Example:

      factflow schedule delete nightly
    """
    g = _g(ctx)
    schedule = g.client().request("DELETE", _path(ref)).json()
    if g.json:
        g.emit_json(schedule)
        return
    g.out.print(f"schedule {schedule.get('name')} deleted")


@app.command("next")
def next_(
    ctx: typer.Context,
    ref: RefArg,
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=100)] = 5,
) -> None:
    """Print the next fire times (local time; --output json for UTC).

    Example:

      factflow schedule next nightly -n 10
    """
    g = _g(ctx)
    upcoming = g.client().get_json(_path(ref, "/next"), params={"count": count})
    if g.json:
        g.emit_json(upcoming)
        return
    from factflow_cli._render import timestamp

    if upcoming.get("paused"):
        g.note("the schedule is paused; these are the times it would fire if resumed now")
    for moment in upcoming.get("times") or []:
        g.out.print(timestamp(moment))


@app.command("fires")
def fires(
    ctx: typer.Context,
    ref: RefArg,
    limit: Annotated[int, typer.Option("--limit", min=1, max=500)] = 20,
) -> None:
    """List the fire times claimed, newest first, with the execution each started.

    Example:

      factflow schedule fires nightly --limit 50
    """
    g = _g(ctx)
    page = g.client().get_json(_path(ref, "/fires"), params={"limit": limit})
    if g.json:
        g.emit_json(page)
        return
    items = page.get("items") or []
    if not items:
        g.note("no fire time has come yet")
        return
    g.out.print(_fires_table(items))
