"""``ConfigLimits``: how big, deep and aliased a config may be before it is refused.

A config is untrusted text (anyone holding the API token may post one), so
every walk over it is bounded *before* it happens: YAML's event stream is
measured (nesting depth, alias count, and the size the aliases would expand
to) before a single node is built; JSON's depth is checked before anything
recurses over it.  A refusal is an ordinary ``ValidationIssue`` naming the
limit, so it reaches a client as a 422 like any other config problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from factflow_foundation import FactFlowSettings, SettingDefaults

__all__ = ["ConfigLimits", "nesting_depth", "refusal_of"]


@dataclass(frozen=True, slots=True)
class ConfigLimits:
    """Bounds on one config (defaults: ``SettingDefaults``; settings ``FACTFLOW_CONFIG_*``).

    ``max_depth``: mappings and lists nested inside each other;
    ``max_nodes``: values (scalars, mappings, lists) with every alias expanded;
    ``max_aliases``: YAML alias uses (``*name``).
    """

    max_depth: int = SettingDefaults.config_max_depth
    max_nodes: int = SettingDefaults.config_max_nodes
    max_aliases: int = SettingDefaults.config_max_aliases

    @classmethod
    def from_settings(cls, settings: FactFlowSettings) -> ConfigLimits:
        """The limits a process's settings name."""
        return cls(
            max_depth=settings.config_max_depth,
            max_nodes=settings.config_max_nodes,
            max_aliases=settings.config_max_aliases,
        )

    def too_deep(self) -> str:
        """The message of a config nested past ``max_depth``."""
        return (
            f"the config nests mappings and lists more than {self.max_depth} levels deep, "
            "past the limit (FACTFLOW_CONFIG_MAX_DEPTH)"
        )

    def too_many_nodes(self) -> str:
        """The message of a config holding more than ``max_nodes`` values."""
        return (
            f"the config holds more than {self.max_nodes} values with its aliases expanded, "
            "over the limit (FACTFLOW_CONFIG_MAX_NODES); an alias repeats everything its "
            "anchor holds"
        )

    def too_many_aliases(self) -> str:
        """The message of a config using more than ``max_aliases`` aliases."""
        return (
            f"the config uses more than {self.max_aliases} YAML aliases (*name), over the "
            "limit (FACTFLOW_CONFIG_MAX_ALIASES)"
        )


def nesting_depth(value: Any, stop_after: int) -> int:
    """How deeply mappings and lists nest in ``value`` (a scalar is 0, ``[]`` is 1).

    Iterative, so any depth is measured without recursion; it stops counting
    once ``stop_after`` is passed (returns ``stop_after + 1``).  Shared
    containers are measured where met (a cycle cannot get past ``stop_after``).
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        depth += 1
        if depth > stop_after:
            return depth
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in children)
    return deepest


def refusal_of(value: Any, limits: ConfigLimits) -> str | None:
    """Why already-parsed data (JSON, a mapping) passes ``limits`` (nesting depth,
    number of values), or ``None``.  Iterative; stops at the first bound passed."""
    count = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if count > limits.max_nodes:
            return limits.too_many_nodes()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth + 1 > limits.max_depth:
            return limits.too_deep()
        stack.extend((child, depth + 1) for child in children)
    return None
