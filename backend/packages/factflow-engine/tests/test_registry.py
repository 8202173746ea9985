"""The component registry: entry points, registration rules, construction."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import factflow_engine.registry as registry_module
import pytest
from factflow_engine import ComponentOptions, ConfigValidationError, Registry, load_definition
from factflow_engine.builtins.text import Chunk
from factflow_protocols import Message, ProcessorContext
from pydantic import BaseModel

BUILTIN_PROCESSORS = {
    "chunk",
    "dedupe",
    "extract_facts",
    "fail",
    "filter",
    "read_text",
    "sleep",
    "split_sentences",
    "storage_write",
}


def test_builtins_come_from_entry_points() -> None:
    registry = Registry.from_entry_points()
    assert set(registry.processors) == BUILTIN_PROCESSORS
    assert set(registry.adapters) == {"files", "inline", "jsonl"}
    assert registry.processors["chunk"] is Chunk
    assert registry.allow_import_paths is False
    with pytest.raises(TypeError):
        registry.processors["x"] = Chunk  # type: ignore[index]


def test_a_broken_plugin_is_reported_when_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_entry_points(group: str) -> list[EntryPoint]:
        if group == "factflow.processors":
            return [
                EntryPoint("broken", "no_such_module_xyz:Thing", group),
                EntryPoint("chunk", "factflow_engine.builtins.text:Chunk", group),
            ]
        return [EntryPoint("inline", "factflow_engine.builtins.sources:InlineAdapter", group)]

    monkeypatch.setattr(registry_module, "entry_points", fake_entry_points)
    registry = Registry.from_entry_points()
    assert set(registry.processors) == {"chunk"}
    config = {
        "name": "x",
        "routes": {
            "a": {
                "adapter": {"type": "inline", "with": {"items": []}},
                "processors": [{"type": "broken"}],
            }
        },
    }
    with pytest.raises(ConfigValidationError) as info:
        load_definition(config, registry=registry)
    assert info.value.issues[0].message.startswith(
        "processor 'broken' is installed but failed to load: ModuleNotFoundError"
    )


class Good:
    class Options(ComponentOptions):
        factor: int = 2

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        return message.payload * self.options.factor


class Lax:
    class Options(BaseModel):
        factor: int = 2

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        return message.payload


class Sync:
    class Options(ComponentOptions):
        pass

    def __init__(self, options: Options) -> None:
        self.options = options

    def process(self, message: Message, ctx: ProcessorContext) -> Any:
        return message.payload


class NoOptions:
    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        return message.payload


@pytest.mark.parametrize(
    ("cls", "problem"),
    [
        (Lax, "its Options model must forbid unknown keys"),
        (Sync, "processors need an 'async def process(self, message, ctx)' method"),
        (NoOptions, "it needs a nested Pydantic model named 'Options'"),
        (len, "expected a class"),
    ],
)
def test_registration_enforces_the_component_convention(cls: Any, problem: str) -> None:
    with pytest.raises(TypeError) as info:
        Registry().register_processor("x", cls)
    assert str(info.value).startswith(f"cannot register processor 'x': {problem}")


def test_adapters_need_produce() -> None:
    with pytest.raises(TypeError, match="adapters need a 'produce"):
        Registry().register_adapter("x", Good)


def test_names_are_checked() -> None:
    with pytest.raises(TypeError, match="name 'a:b' is not allowed"):
        Registry().register_processor("a:b", Good)


def test_create_processor_validates_options() -> None:
    registry = Registry()
    registry.register_processor("good", Good)
    processor = registry.create_processor("good", {"factor": 3})
    assert isinstance(processor, Good)
    assert processor.options.factor == 3
    with pytest.raises(ConfigValidationError) as info:
        registry.create_processor("good", {"factor": "x", "other": 1})
    assert [(i.path, i.message) for i in info.value.issues] == [
        ("with.factor", "should be a valid integer, unable to parse string as an integer, got 'x'"),
        ("with.other", "unknown key 'other' (allowed keys: factor)"),
    ]
    with pytest.raises(ConfigValidationError, match="unknown processor 'god'; did you mean 'good'"):
        registry.create_processor("god")


def test_import_paths_when_allowed() -> None:
    registry = Registry(allow_import_paths=True)
    cls = registry.lookup("processor", "factflow_engine.builtins.text:Chunk")
    assert cls is Chunk
    processor = registry.create_processor("factflow_engine.builtins.text:Chunk", {"size": 5})
    assert isinstance(processor, Chunk)
