"""No package imports itself back: module by module, in all eight packages.

import-linter checks the tiers (between packages), execution's internal
layers, and sibling modules; this test is the strict check inside every
package, parents included (a package's ``__init__`` and one of its modules
importing each other is a cycle too).  Imports under ``TYPE_CHECKING`` and
those inside functions count: they are edges a refactor can turn into a
circular import at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import grimp
import pytest

PACKAGES = (
    "factflow_foundation",
    "factflow_protocols",
    "factflow_infra",
    "factflow_lineage",
    "factflow_engine",
    "factflow_execution",
    "factflow_server",
    "factflow_cli",
)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def cycles(
    graph: grimp.ImportGraph, package: str, extra: Iterable[tuple[str, str]] = ()
) -> list[list[str]]:
    """The strongly connected components (of more than one module) inside
    ``package``; ``extra`` adds ``(importer, imported)`` edges."""

    def inside(module: str) -> bool:
        return module == package or module.startswith(package + ".")

    added: dict[str, set[str]] = {}
    for importer, imported in extra:
        added.setdefault(importer, set()).add(imported)

    def successors(module: str) -> Iterator[str]:
        targets = graph.find_modules_directly_imported_by(module) | added.get(module, set())
        return iter(sorted(t for t in targets if inside(t)))

    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    for root in sorted(m for m in graph.modules if inside(m)):
        if root in index:
            continue
        # Tarjan's algorithm, iteratively: (module, its remaining successors).
        index[root] = low[root] = len(index)
        stack.append(root)
        work = [(root, successors(root))]
        while work:
            node, remaining = work[-1]
            target = next(remaining, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    work.append((target, successors(target)))
                elif target in stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = stack[stack.index(node) :]
                del stack[stack.index(node) :]
                if len(component) > 1:
                    found.append(sorted(component))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_imports_itself_back(graph: grimp.ImportGraph, package: str) -> None:
    found = cycles(graph, package)
    listed = "; ".join(" <-> ".join(component) for component in found)
    assert found == [], f"import cycles (move what both sides need further down): {listed}"


def test_the_check_finds_a_cycle_when_there_is_one(graph: grimp.ImportGraph) -> None:
    back_edge = ("factflow_execution._models", "factflow_execution._service")
    found = cycles(graph, "factflow_execution", [back_edge])
    assert len(found) == 1 and set(back_edge) <= set(found[0])
    parent_and_child = ("factflow_cli._version", "factflow_cli")  # the old CLI cycle's shape
    found = cycles(graph, "factflow_cli", [parent_and_child])
    assert len(found) == 1 and set(parent_and_child) <= set(found[0])
