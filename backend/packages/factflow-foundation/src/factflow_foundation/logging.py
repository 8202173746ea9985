"""Logging setup: one call from a composition root, nothing at import time."""

from __future__ import annotations

import logging
import sys

__all__ = ["configure_logging", "get_logger"]


def configure_logging(level: int | str = logging.INFO) -> None:
    """Send ``factflow.*`` records to stderr with a compact format."""
    root = logging.getLogger("factflow")
    root.setLevel(level)
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        root.addHandler(handler)


def get_logger(name: str) -> logging.Logger:
    """A logger under the ``factflow`` namespace."""
    return logging.getLogger(name if name.startswith("factflow") else f"factflow.{name}")
