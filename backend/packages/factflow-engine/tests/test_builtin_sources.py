"""Built-in adapters: inline, files, jsonl."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from factflow_engine import ConfigValidationError, Registry
from factflow_engine.builtins.globbing import compile_glob
from factflow_engine.runtime.context import RunContext
from factflow_engine.testing import InMemoryExecutionStorage


async def produce(registry: Registry, name: str, options: dict[str, Any]) -> list[Any]:
    adapter = registry.create_adapter(name, options)
    ctx = RunContext("e", "r", {}, InMemoryExecutionStorage(), logging.getLogger("t"))
    return [item async for item in adapter.produce(ctx)]


async def test_inline_yields_items_in_order(registry: Registry) -> None:
    assert await produce(registry, "inline", {"items": [3, {"a": 1}, "x"]}) == [3, {"a": 1}, "x"]
    assert await produce(registry, "inline", {"items": []}) == []


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for rel, text in {
        "b.md": "bee",
        "a.md": "a",
        "docs/guide.md": "guide text",
        "docs/deep/x.md": "x",
        "docs/notes.txt": "not markdown",
        ".hidden/secret.md": "no",
        "docs/.draft.md": "no",
        "node_modules/pkg/readme.md": "no",
        "pkg-1.0.dist-info/METADATA": "Name: pkg",
    }.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


async def test_files_yields_sorted_matches_with_metadata(registry: Registry, tree: Path) -> None:
    items = await produce(registry, "files", {"root": str(tree), "pattern": "**/*.md"})
    assert [i["relative"] for i in items] == [
        "a.md",
        "b.md",
        "docs/deep/x.md",
        "docs/guide.md",
        "node_modules/pkg/readme.md",
    ]
    first = items[0]
    assert first == {
        "path": str(tree.resolve() / "a.md"),  # noqa: ASYNC240
        "name": "a.md",
        "size": 1,
        "relative": "a.md",
    }
    assert items[3]["size"] == len("guide text")


async def test_files_exclude_hidden_max_and_several_patterns(
    registry: Registry, tree: Path
) -> None:
    items = await produce(
        registry,
        "files",
        {
            "root": str(tree),
            "pattern": ["**/*.md", "*.dist-info/METADATA"],
            "exclude": ["**/node_modules/**", "docs/deep/**"],
            "max_files": 4,
        },
    )
    assert [i["relative"] for i in items] == [
        "a.md",
        "b.md",
        "docs/guide.md",
        "pkg-1.0.dist-info/METADATA",
    ]
    hidden = await produce(
        registry, "files", {"root": str(tree), "pattern": "**/*.md", "include_hidden": True}
    )
    assert ".hidden/secret.md" in [i["relative"] for i in hidden]
    assert "docs/.draft.md" in [i["relative"] for i in hidden]


async def test_files_missing_root_is_a_clear_error(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(
        FileNotFoundError, match=r"files adapter: root directory '.*nope' does not exist"
    ):
        await produce(registry, "files", {"root": str(tmp_path / "nope")})
    (tmp_path / "f").write_text("x")
    with pytest.raises(NotADirectoryError, match="is not a directory"):
        await produce(registry, "files", {"root": str(tmp_path / "f")})


def test_files_pattern_must_be_relative(registry: Registry) -> None:
    with pytest.raises(ConfigValidationError) as info:
        registry.create_adapter("files", {"root": ".", "pattern": "/etc/*"})
    assert info.value.issues[0].path == "with.pattern"
    assert "must be a relative glob such as '**/*.md'" in info.value.issues[0].message


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("**/*.md", "a.md", True),
        ("**/*.md", "x/y/a.md", True),
        ("*.md", "x/a.md", False),
        ("docs/**", "docs/a/b", True),
        ("docs/**", "docsx/a", False),
        ("a?.txt", "ab.txt", True),
        ("[ab].txt", "c.txt", False),
        ("[!ab].txt", "c.txt", True),
        ("*.dist-info/METADATA", "p-1.dist-info/METADATA", True),
    ],
)
def test_glob_semantics(pattern: str, path: str, matches: bool) -> None:
    assert (compile_glob(pattern).match(path) is not None) is matches


async def test_jsonl_yields_one_payload_per_line(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n\n[1, 2]\n"text"\n')
    assert await produce(registry, "jsonl", {"path": str(path)}) == [{"a": 1}, [1, 2], "text"]


async def test_jsonl_bad_line_names_file_and_line(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n{"b": \n')
    with pytest.raises(ValueError, match=r"in\.jsonl:2: not valid JSON \(Expecting value"):
        await produce(registry, "jsonl", {"path": str(path)})


async def test_jsonl_missing_file(registry: Registry, tmp_path: Path) -> None:
    with pytest.raises(
        FileNotFoundError, match=r"jsonl adapter: file '.*nope.jsonl' does not exist"
    ):
        await produce(registry, "jsonl", {"path": str(tmp_path / "nope.jsonl")})
