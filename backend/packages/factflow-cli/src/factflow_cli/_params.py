"""``--param`` and ``--label`` values as the user wrote them, made ready to send.

``--param KEY=VALUE`` values stay text (the server converts them to the
param's declared type), with two exceptions the CLI handles because only it
knows where the user is:

* ``KEY=@FILE`` reads FILE as JSON and sends the decoded value (``@@…`` is a
  literal leading ``@``);
* a value for a ``path``-typed param is made absolute against the caller's
  working directory (``~`` expanded), since the server resolves relative paths
  against its own.  The path must still exist where the server runs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from factflow_cli._errors import InputError

__all__ = ["label_filter", "parse_labels", "parse_params", "resolve_path_params"]


def _split(value: str, what: str) -> tuple[str, str]:
    key, sep, rest = value.partition("=")
    if not sep or not key.strip():
        raise InputError(f"{what} {value!r} is not KEY=VALUE")
    return key.strip(), rest


def parse_labels(values: list[str] | None) -> dict[str, str]:
    """``["k=v", …]`` → ``{k: v}``."""
    return dict(_split(value, "label") for value in values or [])


def label_filter(value: str) -> str:
    """A ``--label`` filter as the API takes it (``key:value``).  ``key=value`` (how
    labels are set) is accepted too: whichever of ``:`` and ``=`` comes first splits."""
    cut = min((i for i in (value.find(":"), value.find("=")) if i >= 0), default=-1)
    if cut <= 0:
        raise InputError(f"label filter {value!r} is not KEY:VALUE (or KEY=VALUE)")
    return f"{value[:cut]}:{value[cut + 1 :]}"


def parse_params(values: list[str] | None) -> dict[str, Any]:
    """``["k=v", "k=@file.json", …]`` → ``{k: "v", k: <decoded JSON>}``."""
    params: dict[str, Any] = {}
    for value in values or []:
        key, text = _split(value, "param")
        if text.startswith("@@"):
            params[key] = text[1:]
        elif text.startswith("@"):
            params[key] = _read_json(key, text[1:])
        else:
            params[key] = text
    return params


def _read_json(key: str, file: str) -> Any:
    if not file:
        raise InputError(f"--param {key}=@ names no file; write {key}=@FILE.json")
    path = Path(file).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"--param {key}=@{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"--param {key}=@{file}: cannot read it ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"--param {key}=@{file}: not valid JSON at line {exc.lineno} column {exc.colno}: "
            f"{exc.msg}",
            hints=[f"write {key}=@@… for a value that starts with '@'"],
        ) from None
    except RecursionError:
        raise InputError(
            f"--param {key}=@{file}: the JSON nests too deeply to read (the server takes "
            "at most FACTFLOW_CONFIG_MAX_DEPTH levels)"
        ) from None
    except ValueError as exc:  # a number json cannot convert (too many digits)
        raise InputError(f"--param {key}=@{file}: {exc}") from None


def resolve_path_params(
    params: Mapping[str, Any], declared: Mapping[str, Any], cwd: Path | None = None
) -> dict[str, Any]:
    """``params`` with each text value of a ``path``-typed param made absolute.

    ``declared`` is the config definition's ``params`` mapping (name → spec);
    unknown names and other types pass through untouched (the server judges them).
    """
    base = cwd or Path.cwd()
    resolved = dict(params)
    for name, value in params.items():
        spec = declared.get(name)
        if not (isinstance(spec, Mapping) and spec.get("type") == "path"):
            continue
        if isinstance(value, str) and value:
            resolved[name] = os.path.normpath(base / Path(value).expanduser())
    return resolved
