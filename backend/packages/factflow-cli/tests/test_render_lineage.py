"""The lineage tree (``--tree``) and the label filter words, without a server."""

from __future__ import annotations

from typing import Any

import pytest
from factflow_cli._errors import InputError
from factflow_cli._params import label_filter
from factflow_cli._render_lineage import lineage_tree
from rich.console import Console


def _record(mid: str, parent: str | None, route: str, **extra: Any) -> dict[str, Any]:
    return {
        "message_id": mid,
        "parent_message_id": parent,
        "route": route,
        "status": extra.pop("status", "processed"),
        "payload": extra.pop("payload", {"m": mid}),
        "payload_ref": None,
        **extra,
    }


def _text(tree: Any) -> list[str]:
    console = Console(width=200, record=True, color_system=None)
    console.print(tree)
    return console.export_text().rstrip("\n").splitlines()


def test_ancestry_then_descendants_under_the_message() -> None:
    chain = {"items": [_record("r", None, "src"), _record("m", "r", "split")], "continues": None}
    below = {
        "message": chain["items"][1],
        "items": [
            _record("c1", "m", "facts", depth=1),
            _record("c2", "m", "facts", depth=1, status="failed", error="KeyError: 'x'"),
            _record("g1", "c1", "store", depth=2, payload={"long": "y" * 200}),
        ],
        "truncated": False,
        "max_depth": 100,
        "limit": 1000,
    }
    assert _text(lineage_tree(chain, below)) == [
        'src processed r {"m":"r"}',
        '└── split processed m {"m":"m"}',
        '    ├── facts processed c1 {"m":"c1"}',
        '    │   └── store processed g1 {"long":"' + "y" * 70 + "…",
        """    └── facts failed c2 {"m":"c2"}  KeyError: 'x'""",
    ]


def test_a_replayed_message_and_a_cut_subtree_say_so() -> None:
    chain = {
        "items": [_record("m", "p", "sink", payload=None, payload_ref="_lineage/e/m.json")],
        "continues": {"execution_id": None, "message_id": "p"},
    }
    below = {"message": chain["items"][0], "items": [], "truncated": True, "max_depth": 2}
    below["limit"] = 5
    assert _text(lineage_tree(chain, below)) == [
        "… parent p in execution (deleted)",
        "└── sink processed m (large payload: --payload prints it)",
        "    └── … more descendants not shown (at most 2 levels and 5 records; see --depth)",
    ]


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("env:prod", "env:prod"),
        ("env=prod", "env:prod"),
        ("url:http://x:1", "url:http://x:1"),
        ("url=http://x:1", "url:http://x:1"),
        ("a:b=c", "a:b=c"),
        ("empty:", "empty:"),
    ],
)
def test_label_filter_words(given: str, sent: str) -> None:
    assert label_filter(given) == sent


@pytest.mark.parametrize("bad", ["plain", ":v", "=v", ""])
def test_label_filter_without_a_key_is_an_input_error(bad: str) -> None:
    with pytest.raises(InputError, match="KEY:VALUE"):
        label_filter(bad)
