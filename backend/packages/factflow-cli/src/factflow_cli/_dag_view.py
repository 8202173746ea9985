"""The DAG of an execution as a Rich tree: routes with their counts, edges with theirs.

Roots are the routes nothing feeds (the sources).  A route fed by several
others is drawn in full under the first and referred to under the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from rich.tree import Tree

from factflow_cli._render import status_text

__all__ = ["dag_tree"]

_KIND_STYLE = {"source": "magenta", "stage": "cyan", "sink": "blue"}


def _node_label(node: Mapping[str, Any], edge: Mapping[str, Any] | None) -> Text:
    stats = node.get("stats") or {}
    label = Text()
    label.append(str(node.get("id")), style="bold")
    kind = str(node.get("kind", "stage"))
    label.append(f" [{kind}]", style=_KIND_STYLE.get(kind, ""))
    if edge is not None:
        label.append(f"  ◀ {edge.get('messages', 0)} msgs", style="yellow")
    steps = [str(node["adapter"])] if node.get("adapter") else []
    steps += [str(p) for p in node.get("processors") or []]
    label.append("  " + (" → ".join(steps) if steps else "pass-through"), style="dim")
    label.append("\n")
    label.append(f"received {stats.get('received', 0)}")
    label.append(f" · processed {stats.get('processed', 0)}", style="green")
    failed = stats.get("failed", 0)
    label.append(f" · failed {failed}", style="red" if failed else "")
    label.append(f" · filtered {stats.get('filtered', 0)}")
    if stats.get("in_flight"):
        label.append(f" · in flight {stats['in_flight']}", style="cyan")
    if stats.get("cancelled"):
        label.append(f" · cancelled {stats['cancelled']}", style="yellow")
    if stats.get("lost"):
        label.append(f" · lost {stats['lost']} (resume the run)", style="yellow")
    return label


def dag_tree(dag: Mapping[str, Any]) -> Tree:
    nodes = {str(n.get("id")): n for n in dag.get("nodes") or []}
    outgoing: dict[str, list[Mapping[str, Any]]] = {}
    fed: set[str] = set()
    for edge in dag.get("edges") or []:
        outgoing.setdefault(str(edge.get("source")), []).append(edge)
        fed.add(str(edge.get("target")))
    title = Text("execution ")
    title.append(str(dag.get("execution_id")), style="bold")
    title.append("  ")
    title.append(status_text(dag.get("status")))
    root = Tree(title)
    roots = [name for name in nodes if name not in fed] or list(nodes)[:1]
    drawn: set[str] = set()

    def draw(parent: Tree, name: str, edge: Mapping[str, Any] | None) -> None:
        if name in drawn:
            label = Text(name, style="bold")
            if edge is not None:
                label.append(f"  ◀ {edge.get('messages', 0)} msgs", style="yellow")
            label.append("  (shown above)", style="dim")
            parent.add(label)
            return
        drawn.add(name)
        node = nodes.get(name, {"id": name})
        branch = parent.add(_node_label(node, edge))
        for child in outgoing.get(name, []):
            draw(branch, str(child.get("target")), child)

    for name in roots:
        draw(root, name, None)
    for name in nodes:  # routes on a cycle or otherwise unreachable from a root
        if name not in drawn:
            draw(root, name, None)
    return root
