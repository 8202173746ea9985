"""Tables and lines for the table output (``--format table``): configs, lineage,
storage, events, and the small pieces the other views share.

Every function takes the JSON the server sent (dicts) and returns a Rich
renderable; nothing here talks to the server.  Executions: ``_render_runs``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

__all__ = [
    "COUNT_FIELDS",
    "STATUS_STYLES",
    "config_detail",
    "configs_table",
    "event_line",
    "fields",
    "line",
    "lineage_table",
    "repr_value",
    "status_text",
    "storage_table",
    "timestamp",
]

STATUS_STYLES = {
    "completed": "green",
    "failed": "red",
    "cancelled": "yellow",
    "interrupted": "yellow",
    "running": "cyan",
    "pending": "dim",
}
COUNT_FIELDS = ("received", "processed", "failed", "filtered", "cancelled", "in_flight")


def line(text: str, style: str = "") -> Text:
    """One line that is never wrapped (commands in it stay copyable)."""
    return Text(text, style=style, no_wrap=True, overflow="ignore")


def status_text(status: str | None) -> Text:
    value = status or "-"
    return Text(value, style=STATUS_STYLES.get(value.split(" ", 1)[0], ""))


def timestamp(value: Any, *, precise: bool = False) -> str:
    """An ISO time from the server as local ``YYYY-MM-DD HH:MM:SS`` (``precise``:
    with milliseconds, ``…:SS.mmm``); ``-`` for none."""
    if not value:
        return "-"
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    if precise:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def configs_table(items: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("NAME", no_wrap=True)
    table.add_column("VERSION", justify="right", no_wrap=True)
    table.add_column("ROUTES", justify="right", no_wrap=True)
    table.add_column("CREATED", no_wrap=True)
    table.add_column("ARCHIVED", no_wrap=True)
    table.add_column("DESCRIPTION")
    for c in items:
        routes = (c.get("definition") or {}).get("routes") or {}
        table.add_row(
            str(c.get("name")),
            str(c.get("version")),
            str(len(routes)),
            timestamp(c.get("created_at")),
            timestamp(c.get("archived_at")) if c.get("archived_at") else "",
            str(c.get("description") or ""),
        )
    return table


def fields(rows: Iterable[tuple[str, Any]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for name, value in rows:
        table.add_row(name, value if isinstance(value, Text) else str(value))
    return table


def config_detail(config: Mapping[str, Any]) -> RenderableType:
    definition = config.get("definition") or {}
    routes = definition.get("routes") or {}
    params = definition.get("params") or {}
    rows: list[tuple[str, Any]] = [
        ("name", config.get("name")),
        ("version", config.get("version")),
        ("id", config.get("id")),
        ("checksum", config.get("checksum")),
        ("created", timestamp(config.get("created_at"))),
        ("archived", timestamp(config.get("archived_at")) if config.get("archived_at") else "no"),
        ("description", config.get("description") or "-"),
        ("routes", ", ".join(routes) or "-"),
    ]
    parts: list[RenderableType] = [fields(rows)]
    if params:
        table = Table(title="params", title_justify="left", box=None, header_style="bold")
        table.add_column("NAME", no_wrap=True)
        table.add_column("TYPE", no_wrap=True)
        table.add_column("DEFAULT")
        for name, spec in params.items():
            spec = spec if isinstance(spec, Mapping) else {"default": spec}
            table.add_row(name, str(spec.get("type", "-")), repr_value(spec.get("default")))
        parts += [Text(""), table]
    return Group(*parts)


def repr_value(value: Any) -> str:
    import json

    return value if isinstance(value, str) else json.dumps(value)


def lineage_table(items: Sequence[Mapping[str, Any]]) -> Table:
    """Lineage records; ``#`` is the record's number, what ``--after`` takes."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("ROUTE", no_wrap=True)
    table.add_column("MESSAGE", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("TRY", justify="right", no_wrap=True)
    table.add_column("OUT", justify="right", no_wrap=True)
    table.add_column("MS", justify="right", no_wrap=True)
    table.add_column("ERROR", style="red")
    for r in items:
        ms = r.get("duration_ms")
        status = str(r.get("status"))
        table.add_row(
            str(r.get("id")),
            str(r.get("route")),
            str(r.get("message_id")),
            Text(status, style=STATUS_STYLES.get(status, "green" if status == "processed" else "")),
            str(r.get("attempt", "")),
            str(r.get("outputs", "")),
            f"{ms:.1f}" if isinstance(ms, int | float) else "-",
            str(r.get("error") or ""),
        )
    return table


def storage_table(items: Sequence[Mapping[str, Any]]) -> Table:
    """Stored objects; ``#`` is the object's number, what ``--after`` takes."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("KEY")
    table.add_column("SIZE", justify="right", no_wrap=True)
    table.add_column("TYPE", no_wrap=True)
    table.add_column("ROUTE", no_wrap=True)
    table.add_column("WRITTEN", no_wrap=True)
    for o in items:
        table.add_row(
            str(o.get("id", "-")),
            str(o.get("key")),
            str(o.get("size", "-")),
            str(o.get("content_type") or "-"),
            str(o.get("route") or "-"),
            timestamp(o.get("written_at")),
        )
    return table


def event_line(event: Mapping[str, Any]) -> Text:
    """One event as a line: ``seq  time (to the millisecond)  kind  summary``."""
    kind = str(event.get("kind"))
    data = event.get("data") or {}
    line = Text()
    line.append(f"{event.get('seq', ''):>5}  ", style="dim")
    line.append(timestamp(event.get("at"), precise=True) + "  ", style="dim")
    line.append(f"{kind:<15} ", style="bold")
    if kind == "status":
        line.append(status_text(data.get("status")))
        if data.get("queued"):
            line.append(f"  queued (priority {data.get('priority', 0)})", style="dim")
        if data.get("error"):
            line.append(f"  {data['error']}", style="red")
    elif kind in ("route.started", "route.drained"):
        line.append(str(data.get("route")))
        counts = data.get("counts") or {}
        if counts:
            line.append("  " + _counts(counts), style="dim")
    elif kind == "progress":
        line.append(_counts(data.get("totals") or {}))
    elif kind == "message.failed":
        line.append(f"{data.get('route')} {data.get('message_id')} attempt {data.get('attempt')}: ")
        line.append(str(data.get("error")), style="red")
    elif kind == "storage.written":
        line.append(f"{data.get('key')}  {data.get('size', '?')} bytes  from {data.get('route')}")
    else:
        line.append(repr_value(data))
    return line


def _counts(counts: Mapping[str, Any]) -> str:
    return " ".join(f"{name}={counts[name]}" for name in COUNT_FIELDS if name in counts)
