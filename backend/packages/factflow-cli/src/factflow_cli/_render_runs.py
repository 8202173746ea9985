"""Tables and panels of executions: the list, the detail, per-route stats, failures.

Every function takes the JSON the server sent (dicts) and returns a Rich
renderable; nothing here talks to the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from factflow_cli._durations import format_duration
from factflow_cli._ids import short_ids
from factflow_cli._render import COUNT_FIELDS, fields, repr_value, status_text, timestamp

__all__ = [
    "execution_detail",
    "executions_table",
    "failures_table",
    "labels_text",
    "stats_table",
]


def _duration(execution: Mapping[str, Any]) -> str:
    stats = execution.get("stats") or {}
    seconds = stats.get("duration_seconds")
    if seconds is None and execution.get("started_at") and execution.get("finished_at"):
        start = datetime.fromisoformat(str(execution["started_at"]))
        end = datetime.fromisoformat(str(execution["finished_at"]))
        seconds = (end - start).total_seconds()
    return format_duration(seconds)


def _config_ref(execution: Mapping[str, Any]) -> str:
    version = execution.get("config_version")
    name = str(execution.get("config_name") or "-")
    return f"{name} v{version}" if version is not None else name


def labels_text(labels: Any) -> str:
    """``k=v, k2=v2`` (sorted), or ``""``."""
    if not isinstance(labels, Mapping):
        return ""
    return ", ".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _status_cell(execution: Mapping[str, Any]) -> str:
    """The status, with the queue position of a run waiting for a slot (``pending #3``)."""
    status = str(execution.get("status") or "-")
    position = execution.get("queue_position")
    return f"{status} #{position}" if status == "pending" and position is not None else status


def _totals(execution: Mapping[str, Any]) -> Mapping[str, Any]:
    return (execution.get("stats") or {}).get("totals") or {}


def executions_table(items: Sequence[Mapping[str, Any]], console: Console) -> Table:
    """The list: full ids when the table fits ``console``'s width; otherwise short
    ids (unique among ``items``, accepted as id prefixes by every command),
    compact creation times and no SOURCE or LABELS column, so no id is cut."""
    wide = _executions_table(items, compact=False)
    unbounded = console.options.update_width(1_000_000)  # its natural width, not clamped
    if console.measure(wide, options=unbounded).maximum <= console.width:
        return wide
    return _executions_table(items, compact=True)


def _executions_table(items: Sequence[Mapping[str, Any]], *, compact: bool) -> Table:
    ids = [str(e.get("id")) for e in items]
    shown = short_ids(ids) if compact else {i: i for i in ids}
    columns = ["ID", "CONFIG", "STATUS", "SOURCE", "CREATED", "DURATION", "PROCESSED", "FAILED"]
    if compact:
        columns.remove("SOURCE")
        columns[columns.index("PROCESSED")] = "OK"
    rows: list[list[str]] = []
    for e, execution_id in zip(items, ids, strict=True):
        totals = _totals(e)
        created = timestamp(e.get("created_at"))
        cells = {
            "ID": shown[execution_id],
            "CONFIG": _config_ref(e),
            "STATUS": _status_cell(e),
            "SOURCE": str(e.get("source") or "-"),
            "CREATED": created[5:16] if compact and created != "-" else created,
            "DURATION": _duration(e),
            "PROCESSED": str(totals.get("processed", "-")),
            "FAILED": str(totals.get("failed", "-")),
        }
        cells["OK"] = cells["PROCESSED"]
        rows.append([cells[c] for c in columns])
    labels = [labels_text(e.get("labels")) for e in items]
    table = Table(box=None, pad_edge=False, header_style="bold")
    for index, name in enumerate(columns):
        # Only CONFIG gives way when the terminal is narrow: every other column
        # keeps its full width, so ids, statuses and counts are never cut.
        width = max([len(name), *(len(row[index]) for row in rows)])
        table.add_column(
            name,
            no_wrap=True,
            overflow="ellipsis",
            justify="right" if name in ("DURATION", "PROCESSED", "OK", "FAILED") else "left",
            min_width=None if name == "CONFIG" else width,
        )
    with_labels = any(labels) and not compact  # narrow: labels are in `execution show`
    if with_labels:
        table.add_column("LABELS", overflow="fold")
    for row, text in zip(rows, labels, strict=True):
        line: list[Any] = [
            status_text(c) if n == "STATUS" else c for n, c in zip(columns, row, strict=True)
        ]
        table.add_row(*line, *([text] if with_labels else []))
    return table


def execution_detail(execution: Mapping[str, Any]) -> RenderableType:
    stats = execution.get("stats") or {}
    replay = execution.get("replay_source") or {}
    params = (execution.get("config_snapshot") or {}).get("params") or {}
    rows: list[tuple[str, Any]] = [
        ("id", execution.get("id")),
        ("config", _config_ref(execution)),
        ("status", status_text(execution.get("status"))),
    ]
    if execution.get("queue_position") is not None:
        rows.append(("queue", f"position {execution['queue_position']}, waiting for a free slot"))
    rows += [
        ("source", execution.get("source")),
        ("created", timestamp(execution.get("created_at"))),
        ("started", timestamp(execution.get("started_at"))),
        ("finished", timestamp(execution.get("finished_at"))),
        ("duration", _duration(execution)),
    ]
    if execution.get("parent_execution_id"):
        what = replay.get("mode", "-") + (f" at {replay['route']}" if replay.get("route") else "")
        rows.append(("replay of", f"{execution['parent_execution_id']} ({what})"))
    rows.append(("labels", labels_text(execution.get("labels")) or "-"))
    if params:
        rows.append(("params", ", ".join(f"{k}={repr_value(v)}" for k, v in params.items())))
    if execution.get("error"):
        rows.append(("error", Text(str(execution["error"]), style="red")))
    if stats:
        rows.append(
            (
                "storage",
                f"{stats.get('storage_objects', 0)} objects, {stats.get('storage_bytes', 0)} bytes",
            )
        )
    parts: list[RenderableType] = [fields(rows)]
    if stats.get("routes"):
        parts += [Text(""), stats_table(stats)]
    return Group(*parts)


def stats_table(
    stats: Mapping[str, Any], *, title: str | None = None, hide_idle: bool = False
) -> Table:
    """Per-route counts with a totals row (``hide_idle``: without routes that received
    nothing, e.g. the routes a replay did not touch)."""
    from rich import box

    table = Table(title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("ROUTE", no_wrap=True)
    totals = stats.get("totals") or {}
    # ``lost``: what an interrupted run's dead process held; shown only when there was some.
    columns = (*COUNT_FIELDS, "lost") if totals.get("lost") else COUNT_FIELDS
    for name in columns:
        table.add_column(name.upper().replace("_", " "), justify="right", no_wrap=True)
    table.add_column("AVG MS", justify="right", no_wrap=True)
    for name, route in (stats.get("routes") or {}).items():
        if hide_idle and not route.get("received"):
            continue
        avg = route.get("duration_ms_avg")
        table.add_row(
            name,
            *(str(route.get(f, 0)) for f in columns),
            f"{avg:.1f}" if isinstance(avg, int | float) else "-",
        )
    table.add_section()
    table.add_row("total", *(str(totals.get(f, 0)) for f in columns), "", style="bold")
    return table


def failures_table(failures: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("ROUTE", no_wrap=True)
    table.add_column("MESSAGE", no_wrap=True)
    table.add_column("ERROR", style="red")
    for f in failures:
        table.add_row(str(f.get("route")), str(f.get("message_id")), str(f.get("error") or ""))
    return table
