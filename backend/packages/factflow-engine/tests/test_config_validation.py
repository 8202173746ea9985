"""Static validation of pipeline configs: one test per rule, exact paths and messages."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest
from factflow_engine import ConfigValidationError, Registry, ValidationIssue, load_definition
from factflow_foundation import InvalidInputError


def issues_of(
    source: Any, registry: Registry, filename: str | None = "facts.yaml"
) -> list[ValidationIssue]:
    if isinstance(source, str):
        source = textwrap.dedent(source)
    with pytest.raises(ConfigValidationError) as info:
        load_definition(source, filename=filename, registry=registry)
    return info.value.issues


def only(issues: list[ValidationIssue]) -> ValidationIssue:
    assert len(issues) == 1, issues
    return issues[0]


VALID = """\
name: facts
description: demo
params:
  source_dir: {type: path, default: "."}
  min_len: {type: integer, default: 20}
settings:
  timeout: 60
  on_message_error: fail
routes:
  discover:
    adapter: {type: files, with: {root: "{source_dir}", pattern: "**/*.md"}}
    processors: [{type: read_text}]
    to: split
  split:
    processors:
      - {type: split_sentences, with: {min_length: "{min_len}"}}
    to: [store]
  store:
    max_retries: 1
    processors:
      - {type: storage_write, with: {key: "facts/{{message_id}}.json"}}
