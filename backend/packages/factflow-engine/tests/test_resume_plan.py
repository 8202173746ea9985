"""Deterministic message ids and finishing a run from a ``ResumePlan``.

The crash is simulated the honest way: a complete run's lineage minus an
arbitrary (seeded) subset of its entries is what a crashed run left behind -
lost batches, queued messages that were never recorded.  A resume planned
from what is left must record exactly the missing entries, each once.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from factflow_engine.runtime.continuation import (
    ResumePlan,
    child_message_id,
    root_message_id,
)
from factflow_protocols import LineageEntry, Message

H = Any  # the Harness fixture (tests/conftest.py)


def pipeline(harness: H, items: int = 6) -> dict[str, Any]:
    """src (x2 fan-out) -> wide (odd filter) -> tail; and src -> side."""
    return {
        "name": "t",
        "routes": {
            "src": {**harness.inline(list(range(items)), to=["wide", "side"]),
                    "processors": [{"type": "double"}]},
            "wide": {"processors": [{"type": "double"}], "to": "tail"},
            "tail": {"processors": [{"type": "odd"}]},
            "side": {},
        },
    }  # fmt: skip


DOWNSTREAM = {"src": ["wide", "side"], "wide": ["tail"], "tail": [], "side": []}


def plan_from(entries: list[LineageEntry], namespace: str) -> ResumePlan:
    """What the execution tier computes from a parent's lineage (same rules)."""
    known = {e.message_id for e in entries}
    regenerate = []
    for e in entries:
        if e.status != "processed":
            continue
        expected = [
            child_message_id(e.message_id, i, target)
            for i in range(e.outputs)
            for target in DOWNSTREAM[e.route]
        ]
        if any(child not in known for child in expected):
            regenerate.append(
                Message(e.message_id, "old", e.route, e.payload, e.origin_message_id,
                        e.parent_message_id)
            )  # fmt: skip
    return ResumePlan(namespace=namespace, regenerate=regenerate, known=known.__contains__)


async def test_message_ids_are_derived_from_namespace_position_parent_and_target(
    harness: H,
) -> None:
    first = await harness.run(
        pipeline(harness, 3), execution_id="0190a000-0000-7000-8000-000000000001"
    )
    again = await harness.run(
        pipeline(harness, 3), execution_id="0190a000-0000-7000-8000-000000000001"
    )
    ids = {(e.route, e.message_id, e.parent_message_id) for e in first.lineage.entries}
    assert ids == {(e.route, e.message_id, e.parent_message_id) for e in again.lineage.entries}
    roots = sorted((e for e in first.lineage.entries if e.route == "src"), key=lambda e: e.payload)
    assert [e.message_id for e in roots] == [
        root_message_id("0190a000-0000-7000-8000-000000000001", "src", i) for i in range(3)
    ]
    by_id = {e.message_id: e for e in first.lineage.entries}
    for entry in first.lineage.entries:
        if entry.parent_message_id is None:
            continue
        parent = by_id[entry.parent_message_id]
        candidates = {
            child_message_id(parent.message_id, i, entry.route) for i in range(parent.outputs)
        }
        assert entry.message_id in candidates
        assert entry.origin_message_id == parent.origin_message_id


@pytest.mark.parametrize("seed", range(12))
async def test_a_resume_records_exactly_what_a_crash_lost(harness: H, seed: int) -> None:
    namespace = "0190a000-0000-7000-8000-0000000000aa"
    full = await harness.run(pipeline(harness), execution_id=namespace)
    assert full.outcome is not None and full.outcome.status == "completed"
    rng = random.Random(seed)
    kept = [e for e in full.lineage.entries if rng.random() < 0.5]
    resumed = await harness.run(
        pipeline(harness), execution_id="resume-1", resume=plan_from(kept, namespace)
    )
    assert resumed.outcome is not None and resumed.outcome.status == "completed"
    keys = [(e.route, e.message_id, e.status) for e in kept + resumed.lineage.entries]
    assert len(keys) == len(set(keys)), "a message was recorded twice at a route"
    assert set(keys) == {(e.route, e.message_id, e.status) for e in full.lineage.entries}
    regenerated = sum(p.regenerated for p in resumed.outcome.progress.routes.values())
    assert regenerated == len(plan_from(kept, namespace).regenerate)
    for name, progress in resumed.outcome.progress.routes.items():
        assert progress.in_flight == 0, name


async def test_a_regenerated_message_that_fails_is_recorded_failed(harness: H) -> None:
    config = {
        "name": "t",
        "routes": {"src": {**harness.inline([1], to="b"), "processors": [{"type": "fail"}]},
                   "b": {}},
    }  # fmt: skip
    plan = ResumePlan(
        namespace="n", run_adapters=False, regenerate=[Message("m", "old", "src", 1, "m")]
    )
    run = await harness.run(config, execution_id="r", resume=plan)
    assert run.outcome is not None and run.outcome.status == "completed"
    [entry] = run.lineage.entries
    assert (entry.message_id, entry.status) == ("m", "failed")
    assert entry.error is not None and entry.error.startswith("could not regenerate its outputs")


async def test_a_resume_without_adapters_processes_its_unfinished_messages(harness: H) -> None:
    plan = ResumePlan(
        namespace="n",
        run_adapters=False,
        messages=[Message("m1", "old", "wide", 4, "o1", "p1")],
    )
    run = await harness.run(pipeline(harness), execution_id="r", resume=plan)
    assert run.outcome is not None and run.outcome.status == "completed"
    routes = sorted((e.route, e.payload) for e in run.lineage.entries)
    assert routes == [("tail", 40), ("tail", 41), ("wide", 4)]
    assert {e.origin_message_id for e in run.lineage.entries} == {"o1"}
