"""Engine behaviour end to end on real databases (SQLite and PostgreSQL): the
orchestrator with the batched lineage recorder, local storage and the event log."""

from __future__ import annotations

from pathlib import Path

from factflow_execution import ExecutionService
from factflow_infra.db import lineage_records, storage_objects
from sqlalchemy import func, select

from .conftest import Gates, inline_config


async def _finish(service: ExecutionService, config: dict, **run: object) -> str:
    await service.save_config(config)
    execution = await service.run(config["name"], **run)  # type: ignore[arg-type]
    await service.wait(execution.id, timeout=60)
    return execution.id


async def _lineage_count(service: ExecutionService, execution_id: str) -> int:
    async with service.db.connect() as conn:
        return int(
            (
                await conn.execute(
                    select(func.count()).where(lineage_records.c.execution_id == execution_id)
                )
            ).scalar_one()
        )


async def test_fan_out_and_filter_with_one_lineage_row_per_message_per_route(
    service: ExecutionService,
) -> None:
    items = [{"n": 4, "keep": True}, {"n": 3, "keep": False}]
    execution_id = await _finish(
        service,
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": items}},
                    "processors": [
                        {"type": "fan_out"},
                        {"type": "filter", "with": {"field": "keep", "equals": True}},
                    ],
                    "to": ["sink"],
                },
                "sink": {},
            }
        ),
    )
    row = await service.get(execution_id)
    assert row.status == "completed"
    assert row.stats is not None
    assert row.stats.routes["src"].processed == 1  # the kept doc, fanned out to 4
    assert row.stats.routes["src"].filtered == 1  # every fan-out child filtered
    assert row.stats.routes["sink"].processed == 4
    assert await _lineage_count(service, execution_id) == row.stats.totals.received == 6
    src = await service.lineage_records(execution_id, route="src")
    assert sorted(r.outputs for r in src) == [0, 4]


async def test_retry_then_success_records_the_attempts(service: ExecutionService) -> None:
    execution_id = await _finish(
        service,
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [{"k": 1}]}},
                    "processors": [{"type": "fail", "with": {"attempts": 2}}],
                }
            },
            settings={"max_retries": 2, "retry_backoff": 0.001},
        ),
    )
    (record,) = await service.lineage_records(execution_id)
    assert (record.status, record.attempt, record.error) == ("processed", 3, None)
    assert (await service.get(execution_id)).status == "completed"


async def test_retry_then_failure_under_continue_completes_with_failures_counted(
    service: ExecutionService,
) -> None:
    execution_id = await _finish(
        service,
        inline_config(
            routes={
                "src": {
                    "adapter": {
                        "type": "inline",
                        "with": {"items": [{"bad": True}, {"bad": False}]},
                    },
                    "processors": [{"type": "fail", "with": {"when": {"bad": True}}}],
                }
            },
            settings={"max_retries": 1, "retry_backoff": 0.001},
        ),
    )
    row = await service.get(execution_id)
    assert row.status == "completed"
    assert row.stats is not None
    assert (row.stats.totals.processed, row.stats.totals.failed) == (1, 1)
    (failed,) = await service.lineage_records(execution_id, status="failed")
    assert failed.attempt == 2
    assert failed.error is not None
    assert "deliberate" in failed.error.lower() or "fail" in failed.error.lower()


async def test_retry_then_failure_under_fail_policy_fails_the_run(
    service: ExecutionService,
) -> None:
    execution_id = await _finish(
        service,
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [{"bad": True}]}},
                    "processors": [{"type": "fail"}],
                }
            },
            settings={"max_retries": 1, "retry_backoff": 0.001, "on_message_error": "fail"},
        ),
    )
    row = await service.get(execution_id)
    assert row.status == "failed"
    assert row.error is not None
    assert "src" in row.error
    assert row.stats is not None
    assert row.stats.totals.failed == 1


async def test_timeout_fails_the_run_and_cancels_what_was_in_flight(
    service: ExecutionService, gates: Gates
) -> None:
    service.settings = service.settings.model_copy(update={"cancel_grace": 0.0})
    execution_id = await _finish(
        service,
        inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": [1, 2]}},
                    "processors": [{"type": "gate", "with": {"name": "never"}}],
                }
            },
            settings={"timeout": 0.2},
        ),
    )
    row = await service.get(execution_id)
    assert row.status == "failed"
    assert row.error is not None
    assert "timed out" in row.error
    assert [r.status for r in await service.lineage_records(execution_id)] == ["cancelled"] * 2


async def test_an_adapter_that_raises_fails_the_run_with_its_reason(
    service: ExecutionService, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"ok": 1}\nnot json\n')
    execution_id = await _finish(
        service,
        inline_config(
            routes={"src": {"adapter": {"type": "jsonl", "with": {"path": str(source)}}}}
        ),
    )
    row = await service.get(execution_id)
    assert row.status == "failed"
    assert row.error is not None
    assert "in.jsonl:2" in row.error


async def test_an_empty_source_drains_at_once(service: ExecutionService) -> None:
    execution_id = await _finish(
        service,
        inline_config(
            routes={
                "src": {"adapter": {"type": "inline", "with": {"items": []}}, "to": ["sink"]},
                "sink": {},
            }
        ),
    )
    row = await service.get(execution_id)
    assert row.status == "completed"
    assert row.stats is not None
    assert row.stats.totals.received == 0
    assert await _lineage_count(service, execution_id) == 0


async def test_a_rejected_storage_key_fails_the_message_and_writes_nothing(
    service: ExecutionService,
) -> None:
    execution_id = await _finish(
        service,
        inline_config(
            routes={
                "src": {
                    "adapter": {
                        "type": "inline",
                        "with": {"items": [{"name": "../escape"}, {"name": "fine"}]},
                    },
                    "processors": [{"type": "storage_write", "with": {"key": "out/{{name}}.json"}}],
                }
            },
            settings={"max_retries": 0},
        ),
    )
    (failed,) = await service.lineage_records(execution_id, status="failed")
    assert failed.error is not None
    assert "invalid storage key" in failed.error
    async with service.db.connect() as conn:
        keys = (
            (
                await conn.execute(
                    select(storage_objects.c.key).where(
                        storage_objects.c.execution_id == execution_id
                    )
                )
            )
            .scalars()
            .all()
        )
    assert keys == ["out/fine.json"]
    root = service.settings.resolved_storage_dir
    written = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert written == [f"{execution_id}/out/fine.json"]
