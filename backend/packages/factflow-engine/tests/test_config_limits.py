"""Hostile config text: bounded before it is expanded, deep nesting an issue (never a
RecursionError), the YAML 1.2 core schema, libyaml, and a gate off the event loop."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
import yaml
from factflow_engine import (
    ConfigCheckBusyError,
    ConfigGate,
    ConfigLimits,
    ConfigValidationError,
    Registry,
    load_definition,
)
from factflow_engine.config.source import parse_source
from factflow_engine.config.yaml12 import ConfigLoader


def alias_bomb(levels: int, width: int = 9) -> str:
    """The "billion laughs": each level is ``width`` aliases of the one before."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def nested_yaml(depth: int) -> str:
    return "name: deep\nroutes: " + "[" * depth + "]" * depth + "\n"


def nested_json(depth: int) -> str:
    return '{"name": "deep", "routes": ' + "[" * depth + "]" * depth + "}"


def only_issue(exc: pytest.ExceptionInfo[ConfigValidationError]) -> str:
    assert len(exc.value.issues) == 1, exc.value.issues
    return exc.value.issues[0].message


def test_an_alias_bomb_is_refused_before_it_is_expanded_naming_the_limit() -> None:
    with pytest.raises(ConfigValidationError) as exc:
        load_definition(alias_bomb(9), registry=Registry())  # 9**10 values expanded
    message = only_issue(exc)
    assert "500000 values" in message and "FACTFLOW_CONFIG_MAX_NODES" in message
    assert exc.value.issues[0].line is not None


def test_the_line_map_records_each_node_once_and_never_walks_an_alias_again() -> None:
    # 9**7 = 4.8 million values once expanded, allowed by generous limits: the
    # line map still holds one entry per written key or item, not per expansion.
    text = alias_bomb(6)
    parsed = parse_source(text, None, ConfigLimits(max_nodes=10**8, max_aliases=10**6))
    assert parsed.issues == []
    assert len(parsed.lines) <= 1 + 7 * 10
    assert parsed.lines[("a6",)] == 7
    assert parsed.lines[("a6", 8)] == 6  # an alias item points at the anchor it repeats


def test_alias_uses_are_counted_and_a_recursive_alias_is_refused() -> None:
    many = "base: &b 1\nuses: [" + ", ".join(["*b"] * 11) + "]\n"
    with pytest.raises(ConfigValidationError) as exc:
        load_definition(many, registry=Registry(), limits=ConfigLimits(max_aliases=10))
    assert "more than 10 YAML aliases" in only_issue(exc)
    with pytest.raises(ConfigValidationError) as exc:
        load_definition("a: &x [*x]\n", registry=Registry())
    assert "inside its own anchor &x" in only_issue(exc)


@pytest.mark.parametrize("depth", [65, 480, 5000])
def test_deep_yaml_is_one_issue_naming_the_depth_never_a_recursion_error(depth: int) -> None:
    with pytest.raises(ConfigValidationError) as exc:
        load_definition(nested_yaml(depth), registry=Registry())
    message = only_issue(exc)
    if depth < 1000:  # libyaml itself stops at 1000 levels, with its own message
        assert "more than 64 levels deep, past the limit (FACTFLOW_CONFIG_MAX_DEPTH)" in message
        assert exc.value.issues[0].line == 2
    else:
        assert "exceeded maximum nesting depth" in message


@pytest.mark.parametrize("depth", [65, 480, 50_000])
def test_deep_json_is_one_issue_naming_the_limit_never_a_recursion_error(depth: int) -> None:
    with pytest.raises(ConfigValidationError) as exc:
        load_definition(nested_json(depth), filename="c.json", registry=Registry())
    assert "more than 64 levels deep, past the limit (FACTFLOW_CONFIG_MAX_DEPTH)" in only_issue(exc)


