"""FactFlow foundation: settings, ids, clock, logging, errors and JSON helpers."""

from factflow_foundation.clock import ensure_utc, utcnow
from factflow_foundation.errors import (
    CapacityExceededError,
    ConflictError,
    FactFlowError,
    InfrastructureError,
    InvalidInputError,
    NotFoundError,
)
from factflow_foundation.ids import derived_id, new_id
from factflow_foundation.jsonutil import JSONValue, canonical_json, dumps, fingerprint, loads
from factflow_foundation.logging import configure_logging, get_logger
from factflow_foundation.settings import FactFlowSettings, SettingDefaults, reveal

__all__ = [
    "CapacityExceededError",
    "ConflictError",
    "FactFlowError",
    "FactFlowSettings",
    "InfrastructureError",
    "InvalidInputError",
    "JSONValue",
    "NotFoundError",
    "SettingDefaults",
    "canonical_json",
    "configure_logging",
    "derived_id",
    "dumps",
    "ensure_utc",
    "fingerprint",
    "get_logger",
    "loads",
    "new_id",
    "reveal",
    "utcnow",
]
