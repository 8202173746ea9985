"""Config YAML: libyaml's parser, the YAML 1.2 core schema, and a bounded pre-scan.

**Schema.** Configs are read with the YAML 1.2 *core* schema, not PyYAML's
YAML 1.1 default: only ``true``/``false`` (any case style ``True``/``TRUE``)
are booleans, so ``yes``, ``no``, ``on``, ``off``, ``y``, ``n`` stay strings;
``null``/``~``/empty are null; ``012`` is the decimal 12 (octal is ``0o12``,
hex ``0x1f``); ``1_000`` and ``1:30`` are strings; dates are strings (no
timestamps).  Merge keys (``<<: *defaults``) keep working.  Only the core tags
construct; any other tag (``!!binary``, ``!!set``, ``!!python/…``, ``!custom``)
is an error, and so are ``.inf``/``.nan`` (JSON cannot hold them).

**Parser.** libyaml (``CSafeLoader``) when PyYAML was built with it, the
pure-Python parser otherwise; both give every node its line.

**Pre-scan.** ``measure`` reads the *event* stream once before anything is
composed or constructed, keeping the size each anchor expands to, so nesting
depth, alias uses and the expanded size ("billion laughs") are known in time
linear in the text, and a config past a ``ConfigLimits`` bound is refused
without ever being expanded.  A recursive alias (an alias inside its own
anchor) is refused the same way.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from factflow_engine.config.limits import ConfigLimits

__all__ = ["ConfigLoader", "LimitExceededError", "measure"]

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CORE = "tag:yaml.org,2002:"


class ConfigLoader(_Base):  # type: ignore[misc]
    """A safe loader with the YAML 1.2 core schema (see the module docstring)."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
    yaml_constructors: dict[str | None, Any] = {}

    def construct_core_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        try:
            if text.startswith("0o"):
                return int(text[2:], 8)
            if text.startswith("0x"):
                return int(text[2:], 16)
            return int(text, 10)
        except ValueError as exc:  # e.g. more digits than int() converts
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read the integer {text[:40]!r}: {exc}", node.start_mark
            ) from None

    def construct_core_float(self, node: yaml.ScalarNode) -> float:
        text = str(self.construct_scalar(node))
        if text.lstrip("+-").lower() in {".inf", ".nan"}:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{text} is not a finite number (a config is stored as JSON, which has no "
                "infinity or NaN); quote it to keep it as text",
                node.start_mark,
            )
        return float(text)

    def construct_core_bool(self, node: yaml.ScalarNode) -> bool:
        return str(self.construct_scalar(node)).lower() == "true"


def _resolver(tag: str, pattern: str, first: str) -> None:
    ConfigLoader.add_implicit_resolver(_CORE + tag, re.compile(pattern), list(first))


_resolver("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF")
_resolver("null", r"^(?:~|null|Null|NULL|)$", "~nN")
ConfigLoader.add_implicit_resolver(_CORE + "null", re.compile(r"^$"), [""])
_resolver("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789")
_resolver(
    "float",
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
    "-+0123456789.",
)
_resolver("merge", r"^(?:<<)$", "<")

_SAFE = yaml.SafeLoader.yaml_constructors
for _tag in ("str", "seq", "map", "null"):
    ConfigLoader.add_constructor(_CORE + _tag, _SAFE[_CORE + _tag])
ConfigLoader.add_constructor(_CORE + "int", ConfigLoader.construct_core_int)
ConfigLoader.add_constructor(_CORE + "float", ConfigLoader.construct_core_float)
ConfigLoader.add_constructor(_CORE + "bool", ConfigLoader.construct_core_bool)
# any other tag: "could not determine a constructor for the tag"
ConfigLoader.add_constructor(None, _SAFE[None])


class LimitExceededError(Exception):
    """A config passed a ``ConfigLimits`` bound; ``message`` names it, ``line`` where."""

    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def measure(text: str, limits: ConfigLimits) -> None:
    """Raise ``LimitExceededError`` when ``text`` passes a limit; ``yaml.YAMLError`` when it
    is not YAML.  Reads events only: nothing is composed or expanded."""
    loader = ConfigLoader(text)
    try:
        _measure_events(loader, limits)
    finally:
        loader.dispose()


def _measure_events(loader: Any, limits: ConfigLimits) -> None:
    expanded = 0  # values so far, every alias counted at its anchor's full size
    aliases = 0
    sizes: dict[str, int] = {}  # anchor -> values it expands to (finished anchors)
    open_: list[list[Any]] = []  # per open collection: [anchor, values so far]

    def add(count: int, line: int) -> None:
        nonlocal expanded
        expanded += count
        if expanded > limits.max_nodes:
            raise LimitExceededError(limits.too_many_nodes(), line)

    while (event := loader.get_event()) is not None:
        line = event.start_mark.line + 1
        if isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                sizes[event.anchor] = 1
            add(1, line)
            if open_:
                open_[-1][1] += 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > limits.max_aliases:
                raise LimitExceededError(limits.too_many_aliases(), line)
            if any(entry[0] == event.anchor for entry in open_):
                raise LimitExceededError(
                    f"the alias *{event.anchor} is inside its own anchor &{event.anchor}; "
                    "a recursive structure cannot be a config",
                    line,
                )
            # an undefined alias is reported by the composer; count it as one value
            size = sizes.get(str(event.anchor), 1)
            add(size, line)
            if open_:
                open_[-1][1] += size
        elif isinstance(event, yaml.CollectionStartEvent):
            if len(open_) + 1 > limits.max_depth:
                raise LimitExceededError(limits.too_deep(), line)
            add(1, line)
            open_.append([event.anchor, 1])  # counts the collection and all inside it
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, count = open_.pop()
            if anchor is not None:
                sizes[anchor] = count
            if open_:
                open_[-1][1] += count
        elif isinstance(event, yaml.StreamEndEvent):
            break
