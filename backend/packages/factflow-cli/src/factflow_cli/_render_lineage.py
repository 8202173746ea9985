"""``factflow execution lineage --message M --tree``: a message's ancestry and
descendants as one Rich tree (root at the top, the message highlighted)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.text import Text
from rich.tree import Tree

from factflow_cli._render import STATUS_STYLES

__all__ = ["lineage_tree"]

_PAYLOAD_CHARS = 80


def _payload(record: Mapping[str, Any]) -> str:
    if record.get("payload") is None and record.get("payload_ref"):
        return "(large payload: --payload prints it)"
    text = json.dumps(record.get("payload"), ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= _PAYLOAD_CHARS else text[: _PAYLOAD_CHARS - 1] + "…"


def _label(record: Mapping[str, Any], *, focus: bool = False) -> Text:
    status = str(record.get("status"))
    label = Text(no_wrap=True, overflow="ellipsis")
    label.append(str(record.get("route")), style="bold")
    label.append(" ")
    label.append(status, style=STATUS_STYLES.get(status, "green" if status == "processed" else ""))
    label.append(f" {record.get('message_id')}", style="reverse" if focus else "dim")
    label.append(f" {_payload(record)}")
    if record.get("error"):
        label.append(f"  {record['error']}", style="red")
    return label


def lineage_tree(ancestry: Mapping[str, Any], descendants: Mapping[str, Any]) -> Tree:
    """The chain from the root down to the message, then the message's subtree.

    ``ancestry`` and ``descendants`` are the two endpoints' answers unchanged;
    a cut subtree ends with a line saying so."""
    chain = list(ancestry.get("items") or [])
    continues = ancestry.get("continues")
    if continues:
        top = Tree(
            Text(
                f"… parent {continues.get('message_id')} in execution "
                f"{continues.get('execution_id') or '(deleted)'}",
                style="dim",
            )
        )
        node = top
    else:
        top = node = Tree(_label(chain[0], focus=len(chain) == 1)) if chain else Tree("")
        chain = chain[1:]
    for index, record in enumerate(chain):
        node = node.add(_label(record, focus=index == len(chain) - 1))
    nodes: dict[str, Tree] = {str(descendants.get("message", {}).get("message_id")): node}
    for record in descendants.get("items") or []:
        parent = nodes.get(str(record.get("parent_message_id")), node)
        nodes[str(record.get("message_id"))] = parent.add(_label(record))
    if descendants.get("truncated"):
        node.add(
            Text(
                f"… more descendants not shown (at most {descendants.get('max_depth')} levels "
                f"and {descendants.get('limit')} records; see --depth)",
                style="yellow",
            )
        )
    return top
