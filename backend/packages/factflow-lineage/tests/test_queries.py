"""Lineage queries on both databases, over a hand-built fan-out tree.

r (source) ─┬─ a (split) ─┬─ a1 (extract)
            │             ├─ a2 (extract) ── a2x (write, failed)
            │             └─ a3 (extract)
            └─ b (split) ──── b1 (extract, filtered)
s (source, a second root, cancelled)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from factflow_foundation import InvalidInputError, NotFoundError, new_id
from factflow_infra.db import Database
from factflow_lineage import (
    ExecutionTotals,
    LineageRecorder,
    RouteStats,
    ancestry,
    descendants,
    edge_counts,
    execution_totals,
    get_record,
    list_records,
    route_stats,
    select_for_replay,
)
from sqlalchemy import event

T0 = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)

# name: (parent, route, status, start offset ms, duration ms)
TREE: dict[str, tuple[str | None, str, str, int, int]] = {
    "r": (None, "source", "processed", 0, 10),
    "a": ("r", "split", "processed", 10, 4),
    "b": ("r", "split", "processed", 12, 6),
    "a1": ("a", "extract", "processed", 20, 1),
    "a2": ("a", "extract", "processed", 21, 2),
    "a3": ("a", "extract", "processed", 22, 3),
    "b1": ("b", "extract", "filtered", 23, 5),
    "a2x": ("a2", "write", "failed", 30, 8),
    "s": (None, "source", "cancelled", 40, 0),
}


@dataclass
class Tree:
    execution_id: str
    ids: dict[str, str]  # name -> message id

    def names(self, records: Any) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[r.message_id] for r in records]


async def build_tree(db: Database, make_execution: Any, make_entry: Any) -> Tree:
    execution_id = await make_execution()
    ids = {name: new_id() for name in TREE}
    recorder = LineageRecorder(db, batch_size=4)
    for name, (parent, route, status, start, duration) in TREE.items():
        root = name
        while TREE[root][0] is not None:
            root = TREE[root][0]  # type: ignore[assignment]
        started = T0 + timedelta(milliseconds=start)
        await recorder.record(
            make_entry(
                execution_id,
                message_id=ids[name],
                parent_message_id=ids[parent] if parent else None,
                origin_message_id=ids[root],
                route=route,
                status=status,
                started_at=started,
                finished_at=started + timedelta(milliseconds=duration),
                payload={"name": name},
            )
        )
    await recorder.close()
    return Tree(execution_id, ids)


@contextmanager
def lineage_statements(db: Database) -> Iterator[list[str]]:
    """Collect every SQL statement touching lineage_records sent meanwhile."""
    seen: list[str] = []

    def _hook(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "lineage_records" in statement:
            seen.append(statement)

    for engine in db.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", _hook)
    try:
        yield seen
    finally:
        for engine in db.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", _hook)


async def test_ancestry_is_the_chain_root_first(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    async with db.connect() as conn:
        assert tree.names(await ancestry(conn, tree.execution_id, tree.ids["a2x"])) == [
            "r",
            "a",
            "a2",
            "a2x",
        ]
        assert tree.names(await ancestry(conn, tree.execution_id, tree.ids["b1"])) == [
            "r",
            "b",
            "b1",
        ]
        assert tree.names(await ancestry(conn, tree.execution_id, tree.ids["r"])) == ["r"]
        with pytest.raises(NotFoundError, match="no lineage record for message 'nope'"):
            await ancestry(conn, tree.execution_id, "nope")


async def test_descendants_level_by_level(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    async with db.connect() as conn:
        assert tree.names(await descendants(conn, tree.execution_id, tree.ids["r"])) == [
            "a",
            "b",
            "a1",
            "a2",
            "a3",
            "b1",
            "a2x",
        ]
        assert tree.names(await descendants(conn, tree.execution_id, tree.ids["a"])) == [
            "a1",
            "a2",
            "a3",
            "a2x",
        ]
        assert await descendants(conn, tree.execution_id, tree.ids["a3"]) == []
        with pytest.raises(NotFoundError):
            await descendants(conn, tree.execution_id, "nope")
        with pytest.raises(NotFoundError):
            await descendants(conn, new_id(), tree.ids["r"])


async def test_trees_do_not_cross_executions(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    # A replay re-injects a2 into a new execution; its parent stays in the source run.
    replay_id = await make_execution()
    recorder = LineageRecorder(db)
    await recorder.record(
        make_entry(
            replay_id,
            message_id=tree.ids["a2"],
            parent_message_id=tree.ids["a"],
            origin_message_id=tree.ids["r"],
            route="extract",
        )
    )
    await recorder.close()
    async with db.connect() as conn:
        assert tree.names(await ancestry(conn, replay_id, tree.ids["a2"])) == ["a2"]
        assert await descendants(conn, replay_id, tree.ids["a2"]) == []
        entered = await select_for_replay(conn, replay_id, mode="all")
        assert tree.names(entered) == ["a2"]


async def test_edge_counts_follow_parent_ids_within_one_execution(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    other = await build_tree(db, make_execution, make_entry)  # never counted in
    with lineage_statements(db) as statements:
        async with db.connect() as conn:
            edges = await edge_counts(conn, tree.execution_id)
    assert len(statements) == 1
    # r→a, r→b; a→a1,a2,a3 and b→b1; a2→a2x (roots have no incoming edge)
    assert edges == {("source", "split"): 2, ("split", "extract"): 4, ("extract", "write"): 1}
    async with db.connect() as conn:
        assert await edge_counts(conn, other.execution_id) == edges
        assert await edge_counts(conn, await make_execution()) == {}


async def test_route_stats_for_several_executions_in_one_statement(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    first = await build_tree(db, make_execution, make_entry)
    second = await build_tree(db, make_execution, make_entry)
    empty = await make_execution()
    with lineage_statements(db) as statements:
        async with db.connect() as conn:
            stats = await route_stats(conn, [first.execution_id, second.execution_id, empty])
    assert len(statements) == 1
    assert set(stats) == {first.execution_id, second.execution_id, empty}
    assert stats[empty] == {}
    for tree in (first, second):
        routes = stats[tree.execution_id]
        assert set(routes) == {"source", "split", "extract", "write"}
        assert routes["extract"] == RouteStats(
            received=4,
            processed=3,
            failed=0,
            filtered=1,
            cancelled=0,
            total_duration_ms=pytest.approx(11.0),
            avg_duration_ms=pytest.approx(2.75),
            max_duration_ms=pytest.approx(5.0),
            first_started_at=T0 + timedelta(milliseconds=20),
            last_finished_at=T0 + timedelta(milliseconds=28),
        )
        source = routes["source"]
        assert (source.received, source.processed, source.cancelled) == (2, 1, 1)
        assert routes["write"].failed == 1
    as_dict = stats[first.execution_id]["extract"].as_dict()
    assert as_dict["received"] == 4
    assert as_dict["first_started_at"] == (T0 + timedelta(milliseconds=20)).isoformat()
    async with db.connect() as conn:
        assert await route_stats(conn, []) == {}


async def test_execution_totals_in_one_statement(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    empty = await make_execution()
    with lineage_statements(db) as statements:
        async with db.connect() as conn:
            totals = await execution_totals(conn, [tree.execution_id, empty])
    assert len(statements) == 1
    assert totals[empty] == ExecutionTotals()
    total = totals[tree.execution_id]
    assert (total.received, total.processed, total.failed) == (9, 6, 1)
    assert (total.filtered, total.cancelled, total.routes, total.roots) == (1, 1, 4, 2)
    assert total.total_duration_ms == pytest.approx(39.0)
    assert total.max_duration_ms == pytest.approx(10.0)
    assert total.first_started_at == T0
    assert total.last_finished_at == T0 + timedelta(milliseconds=40)
    assert total.as_dict()["roots"] == 2


async def test_get_record_and_list_records_paging(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    eid = tree.execution_id
    async with db.connect() as conn:
        record = await get_record(conn, eid, tree.ids["a2x"])
        assert (record.route, record.status, record.payload) == ("write", "failed", {"name": "a2x"})
        assert record.duration_ms == pytest.approx(8.0)
        assert record.as_dict()["message_id"] == tree.ids["a2x"]
        with pytest.raises(NotFoundError, match=f"in execution {eid!r}"):
            await get_record(conn, eid, "missing")

        seen: list[str] = []
        after: int | None = None
        while True:
            page = await list_records(conn, eid, after_id=after, limit=4)
            seen.extend(tree.names(page))
            if len(page) < 4:
                break
            after = page[-1].id
        assert seen == list(TREE)
        extract = await list_records(conn, eid, route="extract")
        assert tree.names(extract) == ["a1", "a2", "a3", "b1"]
        filtered = await list_records(conn, eid, route="extract", status="filtered")
        assert tree.names(filtered) == ["b1"]
        with pytest.raises(InvalidInputError, match="unknown lineage status 'done'"):
            await list_records(conn, eid, status="done")
        with pytest.raises(InvalidInputError, match="between 1 and"):
            await list_records(conn, eid, limit=0)


async def test_select_for_replay_modes(db: Database, make_execution: Any, make_entry: Any) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    eid = tree.execution_id
    async with db.connect() as conn:
        assert tree.names(await select_for_replay(conn, eid, mode="failed")) == ["a2x"]
        assert await select_for_replay(conn, eid, mode="failed", route="extract") == []
        assert tree.names(await select_for_replay(conn, eid, mode="all")) == ["r", "s"]
        assert tree.names(await select_for_replay(conn, eid, mode="cancelled")) == ["s"]
        assert tree.names(await select_for_replay(conn, eid, mode="unfinished")) == ["a2x", "s"]
        assert await select_for_replay(conn, eid, mode="cancelled", route="write") == []
        ids = [tree.ids["b1"], tree.ids["a"], tree.ids["b1"]]
        assert tree.names(await select_for_replay(conn, eid, mode="ids", message_ids=ids)) == [
            "a",
            "b1",
        ]
        only_split = await select_for_replay(
            conn, eid, mode="ids", message_ids=[tree.ids["a"]], route="split"
        )
        assert tree.names(only_split) == ["a"]


async def test_select_for_replay_errors(db: Database, make_execution: Any, make_entry: Any) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    eid = tree.execution_id
    async with db.connect() as conn:
        with pytest.raises(NotFoundError, match="2 message id") as caught:
            await select_for_replay(
                conn, eid, mode="ids", message_ids=[tree.ids["a"], "ghost-1", "ghost-2"]
            )
        assert "ghost-1, ghost-2" in str(caught.value)
        assert caught.value.extra["missing"] == ["ghost-1", "ghost-2"]
        with pytest.raises(NotFoundError, match="at route 'extract'"):
            await select_for_replay(
                conn, eid, mode="ids", message_ids=[tree.ids["a"]], route="extract"
            )
        with pytest.raises(InvalidInputError, match="needs a non-empty list"):
            await select_for_replay(conn, eid, mode="ids")
        with pytest.raises(InvalidInputError, match="only accepted by replay mode 'ids'"):
            await select_for_replay(conn, eid, mode="failed", message_ids=[tree.ids["a"]])
        with pytest.raises(InvalidInputError, match="unknown replay mode 'some'"):
            await select_for_replay(conn, eid, mode="some")  # type: ignore[arg-type]
