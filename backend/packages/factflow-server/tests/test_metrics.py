"""``GET /metrics``: Prometheus text with runs, messages, write latencies, run logs and
open SSE streams (a real uvicorn for the streams); the API's auth applies."""

from __future__ import annotations

import httpx
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_server import ServerSettings, create_app
from prometheus_client.parser import text_string_to_metric_families

from .conftest import (
    API,
    Gates,
    ServiceFactory,
    TrackingBus,
    asgi_client,
    failing_config,
    gated_config,
    inline_config,
    run_to_end,
    serve_in_process,
)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(text: str) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_runs_messages_latencies_and_logs_are_counted(
    client: httpx.AsyncClient, settings: FactFlowSettings
) -> None:
    before = await _scrape(client)
    assert before[("factflow_running_executions", ())] == 0
    assert before[("factflow_execution_capacity", ())] == settings.max_running_executions
    assert before[("factflow_lineage_write_seconds_count", ())] == 0

    await client.post(f"{API}/configs", json=failing_config())
    await run_to_end(client, "f")
    await client.post(f"{API}/configs", json=inline_config(items=[{"n": i} for i in range(5)]))
    await run_to_end(client, "t")
    after = await _scrape(client)

    assert after[("factflow_executions", (("status", "completed"),))] == 2
    assert after[("factflow_executions", (("status", "failed"),))] == 0

    def messages(config: str, route: str, outcome: str) -> float:
        key = (("config", config), ("outcome", outcome), ("route", route))
        return after.get(("factflow_messages_total", key), 0)

    assert messages("f", "src", "processed") == 3
    assert messages("f", "sink", "processed") == 2
    assert messages("f", "sink", "failed") == 1
    assert messages("t", "src", "processed") == messages("t", "sink", "processed") == 5
    assert after[("factflow_lineage_rows_written_total", ())] == 16
    assert after[("factflow_lineage_write_seconds_count", ())] >= 1
    assert (
        after[("factflow_lineage_write_seconds_bucket", (("le", "+Inf"),))]
        == after[("factflow_lineage_write_seconds_count", ())]
    )
    assert after[("factflow_storage_write_seconds_count", ())] == 5
    assert after[("factflow_storage_written_bytes_total", ())] > 0
    # the failing message's three attempts: two retried (info), one final (warning)
    assert after[("factflow_run_log_records_written_total", ())] >= 3


async def test_open_sse_streams_are_counted_per_endpoint_until_they_close(
    settings: FactFlowSettings, make_service: ServiceFactory, gates: Gates
) -> None:
    bus = TrackingBus()
    service: ExecutionService = await make_service(bus=bus)
    app = create_app(settings, service=service)
    await service.save_config(gated_config())
    execution = await service.run("t")
    await gates.wait_entered("default", 1)
    async with (
        serve_in_process(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as client,
    ):
        opened = [
            await client.send(
                client.build_request("GET", f"{API}/executions/{execution.id}/{path}"),
                stream=True,
            )
            for path in ("events", "events", "logs/stream")
        ]
        samples = await _scrape(client)
        for response in opened:
            await response.aclose()
    events = "/api/v1/executions/{execution_id}/events"
    logs = "/api/v1/executions/{execution_id}/logs/stream"
    assert samples[("factflow_sse_subscribers", (("path", events),))] == 2
    assert samples[("factflow_sse_subscribers", (("path", logs),))] == 1
    # uvicorn has finished every response: nothing is counted as open any more
    assert set(app.state.sse_streams.open.values()) == {0}
    gates.open()
    await service.wait(execution.id, timeout=60)


async def test_metrics_need_the_token_when_one_is_set(
    settings: FactFlowSettings, service: ExecutionService
) -> None:
    secured = ServerSettings.from_base(settings).model_copy(update={"api_token": "s3cret"})
    async with asgi_client(create_app(secured, service=service)) as client:
        assert (await client.get("/metrics")).status_code == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and "factflow_executions" in ok.text
