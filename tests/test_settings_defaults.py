"""Each tunable's default is written once, in ``factflow_foundation.settings``: the
constructors that take the same value default to the very same number."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from factflow_engine import ConfigGate, ConfigLimits, PipelineOrchestrator, RouteDirectory
from factflow_execution import Retention, RunLogWriter
from factflow_foundation import FactFlowSettings, SettingDefaults
from factflow_infra.db import Database
from factflow_lineage import LineageRecorder

# (constructor, its parameter, the setting it mirrors)
MIRRORED: list[tuple[Callable[..., Any], str, str]] = [
    (PipelineOrchestrator, "cancel_grace", "cancel_grace"),
    (PipelineOrchestrator, "progress_interval", "progress_interval"),
    (RouteDirectory, "prefix", "queue_prefix"),
    (Database, "busy_timeout_ms", "sqlite_busy_timeout_ms"),
    (LineageRecorder, "batch_size", "lineage_batch_size"),
    (LineageRecorder, "flush_interval", "lineage_flush_interval"),
    (Retention, "interval", "retention_interval"),
    (ConfigGate, "timeout", "config_check_timeout"),
    (ConfigGate, "concurrency", "config_check_concurrency"),
    (ConfigLimits, "max_depth", "config_max_depth"),
    (ConfigLimits, "max_nodes", "config_max_nodes"),
    (ConfigLimits, "max_aliases", "config_max_aliases"),
    (RunLogWriter, "max_records", "max_log_records"),
]


@pytest.mark.parametrize(("constructor", "parameter", "setting"), MIRRORED)
def test_a_constructor_default_is_the_settings_default(
    constructor: Callable[..., Any], parameter: str, setting: str
) -> None:
    default = inspect.signature(constructor).parameters[parameter].default
    assert default == FactFlowSettings.model_fields[setting].default
    assert default == getattr(SettingDefaults, setting)


def test_every_shared_default_is_a_settings_field() -> None:
    shared = {name for name in vars(SettingDefaults) if not name.startswith("_")}
    for name in shared:
        assert FactFlowSettings.model_fields[name].default == getattr(SettingDefaults, name)
