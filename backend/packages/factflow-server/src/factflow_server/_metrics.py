"""``GET /metrics``: the server's numbers in the Prometheus text format.

Rendered at scrape time from what owns them: runs by status from the
database (the same for every server sharing it), this process's runs and
capacity from the run controller, messages per config/route/outcome and the
lineage and storage write latencies from ``ExecutionMetrics``, run log
records from the run log writer, and open SSE streams from
``SseStreamsMiddleware``, which counts the responses that are
``text/event-stream`` while they are open.  Auth is the API's (see
docs/operations.md, "Metrics").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from factflow_execution import ExecutionService, LatencyHistogram
from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from factflow_server._deps import Service
from factflow_server._openapi import problems

__all__ = ["SseStreams", "SseStreamsMiddleware", "router"]

STATUSES: Final = ("pending", "running", "completed", "failed", "cancelled", "interrupted")

router = APIRouter(tags=["metrics"])


class SseStreams:
    """Open SSE responses per route path (``/api/v1/executions/{execution_id}/events`` …)."""

    def __init__(self) -> None:
        self.open: dict[str, int] = {}


class SseStreamsMiddleware:
    """Counts each ``text/event-stream`` response from its first byte until it ends."""

    def __init__(self, app: ASGIApp, streams: SseStreams) -> None:
        self.app = app
        self.streams = streams

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        counted: list[str] = []

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and not counted:
                headers = dict(message.get("headers") or [])
                if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
                    path = _template(scope)
                    counted.append(path)
                    self.streams.open[path] = self.streams.open.get(path, 0) + 1
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            for path in counted:
                self.streams.open[path] -= 1


def _template(scope: Scope) -> str:
    """The request path with each path parameter's value replaced by ``{name}``."""
    names = {str(value): name for name, value in (scope.get("path_params") or {}).items()}
    parts = str(scope.get("path", "")).split("/")
    return "/".join(f"{{{names[part]}}}" if part in names else part for part in parts)


def _histogram(name: str, doc: str, histogram: LatencyHistogram) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, doc, buckets=histogram.cumulative(), sum_value=histogram.sum)


def families(
    service: ExecutionService, by_status: dict[str, int], streams: SseStreams
) -> Iterator[Metric]:
    """Every metric, from the numbers read just now."""
    runs = GaugeMetricFamily(
        "factflow_executions",
        "Executions in the database by status (every server sharing it reports the same).",
        labels=["status"],
    )
    for status in sorted({*STATUSES, *by_status}):
        runs.add_metric([status], by_status.get(status, 0))
    yield runs
    manager = service.manager
    yield GaugeMetricFamily(
        "factflow_running_executions", "Executions this server process runs now.", len(manager)
    )
    yield GaugeMetricFamily(
        "factflow_execution_capacity",
        "Most executions this server process runs at once (FACTFLOW_MAX_RUNNING_EXECUTIONS).",
        manager.capacity,
    )
    metrics = service.metrics
    messages = CounterMetricFamily(
        "factflow_messages",
        "Messages settled by this process's runs, per config, route and outcome "
        "(processed, failed, filtered, cancelled).",
        labels=["config", "route", "outcome"],
    )
    for (config, route, outcome), count in sorted(metrics.messages.items()):
        messages.add_metric([config, route, outcome], count)
    yield messages
    yield _histogram(
        "factflow_lineage_write_seconds",
        "Time to commit one batch of lineage rows.",
        metrics.lineage_writes,
    )
    yield CounterMetricFamily(
        "factflow_lineage_rows_written", "Lineage rows committed.", metrics.lineage_rows
    )
    yield _histogram(
        "factflow_storage_write_seconds",
        "Time a processor's storage write takes (the bytes stored; the row follows in a batch).",
        metrics.storage_writes,
    )
    yield CounterMetricFamily(
        "factflow_storage_written_bytes", "Bytes stored by runs.", metrics.storage_bytes
    )
    yield CounterMetricFamily(
        "factflow_run_log_records_written",
        "Run log records written (or given up on after retries).",
        service.run_logs.written,
    )
    subscribers = GaugeMetricFamily(
        "factflow_sse_subscribers", "Open Server-Sent Event streams per endpoint.", labels=["path"]
    )
    for path, count in sorted(streams.open.items()):
        subscribers.add_metric([path], count)
    yield subscribers


class _Snapshot(Collector):
    """A collector of metrics already read (the registry only renders them)."""

    def __init__(self, metrics: Iterable[Metric]) -> None:
        self._metrics = list(metrics)

    def collect(self) -> Iterable[Metric]:
        return self._metrics

    def describe(self) -> Iterable[Metric]:
        return []


_EXAMPLE: Final = """\
# HELP factflow_executions Executions in the database by status (…).
# TYPE factflow_executions gauge
factflow_executions{status="completed"} 42.0
factflow_executions{status="running"} 1.0
# HELP factflow_messages_total Messages settled by this process's runs, per config, route and … (…).
# TYPE factflow_messages_total counter
factflow_messages_total{config="facts",outcome="processed",route="extract"} 1200.0
# HELP factflow_lineage_write_seconds Time to commit one batch of lineage rows.
# TYPE factflow_lineage_write_seconds histogram
factflow_lineage_write_seconds_bucket{le="0.005"} 17.0
…
"""


@router.get(
    "/metrics",
    response_class=Response,
    summary="Metrics in the Prometheus text format",
    description=(
        "Runs by status (database-wide), this process's running runs and capacity, "
        "messages settled per config/route/outcome, lineage and storage write latency "
        "histograms, run log records written and open SSE streams per endpoint. "
        "Needs the API token when one is set. The list: docs/operations.md."
    ),
    responses={
        200: {
            "description": "The metrics (text exposition format 0.0.4).",
            "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}, "example": _EXAMPLE}},
        },
        **problems(),
    },
)
async def get_metrics(service: Service, request: Request) -> Response:
    by_status = await service.count_by_status()
    streams: SseStreams = request.app.state.sse_streams
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families(service, by_status, streams)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
