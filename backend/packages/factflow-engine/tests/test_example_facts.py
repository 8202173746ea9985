"""The demo config in examples/pipelines: it validates, and it really runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from factflow_engine import FileAccess, Registry, RouteDirectory, load_definition, resolve
from factflow_protocols import Message

H = Any  # the Harness fixture (tests/conftest.py)

FACTS_YAML = Path(__file__).resolve().parents[4] / "examples" / "pipelines" / "facts.yaml"


@pytest.fixture
def builtins(tmp_path: Path) -> Registry:
    # the docs under tmp_path, and the working directory (the example's default source_dir)
    return Registry.from_entry_points(file_access=FileAccess.under([tmp_path, Path.cwd()]))


def test_the_example_loads_and_resolves_with_the_builtin_registry(builtins: Registry) -> None:
    definition = load_definition(
        FACTS_YAML.read_text(), filename=FACTS_YAML.name, registry=builtins
    )
    assert definition.topological_order() == ["discover", "sentences", "facts", "store"]
    pipeline = resolve(definition, None, registry=builtins)
    assert pipeline.params["source_dir"] == "."
    store = pipeline.definition["routes"]["store"]
    assert store["max_retries"] == 1
    assert store["processors"][0]["with"]["rate"] == 0.3
    assert store["processors"][1]["with"]["key"] == "facts/{origin_id}/{message_id}.json"
    assert RouteDirectory().resolve(pipeline)["store"] == "factflow.facts.store"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    (tmp_path / "guide.md").write_text(
        "# Guide\n\nFactFlow 1.2.3 was released on 2024-05-01 under the MIT License.\n"
        "It has no facts in this sentence at all. Contact us at team@example.org please.\n"
        "FactFlow 1.2.3 was released on 2024-05-01 under the MIT License.\n"
    )
    pkg = tmp_path / "demo_pkg-0.4.0.dist-info"
    pkg.mkdir()
    (pkg / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: demo-pkg\nVersion: 0.4.0\nLicense: Apache-2.0\n"
        "Home-page: https://example.org/demo\n\nA short description without any facts here.\n"
    )
    (tmp_path / "notes.txt").write_text("Not matched by the pattern: 42 facts.")
    return tmp_path


async def test_the_example_runs_end_to_end_and_replays_its_failures(
    harness: H, builtins: Registry, docs: Path
) -> None:
    harness.registry = builtins
    definition = load_definition(FACTS_YAML.read_text(), registry=builtins)
    params = {"source_dir": str(docs), "fail_rate": "0", "min_sentence_length": "10"}
    run = await harness.run(resolve(definition, params, registry=builtins))
    assert run.outcome.status == "completed"
    routes = run.outcome.progress.routes
    assert routes["discover"].processed == 2  # guide.md and METADATA, not notes.txt
    facts = sorted(json.loads(data)["fact"] for data in run.storage.objects.values())
    assert facts == [
        "Contact us at team@example.org please.",
        "FactFlow 1.2.3 was released on 2024-05-01 under the MIT License.",
        "Home-page: https://example.org/demo",
        "License: Apache-2.0",
        "Metadata-Version: 2.1",
        "Version: 0.4.0",
    ]
    assert routes["facts"].received == routes["sentences"].emitted
    assert routes["store"].received == len(facts)  # the repeated sentence was deduped

    # the flaky sink on: some messages fail for good, a replay fixes most of them
    flaky = resolve(definition, {"source_dir": str(docs), "fail_rate": 0.9}, registry=builtins)
    first = await harness.run(flaky, execution_id="flaky-1")
    failed = first.lineage.by_status("failed")
    assert first.outcome.status == "completed" and failed
    assert all(e.route == "store" and e.attempt == 2 for e in failed)
    replay = [
        Message(
            e.message_id, "flaky-1", e.route, e.payload, e.origin_message_id, e.parent_message_id
        )
        for e in failed
    ]
    calm = resolve(definition, {"source_dir": str(docs), "fail_rate": 0}, registry=builtins)
    again = await harness.run(calm, execution_id="flaky-2", initial_messages=replay)
    assert again.statuses() == {"processed": len(replay)}
    assert {e.origin_message_id for e in again.lineage.entries} == {m.origin_id for m in replay}
