"""Stored configs (versioned) and the immutable execution snapshot."""

from __future__ import annotations

import pytest
from factflow_engine import ConfigValidationError
from factflow_execution import ExecutionService
from factflow_execution._errors import ConfigArchivedError, ConfigNotFoundError
from factflow_infra.db import pipeline_configs, pipeline_executions
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from .conftest import Gates, inline_config


async def test_saving_is_idempotent_and_changes_make_a_new_version(
    service: ExecutionService,
) -> None:
    first, created = await service.save_config(inline_config(items=[1]))
    assert created and first.version == 1
    same, created_again = await service.save_config(inline_config(items=[1]))
    assert not created_again and same.id == first.id
    second, created = await service.save_config(inline_config(items=[1, 2]))
    assert created and second.version == 2
    old = await service.get_config("t", 1)
    assert old == first  # never mutated
    assert [c.version for c in await service.config_versions("t")] == [1, 2]
    assert [(c.name, c.version) for c in await service.list_configs()] == [("t", 2)]


async def test_yaml_text_is_accepted_and_invalid_configs_store_nothing(
    service: ExecutionService,
) -> None:
    config, _ = await service.save_config(
        "name: y\nroutes:\n  src:\n    adapter: {type: inline, with: {items: [1]}}\n"
    )
    assert config.name == "y"
    with pytest.raises(ConfigValidationError) as info:
        await service.save_config(
            "name: bad\nroutes:\n  src:\n    adapter: {type: inlin}\n", filename="bad.yaml"
        )
    assert any("inline" in issue.message for issue in info.value.issues)
    with pytest.raises(ConfigNotFoundError):
        await service.get_config("bad")


async def test_archive_hides_the_config_refuses_runs_and_keeps_snapshots(
    service: ExecutionService,
) -> None:
    await service.save_config(inline_config())
    execution = await service.run("t")
    await service.wait(execution.id, timeout=30)
    versions = await service.archive_config("t")
    assert all(v.archived_at is not None for v in versions)
    assert await service.list_configs() == []
    assert [c.name for c in await service.list_configs(include_archived=True)] == ["t"]
    with pytest.raises(ConfigArchivedError, match="archived"):
        await service.run("t")
    kept = await service.get(execution.id)
    assert kept.config_snapshot == execution.config_snapshot
    again, created = await service.save_config(inline_config())
    assert created and again.version == 2 and again.archived_at is None


async def test_snapshot_is_fixed_at_creation(service: ExecutionService, gates: Gates) -> None:
    """Editing the stored config or the global route directory after the start
    changes nothing for the execution: it runs, and keeps, what it started with."""

    def config(items: list[dict[str, int]]) -> dict[str, object]:
        return inline_config(
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": items}},
                    "processors": [{"type": "gate"}, {"type": "fan_out"}],
                    "to": ["sink"],
                },
                "sink": {},
            }
        )

    await service.save_config(config([{"n": 1}]))
    execution = await service.run("t")
    snapshot = execution.config_snapshot
    assert snapshot["directory"] == {"src": "factflow.t.src", "sink": "factflow.t.sink"}
    assert snapshot["config"]["version"] == 1
    await gates.wait_entered("default", 1)
    # change the stored config and the global directory mid-run
    await service.save_config(config([{"n": 5}]))
    service.directory.overrides["sink"] = "elsewhere.sink"  # type: ignore[attr-defined]
    gates.open("default")
    result = await service.wait(execution.id, timeout=30)
    assert result.status == "completed"
    assert result.stats is not None and result.stats.routes["sink"].processed == 1
    final = await service.get(execution.id)
    assert final.config_snapshot == snapshot
    assert final.config_version == 1
    dag = await service.dag(execution.id)
    assert {e.queue for e in dag.edges} == {"factflow.t.sink"}
    fresh = await service.create_execution("t")
    assert fresh.config_snapshot["directory"]["sink"] == "elsewhere.sink"
    assert fresh.config_version == 2


@pytest.mark.dialect("postgresql")
async def test_postgres_trigger_rejects_a_direct_snapshot_update(
    service: ExecutionService,
) -> None:
    await service.save_config(inline_config())
    execution = await service.run("t")
    await service.wait(execution.id, timeout=30)
    with pytest.raises(IntegrityError, match="immutable"):
        async with service.db.transaction() as conn:
            await conn.execute(
                update(pipeline_executions)
                .where(pipeline_executions.c.id == execution.id)
                .values(config_snapshot={"tampered": True})
            )
    assert (await service.get(execution.id)).config_snapshot == execution.config_snapshot


async def test_params_are_checked_before_anything_is_written(service: ExecutionService) -> None:
    await service.save_config(
        inline_config(
            params={"count": {"type": "integer"}},
            routes={
                "src": {
                    "adapter": {"type": "inline", "with": {"items": ["{count}"]}},
                }
            },
        )
    )
    with pytest.raises(ConfigValidationError, match="count"):
        await service.run("t")
    with pytest.raises(ConfigValidationError, match="count"):
        await service.run("t", params={"count": "many"})
    assert (await service.list()).items == []
    execution = await service.run("t", params={"count": "3"})
    assert execution.config_snapshot["params"] == {"count": 3}
    assert len(service.manager) <= 1


async def test_old_config_versions_are_never_mutated_by_runs(service: ExecutionService) -> None:
    config, _ = await service.save_config(inline_config())
    execution = await service.run("t")
    await service.wait(execution.id, timeout=30)
    async with service.db.connect() as conn:
        rows = (await conn.execute(pipeline_configs.select())).mappings().all()
    assert len(rows) == 1 and rows[0]["checksum"] == config.checksum
