"""Fire times of a schedule: validation, the next ones, and the ones due.

Cron expressions are evaluated by ``cronsim`` (the evaluator Healthchecks is
built on; it follows Debian cron, including what happens at daylight-saving
changes: a local time that does not exist fires right after the jump, a local
time that happens twice fires once).  Times are computed in the schedule's
``zoneinfo`` zone and handled as UTC everywhere else.  Interval schedules fire
at ``anchor + k·interval`` (absolute time; no time zone involved).

Every function here is pure: the caller passes "now", so tests drive the
clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

__all__ = ["DueTimes", "Trigger", "check_cron", "check_zone"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SECOND = timedelta(seconds=1)
_COUNT_PAST_LIMIT = 1000


def check_cron(expression: str) -> str:
    """The expression, normalised (single spaces), or ``ValueError`` saying why not."""
    normalised = " ".join(expression.split())
    try:
        CronSim(normalised, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None
    except (ValueError, IndexError, KeyError) as exc:  # cronsim rejects some input this way
        raise ValueError(f"invalid cron expression {expression!r}: {exc}") from None
    return normalised


def check_zone(name: str) -> str:
    """The IANA zone name, or ``ValueError`` (unknown names, paths, empty)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as UTC or Europe/Amsterdam"
        ) from None
    return name


@dataclass(frozen=True)
class DueTimes:
    """The fire times due at some "now", from the schedule's cursor on.

    ``times`` are the newest ``limit`` of them, oldest first; ``total`` counts
    all of them (``total - len(times)`` were beyond the bound; for cron
    schedules counting stops ``_COUNT_PAST_LIMIT`` past the bound).
    """

    times: list[datetime]
    total: int


@dataclass(frozen=True)
class Trigger:
    """A cron expression in a zone, or an interval from an anchor."""

    cron: str | None
    timezone: str
    interval_seconds: int | None
    anchor: datetime | None

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment`` (UTC)."""
        return next(self.iter_after(moment))

    def iter_after(self, moment: datetime) -> Iterator[datetime]:
        """Fire times strictly after ``moment``, in order (UTC)."""
        if self.interval_seconds is not None:
            step = self.interval_seconds
            anchor = self.anchor or EPOCH
            k = math.floor((moment - anchor).total_seconds() / step) + 1
            while True:
                at = anchor + timedelta(seconds=k * step)
                if at > moment:  # float rounding may leave k one short
                    yield at
                k += 1
        else:
            assert self.cron is not None
            zone = ZoneInfo(self.timezone)
            # cronsim works in whole seconds and yields times after its start second
            for local in CronSim(self.cron, moment.astimezone(zone)):
                at = local.astimezone(UTC)
                if at > moment:
                    yield at

    def due(self, since: datetime, now: datetime, limit: int) -> DueTimes:
        """Fire times in ``[since, now]``: the newest ``limit``, oldest first."""
        if since > now:
            return DueTimes([], 0)
        if self.interval_seconds is not None:
            step = self.interval_seconds
            anchor = self.anchor or EPOCH
            first = math.ceil((since - anchor).total_seconds() / step)
            last = math.floor((now - anchor).total_seconds() / step)
            total = max(0, last - first + 1)
            start = max(first, last - limit + 1)
            times = [anchor + timedelta(seconds=k * step) for k in range(start, last + 1)]
            return DueTimes([t for t in times if since <= t <= now], total)
        assert self.cron is not None
        zone = ZoneInfo(self.timezone)
        # Walk back from now: only the newest ``limit`` are needed, whatever the gap.
        origin = (now.replace(microsecond=0) + _SECOND).astimezone(zone)
        newest: list[datetime] = []
        total = 0
        for local in CronSim(self.cron, origin, reverse=True):
            at = local.astimezone(UTC)
            if at > now:
                continue
            if at < since:
                break
            total += 1
            if len(newest) < limit:
                newest.append(at)
            elif total >= limit + _COUNT_PAST_LIMIT:
                break  # enough to say how many were dropped, roughly; not forever
        newest.reverse()
        return DueTimes(newest, total)