"""


def test_a_valid_config_loads_with_defaults_filled_in(registry: Registry) -> None:
    definition = load_definition(VALID, filename="facts.yaml", registry=registry)
    assert definition.name == "facts"
    assert definition.routes["discover"].to == ["split"]  # a single string becomes a list
    assert definition.routes["split"].concurrency == 4
    assert definition.routes["store"].max_retries == 1
    assert definition.settings.max_retries == 2
    assert definition.settings.on_message_error == "fail"
    assert definition.params["min_len"].default == 20
    assert definition.source_routes() == ["discover"]
    assert definition.topological_order() == ["discover", "split", "store"]
    assert definition.filename == "facts.yaml"
    # placeholders stay until resolve()
    assert definition.routes["discover"].adapter is not None
    assert definition.routes["discover"].adapter.with_["root"] == "{source_dir}"


def test_error_is_an_invalid_input_error_listing_every_issue(registry: Registry) -> None:
    text = VALID.replace("type: read_text", "type: read_txt").replace("to: [store]", "to: [stor]")
    with pytest.raises(ConfigValidationError) as info:
        load_definition(text, filename="facts.yaml", registry=registry)
    err = info.value
    assert isinstance(err, InvalidInputError)
    assert [i.path for i in err.issues] == [
        "routes.discover.processors[0].type",
        "routes.split.to[0]",
    ]
    assert str(err).splitlines() == [
        "pipeline config 'facts.yaml' is invalid (2 issues):",
        "  facts.yaml:12: routes.discover.processors[0].type: unknown processor 'read_txt'; did"
        " you mean 'read_text'? (known: chunk, dedupe, double, extract_facts, fail, filter,"
        " odd, read_text, sleep, split_sentences, storage_write)",
        "  facts.yaml:17: routes.split.to[0]: unknown route 'stor'; did you mean 'store'?"
        " (routes: discover, split, store)",
    ]
    assert err.extra["issues"][0] == {
        "path": "routes.discover.processors[0].type",
        "message": err.issues[0].message,
        "line": 12,
    }


def test_yaml_syntax_error_names_the_line(registry: Registry) -> None:
    issue = only(issues_of("name: facts\nroutes:\n  a: [unclosed\n  b: 1\n", registry))
    assert issue.path == "(top level)"
    assert issue.line == 4
    assert issue.message.startswith("YAML syntax error: ")


def test_json_syntax_error_names_the_line(registry: Registry) -> None:
    issue = only(issues_of('{\n  "name": "facts",\n  "routes": {,}\n}', registry, "f.json"))
    assert issue.line == 3
    assert issue.message.startswith("JSON syntax error: Expecting property name")


def test_json_config_gets_line_numbers(registry: Registry) -> None:
    config = {
        "name": "facts",
        "routes": {"a": {"adapter": {"type": "inline", "with": {"items": []}}, "bogus": 1}},
    }
    issue = only(issues_of(json.dumps(config, indent=2), registry, "f.json"))
    assert issue.path == "routes.a.bogus"
    assert issue.line == 11


def test_empty_and_non_mapping_documents(registry: Registry) -> None:
    assert only(issues_of("", registry)).message == (
        "the config is empty; it needs at least 'name' and 'routes'"
    )
    assert only(issues_of("- a\n- b\n", registry)).message == (
        "the config must be a mapping with 'name' and 'routes' keys, got a list [\"a\", \"b\"]"
    )


def test_unknown_key_names_the_key_and_the_allowed_keys(registry: Registry) -> None:
    text = VALID.replace("    max_retries: 1\n", "    max_retry: 1\n")
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.store.max_retry"
    assert issue.line == 19
    assert issue.message == (
        "unknown key 'max_retry'; did you mean 'max_retries'? (allowed keys: adapter,"
        " concurrency, description, max_retries, processors, queue_depth, to)"
    )


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("bogus", "description, name, params, routes, settings"),
        (
            "settings.bogus",
            "max_retries, on_message_error, queue_depth, retry_backoff, retry_backoff_max, timeout",
        ),
        ("params.p.bogus", "default, description, type"),
        ("routes.a.adapter.bogus", "type, with"),
        ("routes.a.processors[0].bogus", "type, with"),
    ],
)
def test_unknown_keys_are_rejected_at_every_level(
    registry: Registry, path: str, allowed: str
) -> None:
    config: dict[str, Any] = {
        "name": "x",
        "params": {"p": {"type": "string", "default": "v"}},
        "settings": {},
        "routes": {"a": {"adapter": {"type": "inline", "with": {"items": []}},
                         "processors": [{"type": "odd"}]}},
    }  # fmt: skip
    target: Any = config
    parts = path.replace("[0]", ".0").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    target[parts[-1]] = 1
    issue = only(issues_of(config, registry, None))
    assert issue.path == path
    assert issue.line is None
    assert issue.message.endswith(f"(allowed keys: {allowed})")


def test_unknown_component_option_is_an_unknown_key(registry: Registry) -> None:
    text = VALID.replace('pattern: "**/*.md"', 'pattern: "**/*.md", max_file: 3')
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.discover.adapter.with.max_file"
    assert issue.line == 11
    assert issue.message == (
        "unknown key 'max_file'; did you mean 'max_files'? (allowed keys: exclude,"
        " include_hidden, max_files, pattern, root)"
    )


def test_duplicate_yaml_keys_are_reported(registry: Registry) -> None:
    text = "name: a\nname: b\nroutes:\n  r: {adapter: {type: inline, with: {items: []}}}\n"
    issue = only(issues_of(text, registry))
    assert (issue.path, issue.line) == ("name", 2)
    assert issue.message == (
        "duplicate key 'name' (first written on line 1); only one value may be given,"
        " remove one of them"
    )


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        (("settings", "timeout", -1), "settings.timeout", "should be greater than 0, got -1"),
        (
            ("settings", "on_message_error", "abort"),
            "settings.on_message_error",
            "should be 'continue' or 'fail', got 'abort'",
        ),
        (
            ("route", "concurrency", 0),
            "routes.a.concurrency",
            "should be greater than or equal to 1, got 0",
        ),
        (
            ("route", "concurrency", "many"),
            "routes.a.concurrency",
            "should be a valid integer, unable to parse string as an integer, got 'many'",
        ),
        (("route", "to", 5), "routes.a.to", "should be a valid list, got 5"),
        (
            ("route", "processors", {"type": "odd"}),
            "routes.a.processors",
            'should be a valid list, got a mapping {"type": "odd"}',
        ),
        (("route", "adapter", "inline"), "routes.a.adapter",
         "should be a mapping (key: value), got 'inline'"),
        (("top", "name", "Facts!"), "name", "pipeline name 'Facts!' is not allowed; use 1-200"
         " lower-case letters, digits, '_', '.' or '-', starting with a letter or digit"
         " (e.g. 'facts')"),
        (("top", "routes", {}), "routes", "must not be empty"),
        (("params", "type", "int"), "params.p.type",
         "should be 'string', 'integer', 'number', 'boolean', 'path', 'list' or 'object',"
         " got 'int'"),
    ],
)  # fmt: skip
def test_wrong_types_and_values_in_plain_english(
    registry: Registry, change: tuple[str, str, Any], path: str, message: str
) -> None:
    config: dict[str, Any] = {
        "name": "x",
        "params": {"p": {"type": "string", "default": "v"}},
        "routes": {"a": {"adapter": {"type": "inline", "with": {"items": []}}}},
    }
    where, key, value = change
    target = {
        "settings": config.setdefault("settings", {}),
        "route": config["routes"]["a"],
        "top": config,
        "params": config["params"]["p"],
    }[where]
    target[key] = value
    issue = only(issues_of(config, registry, None))
    assert (issue.path, issue.message) == (path, message)


def test_missing_required_keys(registry: Registry) -> None:
    issues = issues_of("description: nothing\n", registry)
    assert [(i.path, i.message) for i in issues] == [
        ("name", "required key 'name' is missing"),
        ("routes", "required key 'routes' is missing"),
    ]


def test_unknown_processor_suggests_the_closest_names(registry: Registry) -> None:
    text = VALID.replace("type: split_sentences", "type: split_sentence")
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.split.processors[0].type"
    assert issue.line == 16
    assert issue.message.startswith(
        "unknown processor 'split_sentence'; did you mean 'split_sentences'? (known: chunk,"
    )


def test_unknown_adapter_without_a_close_match_lists_the_known_ones(registry: Registry) -> None:
    text = VALID.replace("type: files", "type: kafka")
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.discover.adapter.type"
    assert issue.message == "unknown adapter 'kafka' (known: files, inline, jsonl)"


def test_import_paths_are_refused_unless_allowed(registry: Registry) -> None:
    text = VALID.replace("type: read_text", "type: 'factflow_engine.builtins.text:ReadText'")
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.discover.processors[0].type"
    assert "import paths are disabled" in issue.message
    assert "FACTFLOW_ALLOW_IMPORT_PATHS=true" in issue.message
    permissive = Registry.from_entry_points(allow_import_paths=True)
    assert load_definition(text, registry=permissive).name == "facts"
    bad = VALID.replace("type: read_text", "type: 'no_such_module:Thing'")
    message = only(issues_of(bad, permissive)).message
    assert message.startswith("cannot import 'no_such_module:Thing': ModuleNotFoundError")
    not_processor = VALID.replace("type: read_text", "type: 'json:JSONDecoder'")
    message = only(issues_of(not_processor, permissive)).message
    assert message.startswith("'json:JSONDecoder' is not usable as a processor: it needs")


def test_to_naming_an_unknown_route_suggests_the_closest(registry: Registry) -> None:
    issue = only(issues_of(VALID.replace("to: split", "to: splt"), registry))
    assert issue.path == "routes.discover.to"
    assert issue.line == 13
    assert issue.message == (
        "unknown route 'splt'; did you mean 'split'? (routes: discover, split, store)"
    )


def test_a_route_listed_twice_in_to(registry: Registry) -> None:
    issue = only(issues_of(VALID.replace("to: [store]", "to: [store, store]"), registry))
    assert (issue.path, issue.message) == (
        "routes.split.to[1]",
        "route 'store' is listed twice; list each target once",
    )


def test_a_cycle_is_named(registry: Registry) -> None:
    text = VALID + "    to: split\n"
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.split.to"
    assert issue.message == (
        "routes form a cycle: split -> store -> split; messages would circulate forever,"
        " so remove one of these 'to' entries"
    )


def test_a_route_feeding_itself_is_a_cycle(registry: Registry) -> None:
    text = VALID.replace("to: [store]", "to: [store, split]")
    assert "routes form a cycle: split -> split;" in only(issues_of(text, registry)).message


def test_a_route_nothing_feeds_is_an_error(registry: Registry) -> None:
    text = VALID + "  orphan:\n    processors: []\n"
    issue = only(issues_of(text, registry))
    assert (issue.path, issue.line) == ("routes.orphan", 22)
    assert issue.message == (
        "route 'orphan' is never fed: it has no adapter and no route lists it in 'to'; add it"
        " to another route's 'to' or give it an adapter"
    )


def test_no_source_route_at_all(registry: Registry) -> None:
    config = {"name": "x", "routes": {"a": {"to": "b"}, "b": {}}}
    issue = only(issues_of(config, registry, None))
    assert issue.path == "routes"
    assert issue.message.startswith("no source route: at least one route needs an 'adapter'")


def test_bad_route_names(registry: Registry) -> None:
    config = {
        "name": "x",
        "routes": {"Split": {"adapter": {"type": "inline", "with": {"items": []}}}},
    }
    issue = only(issues_of(config, registry, None))
    assert issue.path == "routes.Split"
    assert issue.message.startswith("route name 'Split' is not allowed")


def test_placeholder_naming_an_undeclared_param_lists_the_declared_ones(registry: Registry) -> None:
    text = VALID.replace('"{min_len}"', '"{min_length}"')
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.split.processors[0].with.min_length"
    assert issue.line == 16
    assert issue.message == (
        "placeholder '{min_length}' names an undeclared param; did you mean 'min_len'?"
        " (declared params: min_len, source_dir); declare it under 'params:', or write"
        " '{{min_length}}' for literal braces"
    )


def test_a_lone_brace_is_a_template_error(registry: Registry) -> None:
    text = VALID.replace('"facts/{{message_id}}.json"', '"facts/{message_id.json"')
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.store.processors[0].with.key"
    assert issue.message.startswith("'{message_id.json' is not a param placeholder")


def test_param_default_must_match_its_type(registry: Registry) -> None:
    text = VALID.replace("default: 20", "default: twenty")
    issue = only(issues_of(text, registry))
    assert (issue.path, issue.line) == ("params.min_len.default", 5)
    assert issue.message == (
        "default does not match type integer: expected an integer (e.g. 5), got 'twenty'"
    )
    text = VALID.replace("default: 20", "default: null")
    issue = only(issues_of(text, registry))
    assert issue.message == (
        "default null is not an integer (e.g. 5); leave 'default' out to make the param required"
    )


def test_option_values_without_placeholders_are_checked_at_load(registry: Registry) -> None:
    text = VALID.replace("type: read_text}", "type: read_text, with: {max_bytes: 0}}")
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.discover.processors[0].with.max_bytes"
    assert issue.message == "should be greater than or equal to 1, got 0"


def test_options_holding_placeholders_wait_for_resolve(registry: Registry) -> None:
    # min_length is "{min_len}" (a string) - not an int yet, and that is fine at load time
    definition = load_definition(VALID, registry=registry)
    split = definition.routes["split"].processors[0]
    assert split.with_ == {"min_length": "{min_len}"}


def test_model_level_option_errors_are_reported(registry: Registry) -> None:
    text = VALID.replace("type: read_text}", "type: chunk, with: {size: 10, overlap: 10}}")
    issue = only(issues_of(text, registry))
    assert issue.path == "routes.discover.processors[0].with"
    assert issue.message == "overlap (10) must be smaller than size (10)"


def test_all_issues_are_reported_together(registry: Registry) -> None:
    text = textwrap.dedent(
        """\
        name: facts
        params:
          limit: {type: integer, default: abc}
        settings:
          on_message_error: abort
        routes:
          discover:
            adapter: {type: files, with: {root: ".", max_file: 3}}
            to: [split, splitt]
          split:
            processors: [{type: split_sentence, with: {min_length: "{minlen}"}}]
            to: facts
            concurency: 3
          facts:
            to: split
          orphan: {}
        """
    )
    issues = issues_of(text, registry)
    assert [(i.line, i.path) for i in issues] == [
        (3, "params.limit.default"),
        (5, "settings.on_message_error"),
        (8, "routes.discover.adapter.with.max_file"),
        (9, "routes.discover.to[1]"),
        (11, "routes.split.processors[0].type"),
        (11, "routes.split.processors[0].with.min_length"),
        (12, "routes.split.to"),
        (13, "routes.split.concurency"),
        (16, "routes.orphan"),
    ]


def test_a_lone_surrogate_is_reported_at_its_field() -> None:
    text = '{"name": "x", "routes": {"src": {"adapter": {"type": "inline", '
    text += '"with": {"items": ["ok", "bad \\ud800"]}}}}}'
    with pytest.raises(ConfigValidationError) as info:
        load_definition(text, filename="c.json")
    paths = [issue.path for issue in info.value.issues]
    assert "routes.src.adapter.with.items[1]" in paths
    assert "unpaired surrogate" in str(info.value)
