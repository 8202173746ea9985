"""Measurements, distributions and the context every benchmark receives."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Comparison",
    "Context",
    "Measurement",
    "Skip",
    "percentile",
    "summarize",
    "timer_ms",
]


class Skip(Exception):  # noqa: N818 - it is a signal, not an error
    """A benchmark (or one side of it) cannot run here; the message says why."""


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(values: Sequence[float]) -> dict[str, float]:
    """n, min, p50, p90, p95, p99, max and mean of ``values``."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min": min(values),
        "p50": percentile(values, 50),
        "p90": percentile(values, 90),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def timer_ms() -> float:
    """A monotonic clock in milliseconds (CLOCK_MONOTONIC: comparable across processes)."""
    return time.perf_counter_ns() / 1e6


@dataclass
class Measurement:
    """One distribution of one measure on one database for one system."""

    benchmark: str
    measure: str
    system: str  # "factflow", "prefect (default)", "prefect (fastest)"
    unit: str
    samples: list[float]
    database: str | None = None
    target: str | None = None
    met: bool | None = None
    stat: str = "p50"  # which statistic the table shows first
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> dict[str, float]:
        return summarize(self.samples)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = self.summary
        if len(self.samples) > 2000:  # keep the JSON readable; the summary is exact
            data["samples"] = None
            data["samples_dropped"] = len(self.samples)
        return data


@dataclass
class Comparison:
    """A ratio of two systems' figures measured in the same run, sides alternated."""

    benchmark: str
    measure: str
    numerator: str
    denominator: str
    ratio: float
    stat: str
    database: str | None = None
    notes: str = ""
    target: str | None = None
    met: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    """What a benchmark may use: mode, databases, where to put files, the results."""

    quick: bool
    databases: list[str]
    work_dir: Path
    peer: bool
    postgres_admin_url: str | None
    measurements: list[Measurement] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def scale(self, full: int, quick: int) -> int:
        return quick if self.quick else full

    def add(self, measurement: Measurement) -> Measurement:
        self.measurements.append(measurement)
        _print_measurement(measurement)
        return measurement

    def compare(
        self,
        benchmark: str,
        measure: str,
        numerator: Measurement,
        denominator: Measurement,
        *,
        stat: str = "p50",
        database: str | None = None,
        notes: str = "",
        at_least: float | None = None,
    ) -> Comparison | None:
        top = numerator.summary.get(stat)
        bottom = denominator.summary.get(stat)
        if top is None or bottom is None or bottom == 0:
            return None
        comparison = Comparison(
            benchmark,
            measure,
            numerator.system,
            denominator.system,
            top / bottom,
            stat,
            database,
            notes,
        )
        if at_least is not None:
            comparison.target = f">= {at_least:g}x"
            comparison.met = comparison.ratio >= at_least
        self.comparisons.append(comparison)
        print(
            f"    ratio {measure} [{database or '-'}]: {numerator.system} / "
            f"{denominator.system} = {comparison.ratio:.1f}x ({stat})",
            flush=True,
        )
        return comparison

    def skip(self, benchmark: str, what: str, reason: str) -> None:
        self.skipped.append({"benchmark": benchmark, "what": what, "reason": reason})
        print(f"    skipped {benchmark}: {what}: {reason}", flush=True)


def _print_measurement(m: Measurement) -> None:
    s = m.summary
    if not s.get("n"):
        print(f"    {m.measure} [{m.database or '-'}] {m.system}: no samples", flush=True)
        return
    verdict = "" if m.met is None else ("  MET" if m.met else "  MISSED")
    print(
        f"    {m.measure} [{m.database or '-'}] {m.system}: "
        f"p50 {s['p50']:.3g} p90 {s['p90']:.3g} p99 {s['p99']:.3g} "
        f"(min {s['min']:.3g}, max {s['max']:.3g}, n={int(s['n'])}) {m.unit}"
        f"{'  target ' + m.target if m.target else ''}{verdict}",
        flush=True,
    )


def interleave(*batches: Iterable[Any]) -> list[Any]:
    """Round-robin items of several iterables (used to alternate sides)."""
    out: list[Any] = []
    iterators = [iter(b) for b in batches]
    while iterators:
        alive = []
        for it in iterators:
            try:
                out.append(next(it))
            except StopIteration:
                continue
            alive.append(it)
        iterators = alive
    return out
