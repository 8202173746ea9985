"""A large run loses nothing: one lineage entry per route-step.

Speed is measured by the benchmarks under ``bench/`` (never asserted here:
these machines are shared and noisy).
"""

from __future__ import annotations

from typing import Any

H = Any  # the Harness fixture (tests/conftest.py)


async def test_forty_thousand_route_steps_are_each_recorded_once(harness: H) -> None:
    items = list(range(10_000))
    config = {
        "name": "bench",
        "routes": {
            "src": harness.inline(items, to="a"),
            "a": {"processors": [{"type": "double"}], "to": "b"},
            "b": {"processors": [{"type": "odd"}]},
        },
    }
    run = await harness.run(harness.pipeline(config), execution_id="bulk")
    entries = run.lineage.entries
    assert len(entries) == 10_000 + 10_000 + 20_000
    assert len({(e.route, e.message_id) for e in entries}) == len(entries)
    assert run.outcome.status == "completed"
