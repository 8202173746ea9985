"""Param resolution, placeholder substitution, option validation and snapshots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from factflow_engine import (
    ConfigValidationError,
    PipelineDefinition,
    Registry,
    ResolvedPipeline,
    RouteDirectory,
    load_definition,
    resolve,
)
from factflow_foundation import InvalidInputError

CONFIG = """\
name: facts
params:
  source_dir: {type: path, default: "."}
  limit: {type: integer}
  ratio: {type: number, default: 0.5}
  strict: {type: boolean, default: false}
  tags: {type: list, default: [a, b]}
  extra: {type: object, default: {k: 1}}
  label: {type: string, default: run}
routes:
  discover:
    adapter:
      type: files
      with: {root: "{source_dir}", pattern: "**/*.md", max_files: "{limit}"}
    to: store
  store:
    processors:
      - type: filter
        with: {field: tags, equals: "{tags}", negate: "{strict}"}
      - type: fail
        with: {rate: "{ratio}", when: "{extra}", error: "{label} failed at {ratio}"}
      - type: storage_write
        with: {key: "{label}/{{message_id}}.json"}
"""


@pytest.fixture
def definition(registry: Registry) -> PipelineDefinition:
    return load_definition(CONFIG, filename="facts.yaml", registry=registry)


def test_placeholders_become_typed_values_and_text(
    definition: PipelineDefinition, registry: Registry
) -> None:
    pipeline = resolve(definition, {"limit": 7}, registry=registry)
    assert pipeline.params == {
        "source_dir": ".",
        "limit": 7,
        "ratio": 0.5,
        "strict": False,
        "tags": ["a", "b"],
        "extra": {"k": 1},
        "label": "run",
    }
    routes = pipeline.definition["routes"]
    assert routes["discover"]["adapter"]["with"] == {
        "root": ".",
        "pattern": "**/*.md",
        "max_files": 7,
    }
    store = routes["store"]["processors"]
    assert store[0]["with"] == {"field": "tags", "equals": ["a", "b"], "negate": False}
    assert store[1]["with"] == {"rate": 0.5, "when": {"k": 1}, "error": "run failed at 0.5"}
    # escaped braces become literal ones - the storage_write key template
    assert store[2]["with"] == {"key": "run/{message_id}.json"}
    assert pipeline.name == "facts"
    assert pipeline.config.routes["discover"].to == ["store"]


def test_the_resolved_definition_is_plain_json_with_defaults(
    definition: PipelineDefinition, registry: Registry
) -> None:
    pipeline = resolve(definition, {"limit": 1}, registry=registry)
    text = json.dumps(pipeline.definition)
    assert json.loads(text) == pipeline.definition
    assert pipeline.definition["settings"] == {
        "timeout": 600.0,
        "on_message_error": "continue",
        "max_retries": 2,
        "retry_backoff": 0.05,
        "retry_backoff_max": 2.0,
        "queue_depth": 1000,
    }
    assert pipeline.definition["params"]["limit"] == {"type": "integer", "description": None}


def test_snapshot_round_trip_keeps_literal_braces(
    definition: PipelineDefinition, registry: Registry
) -> None:
    pipeline = resolve(definition, {"limit": "3"}, registry=registry)
    snapshot = json.loads(
        json.dumps({"definition": pipeline.definition, "params": pipeline.params})
    )
    again = ResolvedPipeline.from_snapshot(
        snapshot["definition"], snapshot["params"], registry=registry
    )
    assert again.definition == pipeline.definition
    assert again.params == pipeline.params
    assert again.config.routes["store"].processors[2].with_["key"] == "run/{message_id}.json"


def test_snapshot_naming_an_uninstalled_component_is_rejected(
    definition: PipelineDefinition, registry: Registry
) -> None:
    pipeline = resolve(definition, {"limit": 3}, registry=registry)
    bare = Registry()
    with pytest.raises(ConfigValidationError) as info:
        ResolvedPipeline.from_snapshot(pipeline.definition, pipeline.params, registry=bare)
    assert info.value.filename == "<snapshot>"
    assert info.value.issues[0].path == "routes.discover.adapter.type"


def test_cli_text_is_coerced_to_the_declared_type(
    definition: PipelineDefinition, registry: Registry, tmp_path: Path
) -> None:
    pipeline = resolve(
        definition,
        {
            "limit": "5",
            "ratio": "0.25",
            "strict": "true",
            "tags": '["x"]',
            "extra": '{"a": 2}',
            "source_dir": str(tmp_path),
        },
        registry=registry,
    )
    assert pipeline.params["limit"] == 5
    assert pipeline.params["ratio"] == 0.25
    assert pipeline.params["strict"] is True
    assert pipeline.params["tags"] == ["x"]
    assert pipeline.params["extra"] == {"a": 2}


def issues(
    definition: PipelineDefinition, registry: Registry, params: Any
) -> list[tuple[str, str]]:
    with pytest.raises(ConfigValidationError) as info:
        resolve(definition, params, registry=registry)
    return [(i.path, i.message) for i in info.value.issues]


def test_unknown_param_suggests_the_closest(
    definition: PipelineDefinition, registry: Registry
) -> None:
    assert issues(definition, registry, {"limit": 1, "limits": 2}) == [
        (
            "params.limits",
            "unknown param 'limits'; did you mean 'limit'? (declared params: extra, label,"
            " limit, ratio, source_dir, strict, tags)",
        )
    ]


def test_missing_required_param(definition: PipelineDefinition, registry: Registry) -> None:
    with pytest.raises(ConfigValidationError) as info:
        resolve(definition, None, registry=registry)
    (issue,) = info.value.issues
    assert (issue.path, issue.line) == ("params.limit", 4)
    assert issue.message == "param 'limit' (integer) is required: give a value"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "abc"}, "param 'limit' (integer): expected an integer (e.g. 5), got 'abc'"),
        ({"limit": 1.5}, "param 'limit' (integer): expected an integer (e.g. 5), got 1.5"),
        ({"limit": True}, "param 'limit' (integer): expected an integer (e.g. 5), got true"),
        ({"limit": 1, "ratio": "half"},
         "param 'ratio' (number): expected a number (e.g. 0.5), got 'half'"),
        ({"limit": 1, "strict": "maybe"},
         "param 'strict' (boolean): expected true or false, got 'maybe'"),
        ({"limit": 1, "tags": "a,b"}, "param 'tags' (list): expected a list (in text, a JSON array"
         " such as [1, 2]), got 'a,b'"),
        ({"limit": 1, "label": 5}, "param 'label' (string): expected text, got 5"),
    ],
)  # fmt: skip
def test_mistyped_params_name_the_param_type_and_value(
    definition: PipelineDefinition, registry: Registry, params: dict[str, Any], message: str
) -> None:
    assert [m for _, m in issues(definition, registry, params)] == [message]


def test_substituted_options_are_validated_with_exact_paths(
    definition: PipelineDefinition, registry: Registry
) -> None:
    assert issues(definition, registry, {"limit": 0, "ratio": 3}) == [
        (
            "routes.discover.adapter.with.max_files",
            "should be greater than or equal to 1, got 0",
        ),
        ("routes.store.processors[1].with.rate", "should be less than or equal to 1, got 3"),
    ]
    with pytest.raises(ConfigValidationError) as info:
        resolve(definition, {"limit": 0}, registry=registry)
    assert info.value.issues[0].line == 14  # the line of the option in the config text


def test_a_route_directory_maps_every_route(
    definition: PipelineDefinition, registry: Registry
) -> None:
    pipeline = resolve(definition, {"limit": 1}, registry=registry)
    assert RouteDirectory().resolve(pipeline) == {
        "discover": "factflow.facts.discover",
        "store": "factflow.facts.store",
    }
    directory = RouteDirectory({"store": "shared.store", "facts.discover": "facts-in"}, prefix="ff")
    assert directory.resolve(definition) == {"discover": "facts-in", "store": "shared.store"}
    with pytest.raises(InvalidInputError, match="both resolve to queue 'q'"):
        RouteDirectory({"store": "q", "discover": "q"}).resolve(pipeline)
