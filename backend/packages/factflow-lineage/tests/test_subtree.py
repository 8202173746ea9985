"""``subtree`` and the ``message_id`` filter on both databases: bounded descendants
with a truncation flag that says when something was left out."""

from __future__ import annotations

from typing import Any

import pytest
from factflow_foundation import InvalidInputError, NotFoundError, new_id
from factflow_infra.db import Database
from factflow_lineage import LineageRecorder, list_records, subtree

from .test_queries import build_tree


async def test_subtree_is_the_descendants_with_their_depth(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    async with db.connect() as conn:
        whole = await subtree(conn, tree.execution_id, tree.ids["r"])
        assert tree.names([whole.root]) == ["r"] and not whole.truncated
        assert [(d, tree.names([r])[0]) for d, r in whole.items] == [
            (1, "a"),
            (1, "b"),
            (2, "a1"),
            (2, "a2"),
            (2, "a3"),
            (2, "b1"),
            (3, "a2x"),
        ]
        assert whole.items[0][1].payload == {"name": "a"}
        leaf = await subtree(conn, tree.execution_id, tree.ids["a2x"])
        assert leaf.items == [] and not leaf.truncated


async def test_subtree_cut_by_depth_says_truncated(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    async with db.connect() as conn:
        two = await subtree(conn, tree.execution_id, tree.ids["r"], max_depth=2)
        assert tree.names(r for _, r in two.items) == ["a", "b", "a1", "a2", "a3", "b1"]
        assert two.truncated  # a2x is three levels down
        three = await subtree(conn, tree.execution_id, tree.ids["r"], max_depth=3)
        assert len(three.items) == 7 and not three.truncated
        one = await subtree(conn, tree.execution_id, tree.ids["a"], max_depth=1)
        assert tree.names(r for _, r in one.items) == ["a1", "a2", "a3"] and one.truncated


async def test_subtree_cut_by_size_says_truncated(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    async with db.connect() as conn:
        exact = await subtree(conn, tree.execution_id, tree.ids["r"], limit=7)
        assert len(exact.items) == 7 and not exact.truncated
        cut = await subtree(conn, tree.execution_id, tree.ids["r"], limit=3)
        assert tree.names(r for _, r in cut.items) == ["a", "b", "a1"] and cut.truncated


async def test_subtree_of_a_wide_fan_out(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    execution_id = await make_execution()
    root = new_id()
    recorder = LineageRecorder(db, batch_size=500)
    await recorder.record(make_entry(execution_id, message_id=root, route="source"))
    for _ in range(2_000):
        await recorder.record(
            make_entry(execution_id, parent_message_id=root, origin_message_id=root, route="x")
        )
    await recorder.close()
    async with db.connect() as conn:
        cut = await subtree(conn, execution_id, root, limit=100)
        assert len(cut.items) == 100 and cut.truncated
        assert {depth for depth, _ in cut.items} == {1}
        whole = await subtree(conn, execution_id, root, limit=2_000)
        assert len(whole.items) == 2_000 and not whole.truncated


async def test_subtree_refuses_unknown_messages_and_bad_bounds(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    async with db.connect() as conn:
        with pytest.raises(NotFoundError, match="no lineage record for message 'nope'"):
            await subtree(conn, tree.execution_id, "nope")
        with pytest.raises(NotFoundError):
            await subtree(conn, new_id(), tree.ids["r"])
        with pytest.raises(InvalidInputError, match="depth"):
            await subtree(conn, tree.execution_id, tree.ids["r"], max_depth=0)
        with pytest.raises(InvalidInputError, match="limit"):
            await subtree(conn, tree.execution_id, tree.ids["r"], limit=0)


async def test_list_records_filters_by_message_id(
    db: Database, make_execution: Any, make_entry: Any
) -> None:
    tree = await build_tree(db, make_execution, make_entry)
    other = await build_tree(db, make_execution, make_entry)
    async with db.connect() as conn:
        found = await list_records(conn, tree.execution_id, message_id=tree.ids["a2"])
        assert tree.names(found) == ["a2"]
        assert found[0].execution_id == tree.execution_id
        assert await list_records(conn, tree.execution_id, message_id=other.ids["a2"]) == []
        both = await list_records(
            conn, tree.execution_id, message_id=tree.ids["b1"], status="filtered"
        )
        assert tree.names(both) == ["b1"]
        assert (
            await list_records(
                conn, tree.execution_id, message_id=tree.ids["b1"], status="processed"
            )
            == []
        )
