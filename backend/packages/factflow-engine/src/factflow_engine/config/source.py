"""Config text -> data, plus a map from field paths to the line each was written on.

YAML is read with the YAML 1.2 core schema through libyaml (``yaml12``), after a
pre-scan of its events has checked the ``ConfigLimits`` (depth, aliases, the
expanded size) so nothing unbounded is ever built.  Node marks give every key
and list item its 1-based line; the line map records each node once, so an
alias is never walked again (a path under an alias takes the alias's line).
JSON (a ``.json`` filename) is parsed by ``json`` for exact semantics, its depth
checked, and mapped through the YAML composer when it can read it.  Duplicate
keys, which both parsers would silently collapse, are reported.  Every walk
here is iterative: no input can reach the recursion limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from factflow_engine.config.limits import ConfigLimits, refusal_of
from factflow_engine.config.yaml12 import ConfigLoader, LimitExceededError, measure
from factflow_engine.errors import FieldPath, ValidationIssue, format_path

__all__ = ["ParsedSource", "line_for", "parse_source"]

_TOP = "(top level)"


@dataclass(slots=True)
class ParsedSource:
    """What parsing produced: the data (``None`` on a syntax error), lines, early issues."""

    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict)
    issues: list[ValidationIssue] = field(default_factory=list)


def line_for(lines: Mapping[FieldPath, int], path: FieldPath) -> int | None:
    """The line of ``path`` or of its nearest ancestor that has one."""
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def parse_source(
    source: str | bytes | Mapping[str, Any],
    filename: str | None,
    limits: ConfigLimits | None = None,
) -> ParsedSource:
    """Parse config text (YAML, or JSON for ``*.json``) or take a mapping as it is.

    A config past ``limits`` (default ``ConfigLimits()``) is one issue naming
    the limit.  Text that is not valid Unicode (a lone surrogate, say from a
    ``"\\ud800"`` JSON escape) is reported with the path of the field that holds it.
    """
    limits = limits or ConfigLimits()
    parsed = _parse(source, filename, limits)
    if parsed.data is not None:
        for path in _invalid_text(parsed.data):
            parsed.issues.append(
                ValidationIssue(
                    format_path(path),
                    "contains an unpaired surrogate, which is not valid Unicode text; "
                    "use the character itself or a valid escape pair",
                    line_for(parsed.lines, path),
                )
            )
    return parsed


def _invalid_text(value: Any) -> list[FieldPath]:
    """Paths of strings (values or keys) that cannot be encoded as UTF-8."""
    found: list[FieldPath] = []
    seen: set[int] = set()  # a container met again is an alias: checked where first met
    stack: list[tuple[Any, FieldPath]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if not _encodable(item):
                found.append(path)
            continue
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, Mapping):
            for key, child in item.items():
                child_path = (*path, str(key))
                if isinstance(key, str) and not _encodable(key):
                    found.append(child_path)
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(item))
    return sorted(found, key=str)


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parse(
    source: str | bytes | Mapping[str, Any], filename: str | None, limits: ConfigLimits
) -> ParsedSource:
    if isinstance(source, Mapping):
        data = dict(source)
        refusal = refusal_of(data, limits)
        if refusal is not None:
            return ParsedSource(data=None, issues=[ValidationIssue(_TOP, refusal)])
        return ParsedSource(data=data)
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            issue = ValidationIssue(
                format_path(()), f"the config is not UTF-8 text ({exc.reason} at byte {exc.start})"
            )
            return ParsedSource(data=None, issues=[issue])
    if filename is not None and filename.lower().endswith(".json"):
        return _parse_json(source, limits)
    return _parse_yaml(source, limits)


def _parse_yaml(text: str, limits: ConfigLimits) -> ParsedSource:
    try:
        measure(text, limits)  # before anything is built: depth, aliases, expanded size
        loader = ConfigLoader(text)
    except LimitExceededError as exc:
        return ParsedSource(data=None, issues=[ValidationIssue(_TOP, exc.message, exc.line)])
    except yaml.MarkedYAMLError as exc:
        return ParsedSource(data=None, issues=[_yaml_issue(exc)])
    except yaml.YAMLError as exc:
        return ParsedSource(data=None, issues=[ValidationIssue(_TOP, f"YAML error: {exc}")])
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        return ParsedSource(data=None, issues=[_yaml_issue(exc)])
    except yaml.YAMLError as exc:
        return ParsedSource(data=None, issues=[ValidationIssue(_TOP, f"YAML error: {exc}")])
    finally:
        loader.dispose()
    parsed = ParsedSource(data=data)
    if node is not None:
        _map_lines(node, parsed)
    return parsed


def _parse_json(text: str, limits: ConfigLimits) -> ParsedSource:
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        issue = ValidationIssue(
            _TOP, f"JSON syntax error: {exc.msg} (column {exc.colno})", exc.lineno
        )
        return ParsedSource(data=None, issues=[issue])
    except RecursionError:  # deeper than the interpreter can parse, so past any limit
        return ParsedSource(data=None, issues=[ValidationIssue(_TOP, limits.too_deep())])
    except ValueError as exc:  # a number json cannot convert (too many digits, NaN)
        return ParsedSource(data=None, issues=[ValidationIssue(_TOP, f"JSON error: {exc}")])
    refusal = refusal_of(data, limits)
    if refusal is not None:
        return ParsedSource(data=None, issues=[ValidationIssue(_TOP, refusal)])
    parsed = ParsedSource(data=data)
    loader = ConfigLoader(text)
    try:
        node = loader.get_single_node()
    except yaml.YAMLError:
        return parsed  # valid JSON that YAML cannot read: no line numbers
    finally:
        loader.dispose()
    if node is not None:
        _map_lines(node, parsed)
    return parsed


def _no_constant(name: str) -> Any:
    raise ValueError(
        f"{name} is not a JSON number (a config is stored as JSON, which has no infinity or NaN)"
    )


def _yaml_issue(exc: yaml.MarkedYAMLError) -> ValidationIssue:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "unreadable YAML"
    detail = f"YAML syntax error: {problem}"
    if exc.context:
        detail += f" ({exc.context})"
    if mark is not None:
        detail += f" at column {mark.column + 1}"
        return ValidationIssue(_TOP, detail, mark.line + 1)
    return ValidationIssue(_TOP, detail)


def _map_lines(root: yaml.Node, parsed: ParsedSource) -> None:
    """Record each key's and list item's line, visiting every node once: a node met
    again is an alias, whose contents are the anchor's and are not walked again."""
    parsed.lines.setdefault((), root.start_mark.line + 1)
    seen: set[int] = set()
    stack: list[tuple[yaml.Node, FieldPath]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                line = key_node.start_mark.line + 1
                child = (*path, key)
                if key in keys and key != "<<":
                    parsed.issues.append(
                        ValidationIssue(
                            format_path(child),
                            f"duplicate key {key!r} (first written on line {keys[key]}); "
                            "only one value may be given, remove one of them",
                            line,
                        )
                    )
                    continue
                keys[key] = line
                parsed.lines.setdefault(child, line)
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                parsed.lines.setdefault(child, item.start_mark.line + 1)
                stack.append((item, child))
