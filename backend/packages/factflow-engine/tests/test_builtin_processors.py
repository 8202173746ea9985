"""Built-in processors, called directly the way a worker calls them."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from factflow_engine import Registry
from factflow_engine.builtins.chaos import DeliberateFailureError, failure_fraction
from factflow_engine.builtins.facts import find_facts
from factflow_engine.builtins.sentences import split_into_sentences
from factflow_engine.runtime.context import RunContext
from factflow_engine.testing import InMemoryExecutionStorage
from factflow_foundation import InvalidInputError
from factflow_protocols import Message


def message(
    payload: Any, *, mid: str = "m1", attempt: int = 1, execution_id: str = "e1"
) -> Message:
    return Message(mid, execution_id, "r", payload, "o1", "p1", attempt)


class Call:
    """Runs one processor the way a worker would."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.storage = InMemoryExecutionStorage("e1")

    async def __call__(
        self, name: str, payload: Any, options: dict[str, Any] | None = None, **kw: Any
    ) -> Any:
        processor = self.registry.create_processor(name, options or {})
        ctx = RunContext("e1", "r", {}, self.storage, logging.getLogger("t"))
        msg = message(payload, **kw)
        ctx.message = msg
        return await processor.process(msg, ctx)


@pytest.fixture
def call(registry: Registry) -> Call:
    return Call(registry)


async def test_read_text_adds_the_text(call: Call, tmp_path: Path) -> None:
    path = tmp_path / "a.md"
    path.write_text("héllo", encoding="utf-8")
    assert await call("read_text", {"path": str(path), "k": 1}) == {
        "path": str(path),
        "k": 1,
        "text": "héllo",
    }


async def test_read_text_errors_name_the_file(call: Call, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"read_text: file '.*missing.md' does not exist"):
        await call("read_text", {"path": str(tmp_path / "missing.md")})
    big = tmp_path / "big.txt"
    big.write_text("x" * 11)
    with pytest.raises(
        ValueError, match=r"is larger than max_bytes=10 \(stopped reading after 11 bytes\)"
    ):
        await call("read_text", {"path": str(big)}, {"max_bytes": 10})
    latin = tmp_path / "latin.txt"
    latin.write_bytes("café".encode("latin-1"))
    with pytest.raises(ValueError, match=r"is not valid utf-8 \(byte 3\); set errors: replace"):
        await call("read_text", {"path": str(latin)})
    assert (await call("read_text", {"path": str(latin)}, {"encoding": "latin-1"}))[
        "text"
    ] == "café"
    assert (await call("read_text", {"path": str(latin)}, {"errors": "replace"}))[
        "text"
    ] == "caf\ufffd"
    with pytest.raises(
        ValueError, match=r"read_text: payload has no 'path' field \(fields: name\)"
    ):
        await call("read_text", {"name": "x"})
    with pytest.raises(ValueError, match="expected a mapping payload with a 'path' field, got str"):
        await call("read_text", "a.md")


def test_sentence_splitting_handles_prose_markdown_and_metadata() -> None:
    text = (
        "# FactFlow 1.2.3\n\n"
        "FactFlow runs pipelines. It was released on 2024-05-01, e.g. for\n"
        "teams of 5 people! Does it scale? Yes.\n\n"
        "- first item\n- second item\n\n"
        "```python\nx = 1. Not a sentence.\n```\n"
        "License: MIT\nVersion: 2.0.1\n"
    )
    assert split_into_sentences(text) == [
        "FactFlow 1.2.3",
        "FactFlow runs pipelines.",
        "It was released on 2024-05-01, e.g. for teams of 5 people!",
        "Does it scale?",
        "Yes.",
        "first item",
        "second item",
        "License: MIT",
        "Version: 2.0.1",
    ]


async def test_split_sentences_fans_out_with_index_and_source(call: Call) -> None:
    payload = {"path": "/a.md", "text": "Short. This one is long enough. And this one too."}
    out = await call("split_sentences", payload, {"min_length": 10})
    assert out == [
        {"sentence": "This one is long enough.", "index": 0, "source": "/a.md"},
        {"sentence": "And this one too.", "index": 1, "source": "/a.md"},
    ]
    assert await call("split_sentences", {"text": ""}) == []
    none_source = await call("split_sentences", {"text": "One."})
    assert none_source == [{"sentence": "One.", "index": 0, "source": None}]


