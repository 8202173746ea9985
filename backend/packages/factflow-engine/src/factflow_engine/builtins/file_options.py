"""``FileOptions``: the ``Options`` base of components that read files (see
``factflow_engine.file_access``)."""

from __future__ import annotations

from typing import Any

from pydantic import PrivateAttr, ValidationInfo, model_validator

from factflow_engine.file_access import CONTEXT_KEY, DENY_ALL, FileAccess
from factflow_engine.registry import ComponentOptions

__all__ = ["FileOptions", "static_path"]


class FileOptions(ComponentOptions):
    """Carries the registry's ``FileAccess`` (from the validation context;
    deny-all without one) as ``file_access``."""

    _file_access: FileAccess = PrivateAttr(default=DENY_ALL)

    @model_validator(mode="after")
    def _take_file_access(self, info: ValidationInfo) -> Any:
        access = _access_in(info)
        if access is not None:
            self._file_access = access
        return self

    @property
    def file_access(self) -> FileAccess:
        """The policy this component reads files under."""
        return self._file_access


def static_path(value: str, info: ValidationInfo) -> str:
    """A field validator's check of a path written in the config: refused (a
    ``ValueError``, so a config issue at save time) when the policy in the
    validation context would refuse it.  Without a context it is left to the
    run-time check."""
    access = _access_in(info)
    if access is not None:
        reason = access.refusal(value)
        if reason is not None:
            raise ValueError(reason)
    return value


def _access_in(info: ValidationInfo) -> FileAccess | None:
    context = info.context if isinstance(info.context, dict) else None
    access = context.get(CONTEXT_KEY) if context else None
    return access if isinstance(access, FileAccess) else None
