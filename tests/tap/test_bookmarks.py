"""Bookmark arithmetic: instants compared across offsets, filters in the portal's offset, resume state."""

from __future__ import annotations

import datetime as dt

import pendulum

from tap_bitrix24 import bookmarks
from tap_bitrix24.readers import Reader, plan_readers


def test_lower_bound_compares_instants_not_strings() -> None:
    # 10:00+03:00 is 07:00Z: earlier than 08:00Z although "10" > "08" as text.
    bound = bookmarks.lower_bound("2026-01-01T10:00:00+03:00", "2026-01-01T08:00:00Z")
    assert bound == pendulum.datetime(2026, 1, 1, 8, 0, tz="UTC")
    assert bookmarks.lower_bound(None, None) is None
    assert bookmarks.lower_bound(None, "2026-01-01T00:00:00") == pendulum.datetime(2026, 1, 1, tz="UTC")


def test_filter_text_is_written_in_the_portal_offset_floored_to_the_second() -> None:
    moment = pendulum.datetime(2026, 1, 1, 7, 0, 5, 900000, tz="UTC")
    assert bookmarks.portal_filter_text(moment, dt.timedelta(hours=3)) == "2026-01-01T10:00:05+03:00"
    assert (
        bookmarks.portal_filter_text(moment, dt.timedelta(hours=-5, minutes=-30))
        == "2026-01-01T01:30:05-05:30"
    )


def test_a_read_stores_its_start_and_finishes_at_start_minus_lookback() -> None:
    state: dict = {"replication_key": "DATE_MODIFY", "replication_key_value": "2026-01-01T00:00:00+00:00"}
    portal_now = pendulum.parse("2026-01-02T12:00:00+03:00")
    assert isinstance(portal_now, dt.datetime)
    progress = bookmarks.begin_read(
        state, replication_key="DATE_MODIFY", start_date=None, portal_now=portal_now
    )
    assert progress.since == "2026-01-01T00:00:00+00:00"
    assert state["resume"]["read_started"] == "2026-01-02T09:00:00+00:00"
    bookmarks.advance_cursor(state, "0:500", 120)
    # an interrupted read is resumed as it was, whatever the clock says now
    again = bookmarks.begin_read(
        state, replication_key="DATE_MODIFY", start_date=None, portal_now=pendulum.now("UTC")
    )
    assert again.read_started == progress.read_started and again.cursors == {"0:500": 120}
    bookmark = bookmarks.finish_read(
        state, again, replication_key="DATE_MODIFY", lookback=dt.timedelta(minutes=5)
    )
    assert bookmark == "2026-01-02T08:55:00+00:00"
    assert state == {"replication_key": "DATE_MODIFY", "replication_key_value": bookmark}


def test_a_changed_replication_key_ignores_the_old_bookmark() -> None:
    state = {"replication_key": "DATE_CREATE", "replication_key_value": "2030-01-01T00:00:00+00:00"}
    now = pendulum.datetime(2026, 1, 1, tz="UTC")
    progress = bookmarks.begin_read(state, replication_key="DATE_MODIFY", start_date=None, portal_now=now)
    assert progress.since is None


def test_reader_plans() -> None:
    assert plan_readers({}, None, 4) == []
    assert plan_readers({}, 1000, 1) == [Reader(0, 1000, -1)]
    parts = plan_readers({}, 10_000, 3)
    assert len(parts) == 3 and parts[0].low == 0 and parts[-1].high == 10_000
    assert all(a.high + 1 == b.low for a, b in zip(parts, parts[1:], strict=False))
    resumed = plan_readers({"0:3333": 3333, "3334:6667": 4000}, 99_999, 1)
    assert [r.done for r in resumed] == [True, False] and resumed[1].remaining == (4001, 6667)