def test_a_deep_mapping_is_refused_too() -> None:
    value: list[object] = []
    for _ in range(3000):
        value = [value]
    with pytest.raises(ConfigValidationError) as exc:
        load_definition({"name": "deep", "routes": value}, registry=Registry())
    assert "more than 64 levels deep" in only_issue(exc)


def test_yaml_is_read_with_the_yaml_1_2_core_schema() -> None:
    text = (
        "a: yes\nb: no\nc: on\nd: off\ne: y\nf: 012\ng: 0o12\nh: 0x1f\ni: 2024-01-01\n"
        "j: 1_000\nk: 1:30\nl: true\nm: False\nn: ~\no: null\np: 1.5e3\nq: -7\n"
    )
    data = parse_source(text, None).data
    assert data == {
        "a": "yes",
        "b": "no",
        "c": "on",
        "d": "off",
        "e": "y",
        "f": 12,
        "g": 10,
        "h": 31,
        "i": "2024-01-01",
        "j": "1_000",
        "k": "1:30",
        "l": True,
        "m": False,
        "n": None,
        "o": None,
        "p": 1500.0,
        "q": -7,
    }
    merged = parse_source("d: &d {x: 1}\ne:\n  <<: *d\n  y: 2\n", None).data
    assert merged["e"] == {"x": 1, "y": 2}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a: .inf\n", "not a finite number"),
        ("a: !!binary aGk=\n", "could not determine a constructor"),
        ("a: !!python/object:os.system x\n", "could not determine a constructor"),
        ("a: !!set {x}\n", "could not determine a constructor"),
        ("a: " + "9" * 5000 + "\n", "cannot read the integer"),
    ],
)
def test_values_json_cannot_hold_are_syntax_issues(text: str, says: str) -> None:
    parsed = parse_source(text, None)
    assert parsed.data is None and says in parsed.issues[0].message


def test_json_refuses_nan_and_unconvertible_numbers() -> None:
    assert "no infinity or NaN" in parse_source('{"a": NaN}', "c.json").issues[0].message
    huge = json.dumps({"a": 1}).replace("1", "9" * 5000)
    assert "JSON error" in parse_source(huge, "c.json").issues[0].message


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
def test_libyaml_parses_configs() -> None:
    assert issubclass(ConfigLoader, yaml.CSafeLoader)


async def test_the_gate_checks_off_the_event_loop_and_the_loop_keeps_running() -> None:
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait()

    gate = ConfigGate(Registry(), checkpoint=hold)
    check = asyncio.create_task(gate.load(alias_bomb(9)))
    await asyncio.to_thread(started.wait)
    # the check is in progress in its thread; the loop still runs other work
    ticks = [await asyncio.sleep(0, result=n) for n in range(3)]
    assert ticks == [0, 1, 2] and not check.done()
    release.set()
    with pytest.raises(ConfigValidationError) as exc:
        await check
    assert "FACTFLOW_CONFIG_MAX_NODES" in only_issue(exc)


async def test_a_check_past_the_budget_is_an_issue_and_keeps_its_slot_until_it_ends() -> None:
    release = threading.Event()
    gate = ConfigGate(Registry(), timeout=0.05, concurrency=1, checkpoint=release.wait)
    with pytest.raises(ConfigValidationError) as exc:
        await gate.load("name: x\n")
    assert "took longer than 0.05s" in only_issue(exc)
    # the overrun check still holds the only slot: the next caller is told it is busy
    with pytest.raises(ConfigCheckBusyError):
        await gate.load("name: x\n")
    release.set()


def test_json_and_mappings_are_held_to_the_value_count_too() -> None:
    limits = ConfigLimits(max_nodes=1000)
    many = {
        "name": "n",
        "routes": {"r": {"adapter": {"type": "inline", "with": {"items": list(range(2000))}}}},
    }
    for text, filename in ((json.dumps(many), "c.json"), (many, None)):
        with pytest.raises(ConfigValidationError) as exc:
            load_definition(text, filename=filename, registry=Registry(), limits=limits)
        assert "more than 1000 values" in only_issue(exc)