async def test_chunk_with_overlap(call: Call) -> None:
    out = await call("chunk", {"text": "abcdefghij", "path": "p"}, {"size": 4, "overlap": 1})
    assert [(c["chunk"], c["start"], c["index"]) for c in out] == [
        ("abcd", 0, 0),
        ("defg", 3, 1),
        ("ghij", 6, 2),
    ]
    assert all(c["source"] == "p" for c in out)
    assert await call("chunk", {"text": ""}) == []


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("FactFlow 1.2.3 is out.", {"version": ["1.2.3"]}),
        ("It is licensed under the Apache-2.0 license.", {"license": ["Apache-2.0"]}),
        ("MIT License applies; see also BSD-3-Clause.",
         {"license": ["MIT License", "BSD-3-Clause"]}),
        ("Released on 2024-05-01 and March 3, 2023.", {"date": ["2024-05-01", "March 3, 2023"]}),
        ("Mail dev@example.org or see https://example.org/docs.",
         {"email": ["dev@example.org"], "url": ["https://example.org/docs"]}),
        ("We processed 1,200 files in 3.5 seconds.", {"number": ["1,200", "3.5"]}),
        ("Requires Python 3.11 and GPLv3.", {"license": ["GPLv3"], "number": ["3.11"]}),
        ("Copyright 2019 the authors.", {"date": ["2019"]}),
    ],
)  # fmt: skip
def test_fact_kinds(sentence: str, expected: dict[str, list[str]]) -> None:
    assert find_facts(sentence) == expected


async def test_extract_facts_keeps_factual_sentences_only(call: Call) -> None:
    payload = {"sentence": "Version 2.0.1 was released in 2024.", "index": 3, "source": "/a.md"}
    assert await call("extract_facts", payload) == {
        "fact": "Version 2.0.1 was released in 2024.",
        "kinds": ["date", "version"],
        "matches": {"date": ["2024"], "version": ["2.0.1"]},
        "source": "/a.md",
        "index": 3,
    }
    assert await call("extract_facts", {"sentence": "Nothing to see here."}) is None
    only_urls = await call("extract_facts", payload, {"kinds": ["url"]})
    assert only_urls is None


@pytest.mark.parametrize(
    ("options", "payload", "kept"),
    [
        ({"field": "kind", "equals": "a"}, {"kind": "a"}, True),
        ({"field": "kind", "equals": "a"}, {"kind": "b"}, False),
        ({"field": "kind", "equals": None}, {"kind": None}, True),
        ({"field": "text", "contains": "fact"}, {"text": "a fact"}, True),
        ({"field": "tags", "contains": "x"}, {"tags": ["x", "y"]}, True),
        ({"field": "text", "regex": r"^\d+$"}, {"text": "123"}, True),
        ({"field": "text", "regex": r"^\d+$"}, {"text": "12a"}, False),
        ({"field": "text", "min_length": 3}, {"text": "ab"}, False),
        ({"field": "a.b", "equals": 1}, {"a": {"b": 1}}, True),
        ({"field": "missing", "equals": 1}, {"a": 1}, False),
        ({"field": "kind", "equals": "a", "negate": True}, {"kind": "a"}, False),
        ({"min_length": 2}, "abc", True),
        ({"field": "t", "contains": "x", "min_length": 5}, {"t": "x"}, False),
    ],
)
async def test_filter(call: Call, options: dict[str, Any], payload: Any, kept: bool) -> None:
    result = await call("filter", payload, options)
    assert result == (payload if kept else None)


def test_filter_needs_a_condition_and_a_valid_regex(registry: Registry) -> None:
    from factflow_engine import ConfigValidationError

    with pytest.raises(ConfigValidationError, match="filter needs at least one condition"):
        registry.create_processor("filter", {"field": "x"})
    with pytest.raises(ConfigValidationError, match=r"regex '\(' does not compile"):
        registry.create_processor("filter", {"regex": "("})


async def test_dedupe_by_key_and_by_payload(registry: Registry) -> None:
    storage = InMemoryExecutionStorage()
    ctx = RunContext("e", "r", {}, storage, logging.getLogger("t"))
    by_key = registry.create_processor("dedupe", {"key": "fact"})
    outs = [
        await by_key.process(message({"fact": f, "n": i}, mid=f"m{i}"), ctx)
        for i, f in enumerate(["a", "b", "a", "c", "b"])
    ]
    assert [o["n"] if o else None for o in outs] == [0, 1, None, 3, None]
    whole = registry.create_processor("dedupe")
    assert await whole.process(message({"x": 1, "y": 2}, mid="a"), ctx) == {"x": 1, "y": 2}
    assert await whole.process(message({"y": 2, "x": 1}, mid="b"), ctx) is None
    with pytest.raises(ValueError, match="dedupe: payload has no 'fact' field"):
        await by_key.process(message({"n": 1}), ctx)


