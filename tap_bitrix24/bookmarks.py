"""Bookmarks that never skip a change.

A stream's bookmark is the PORTAL's time when its last complete read started, minus the lookback
window, never the largest modification date seen: a record changed while the read runs, even behind
the ID cursor, has a later modification date and is caught by the next run. While a read runs, the
state also holds a `resume` entry (the read's lower bound, its start time and each reader's ID
cursor), so a run restarted from any STATE message continues where the last one stopped.

Times are stored in UTC (ISO 8601) and compared as instants with pendulum, whatever offset the
portal writes; filters are sent in the portal's own offset.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pendulum

RESUME = "resume"


def parse_instant(value: str | dt.datetime) -> pendulum.DateTime:
    """An aware instant; a naive value is taken as UTC (singer start_date convention)."""
    if isinstance(value, dt.datetime):
        moment = pendulum.instance(value)
    else:
        parsed = pendulum.parse(str(value))
        if not isinstance(parsed, pendulum.DateTime):
            raise ValueError(f"not a date-time: {value!r}")
        moment = parsed
    return moment if moment.tzinfo else moment.replace(tzinfo=pendulum.UTC)


def to_utc_text(moment: dt.datetime) -> str:
    return parse_instant(moment).in_timezone("UTC").isoformat()


def portal_filter_text(moment: dt.datetime, offset: dt.timedelta) -> str:
    """The instant in the portal's offset, floored to the second (the portal stores seconds)."""
    local = parse_instant(moment).in_timezone(pendulum.UTC).add(seconds=offset.total_seconds())
    local = local.replace(microsecond=0, tzinfo=None)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = int(abs(offset.total_seconds()) // 60)
    return f"{local.isoformat()}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass
class ReadProgress:
    """One incremental read: its lower bound, the portal time it started, the reader cursors."""

    since: str | None
    read_started: str
    cursors: dict[str, int] = field(default_factory=dict)

    def to_state(self) -> dict[str, Any]:
        return {"since": self.since, "read_started": self.read_started, "cursors": dict(self.cursors)}

    @classmethod
    def from_state(cls, raw: Any) -> ReadProgress | None:
        if not isinstance(raw, dict) or "read_started" not in raw:
            return None
        cursors = {str(k): int(v) for k, v in (raw.get("cursors") or {}).items()}
        return cls(since=raw.get("since"), read_started=str(raw["read_started"]), cursors=cursors)


def lower_bound(bookmark: str | None, start_date: str | dt.datetime | None) -> pendulum.DateTime | None:
    """Where a fresh read starts: the later of the stored bookmark and start_date."""
    candidates = [parse_instant(v) for v in (bookmark, start_date) if v]
    return max(candidates) if candidates else None


def begin_read(
    state: dict[str, Any],
    *,
    replication_key: str,
    start_date: str | dt.datetime | None,
    portal_now: dt.datetime,
) -> ReadProgress:
    """Resume the interrupted read found in `state`, or start a new one at `portal_now`."""
    resumed = ReadProgress.from_state(state.get(RESUME))
    if resumed is not None:
        return resumed
    bookmark = state.get("replication_key_value") if state.get("replication_key") == replication_key else None
    since = lower_bound(bookmark, start_date)
    progress = ReadProgress(
        since=None if since is None else to_utc_text(since), read_started=to_utc_text(portal_now)
    )
    state[RESUME] = progress.to_state()
    return progress


def advance_cursor(state: dict[str, Any], reader: str, last_id: int) -> None:
    """Record that every record of `reader` up to `last_id` has been emitted."""
    resume = state.get(RESUME)
    if isinstance(resume, dict):
        resume.setdefault("cursors", {})[reader] = last_id


def replace_cursor(state: dict[str, Any], old: str, new: dict[str, int]) -> None:
    """Replace one reader's range by the ranges it was cut into (the same IDs, the same progress)."""
    resume = state.get(RESUME)
    if isinstance(resume, dict):
        cursors = resume.setdefault("cursors", {})
        cursors.pop(old, None)
        cursors.update(new)


def finish_read(
    state: dict[str, Any], progress: ReadProgress, *, replication_key: str, lookback: dt.timedelta
) -> str:
    """Close a complete read: the new bookmark is its start on the portal clock minus the lookback."""
    bookmark = to_utc_text(parse_instant(progress.read_started) - lookback)
    state.pop(RESUME, None)
    state["replication_key"] = replication_key
    state["replication_key_value"] = bookmark
    return bookmark
