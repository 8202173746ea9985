"""Config text -> data, plus a map from field paths to the line each was written on.

YAML is read through ``yaml.compose`` so node marks give every key and list
item its 1-based line; JSON (a ``.json`` filename) is parsed by ``json`` for
exact semantics and mapped through the YAML composer when it can read it.
Duplicate keys, which both parsers would silently collapse, are reported.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from factflow_engine.errors import FieldPath, ValidationIssue, format_path

__all__ = ["ParsedSource", "line_for", "parse_source"]


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


def parse_source(source: str | bytes | Mapping[str, Any], filename: str | None) -> ParsedSource:
    """Parse config text (YAML, or JSON for ``*.json``) or take a mapping as it is.

    Text that is not valid Unicode (a lone surrogate, say from a ``"\\ud800"``
    JSON escape) is reported with the path of the field that holds it.
    """
    parsed = _parse(source, filename)
    if parsed.data is not None:
        for path in _invalid_text(parsed.data, ()):
            parsed.issues.append(
                ValidationIssue(
                    format_path(path),
                    "contains an unpaired surrogate, which is not valid Unicode text; "
                    "use the character itself or a valid escape pair",
                    line_for(parsed.lines, path),
                )
            )
    return parsed


def _invalid_text(value: Any, path: FieldPath) -> list[FieldPath]:
    """Paths of strings (values or keys) that cannot be encoded as UTF-8."""
    found: list[FieldPath] = []
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            found.append(path)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            child = (*path, str(key))
            if isinstance(key, str) and _invalid_text(key, child):
                found.append(child)
            found += _invalid_text(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _invalid_text(item, (*path, index))
    return found


def _parse(source: str | bytes | Mapping[str, Any], filename: str | None) -> ParsedSource:
    if isinstance(source, Mapping):
        return ParsedSource(data=dict(source))
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            issue = ValidationIssue(
                format_path(()), f"the config is not UTF-8 text ({exc.reason} at byte {exc.start})"
            )
            return ParsedSource(data=None, issues=[issue])
    if filename is not None and filename.lower().endswith(".json"):
        return _parse_json(source)
    return _parse_yaml(source)


def _parse_yaml(text: str) -> ParsedSource:
    try:
        loader = yaml.SafeLoader(text)  # its reader rejects unprintable characters at once
    except yaml.YAMLError as exc:
        return ParsedSource(
            data=None, issues=[ValidationIssue("(top level)", f"YAML error: {exc}")]
        )
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        return ParsedSource(data=None, issues=[_yaml_issue(exc)])
    except yaml.YAMLError as exc:
        return ParsedSource(
            data=None, issues=[ValidationIssue("(top level)", f"YAML error: {exc}")]
        )
    finally:
        loader.dispose()
    parsed = ParsedSource(data=data)
    if node is not None:
        _walk(node, (), parsed)
    return parsed


def _parse_json(text: str) -> ParsedSource:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        issue = ValidationIssue(
            "(top level)", f"JSON syntax error: {exc.msg} (column {exc.colno})", exc.lineno
        )
        return ParsedSource(data=None, issues=[issue])
    parsed = ParsedSource(data=data)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return parsed  # valid JSON that YAML 1.1 cannot read: no line numbers
    if node is not None:
        _walk(node, (), parsed)
    return parsed


def _yaml_issue(exc: yaml.MarkedYAMLError) -> ValidationIssue:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "unreadable YAML"
    detail = f"YAML syntax error: {problem}"
    if exc.context:
        detail += f" ({exc.context})"
    if mark is not None:
        detail += f" at column {mark.column + 1}"
        return ValidationIssue("(top level)", detail, mark.line + 1)
    return ValidationIssue("(top level)", detail)


def _walk(node: yaml.Node, path: FieldPath, parsed: ParsedSource) -> None:
    if not path:
        parsed.lines.setdefault((), node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            child = (*path, key)
            if key in seen and key != "<<":
                parsed.issues.append(
                    ValidationIssue(
                        format_path(child),
                        f"duplicate key {key!r} (first written on line {seen[key]}); "
                        "only one value may be given, remove one of them",
                        line,
                    )
                )
                continue
            seen[key] = line
            parsed.lines[child] = line
            _walk(value_node, child, parsed)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            parsed.lines[child] = item.start_mark.line + 1
            _walk(item, child, parsed)