async def test_dedupe_lets_a_retry_of_the_claiming_message_through(registry: Registry) -> None:
    ctx = RunContext("e", "r", {}, InMemoryExecutionStorage(), logging.getLogger("t"))
    dedupe = registry.create_processor("dedupe", {"key": "k"})
    assert await dedupe.process(message({"k": 1}, mid="m", attempt=1), ctx) is not None
    assert await dedupe.process(message({"k": 1}, mid="m", attempt=2), ctx) is not None  # retry
    assert await dedupe.process(message({"k": 1}, mid="m", attempt=2), ctx) is None  # sibling
    assert await dedupe.process(message({"k": 1}, mid="other", attempt=1), ctx) is None


async def test_dedupe_is_safe_under_concurrency(registry: Registry) -> None:
    ctx = RunContext("e", "r", {}, InMemoryExecutionStorage(), logging.getLogger("t"))
    dedupe = registry.create_processor("dedupe", {"key": "k"})
    results = await asyncio.gather(
        *(dedupe.process(message({"k": i % 10}, mid=f"m{i}"), ctx) for i in range(200))
    )
    assert sum(r is not None for r in results) == 10


async def test_storage_write_json_and_text(call: Call) -> None:
    payload = {"fact": "x", "source": "a/b.md", "meta": {"n": 7}}
    out = await call(
        "storage_write", payload, {"key": "facts/{execution_id}/{meta.n}/{message_id}.json"}
    )
    assert out == {**payload, "stored_key": "facts/e1/7/m1.json"}
    stored = call.storage.written[-1]
    assert (stored.content_type, stored.route, stored.message_id) == ("application/json", "r", "m1")
    assert json.loads(call.storage.objects["facts/e1/7/m1.json"]) == payload
    out = await call(
        "storage_write", {"text": "hello"}, {"key": "{route}/{origin_id}.txt", "format": "text"}
    )
    assert out["stored_key"] == "r/o1.txt"
    assert call.storage.objects["r/o1.txt"] == b"hello"
    assert call.storage.written[-1].content_type == "text/plain; charset=utf-8"
    default = await call("storage_write", [1, 2])
    assert default == {"value": [1, 2], "stored_key": "r/m1.json"}


async def test_storage_write_errors(call: Call, registry: Registry) -> None:
    with pytest.raises(
        ValueError, match=r"needs payload field 'name', which is missing \(fields: fact\)"
    ):
        await call("storage_write", {"fact": "x"}, {"key": "{name}.json"})
    with pytest.raises(InvalidInputError, match="invalid storage key"):
        await call("storage_write", {"p": "../escape"}, {"key": "{p}.json"})
    from factflow_engine import ConfigValidationError

    with pytest.raises(ConfigValidationError, match="invalid placeholder"):
        registry.create_processor("storage_write", {"key": "{a!r}.json"})


async def test_sleep_passes_the_payload_on(call: Call) -> None:
    assert await call("sleep", {"a": 1}, {"seconds": 0}) == {"a": 1}


async def test_fail_always_by_default_and_names_its_error(call: Call) -> None:
    with pytest.raises(DeliberateFailureError, match="boom"):
        await call("fail", 1, {"error": "boom"})


async def test_fail_only_the_first_attempts(call: Call) -> None:
    with pytest.raises(DeliberateFailureError):
        await call("fail", 1, {"attempts": 2}, attempt=2)
    assert await call("fail", 1, {"attempts": 2}, attempt=3) == 1


async def test_fail_when_fields_match(call: Call) -> None:
    assert await call("fail", {"k": "b"}, {"when": {"k": "a"}}) == {"k": "b"}
    with pytest.raises(DeliberateFailureError):
        await call("fail", {"k": "a"}, {"when": {"k": "a"}})


async def test_fail_rate_is_deterministic_per_execution_message_attempt(call: Call) -> None:
    fractions = [failure_fraction("e1", f"m{i}", 1) for i in range(2000)]
    assert fractions == [failure_fraction("e1", f"m{i}", 1) for i in range(2000)]
    share = sum(f < 0.3 for f in fractions) / len(fractions)
    assert 0.25 < share < 0.35
    assert failure_fraction("e2", "m0", 1) != failure_fraction("e1", "m0", 1)
    for i in range(50):
        failing = failure_fraction("e1", f"m{i}", 1) < 0.3
        if failing:
            with pytest.raises(DeliberateFailureError):
                await call("fail", 1, {"rate": 0.3}, mid=f"m{i}")
        else:
            assert await call("fail", 1, {"rate": 0.3}, mid=f"m{i}") == 1
