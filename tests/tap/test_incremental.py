"""Incremental reads against the sandbox over HTTP: only what changed, nothing skipped, nothing twice."""

from __future__ import annotations

import pendulum
from tap_support import SPEED, discover, portal_ids, run_tap, select, tap_config

from bitrix24_sandbox import Sandbox


def _assert_unique(ids: list[int]) -> None:
    assert len(ids) == len(set(ids)), "a record was emitted twice within one run"


def test_second_run_reads_only_changed_records() -> None:
    with Sandbox(seed={"deals": 300, "contacts": 40, "items": 20}, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), ["deals", "contacts", "smart_process_128"])
        deals = portal_ids(sb)
        first = run_tap(config, catalog=catalog)
        assert sorted(first.ids("deals")) == deals
        assert len(deals) == 300
        assert len(first.ids("contacts")) == 40
        _assert_unique(first.ids("deals"))

        sb.clock.advance(3600)  # an hour later on the portal, nothing changed
        quiet = run_tap(config, catalog=catalog, state=first.last_state)
        assert quiet.ids("deals") == [] and quiet.ids("contacts") == []

        early, late, contact = deals[6], deals[250], portal_ids(sb, "crm.contact.list")[2]
        sb.portal.update("deal", early, {"TITLE": "changed seven"})
        sb.portal.update("deal", late, {"OPPORTUNITY": 1234.5})
        sb.portal.update("contact", contact, {"NAME": "Renamed"})
        new_id = sb.portal.add("deal", {"TITLE": "brand new"})
        changed = run_tap(config, catalog=catalog, state=quiet.last_state)

        assert sorted(changed.ids("deals")) == sorted([early, late, new_id])
        by_id = {r["ID"]: r for r in changed.records("deals")}
        assert by_id[early]["TITLE"] == "changed seven"
        assert float(by_id[late]["OPPORTUNITY"]) == 1234.5
        assert by_id[new_id]["TITLE"] == "brand new"
        assert changed.ids("contacts") == [contact]
        assert changed.records("contacts")[0]["NAME"] == "Renamed"
        assert changed.ids("smart_process_128", "id") == []


def test_bookmark_is_portal_start_time_minus_lookback() -> None:
    """The portal's clock (behind the host's by 3 days) decides "now", not the tap host."""
    behind = -3 * 86400.0
    with Sandbox(seed={"deals": 50}, speed=SPEED, clock_offset=behind) as sb:
        config = tap_config(sb, lookback_seconds=120)
        catalog = select(discover(config), ["deals"])
        portal_before = pendulum.from_timestamp(sb.clock.now())
        first = run_tap(config, catalog=catalog)
        portal_after = pendulum.from_timestamp(sb.clock.now())
        bookmark = pendulum.parse(first.last_state["bookmarks"]["deals"]["replication_key_value"])
        host_now = pendulum.now("UTC")
        assert bookmark < host_now.subtract(days=2), "bookmark came from the host clock"
        # the read started between the two portal readings; the bookmark is that minus 120 s
        assert portal_before.subtract(seconds=121) <= bookmark <= portal_after.subtract(seconds=119)

        target = portal_ids(sb)[10]
        sb.portal.update("deal", target, {"TITLE": "edited on a portal living in the past"})
        second = run_tap(config, catalog=catalog, state=first.last_state)
        assert second.ids("deals") == [target]
        assert second.records("deals")[0]["TITLE"].startswith("edited")


def test_bookmarks_compare_across_portal_offset_and_utc() -> None:
    """A UTC start_date and a portal at UTC-5 agree on which records are new."""
    with Sandbox(seed={"deals": 80}, speed=SPEED, tz_offset_minutes=-300) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), ["deals"])
        everything = run_tap(config, catalog=catalog)
        modified = {r["ID"]: pendulum.parse(r["DATE_MODIFY"]) for r in everything.records("deals")}
        assert all(str(r["DATE_MODIFY"]).endswith("-05:00") for r in everything.records("deals"))
        cut = sorted(modified.values())[40]
        start_date = cut.in_timezone("UTC").isoformat()  # same instant, written in UTC
        later = run_tap({**config, "start_date": start_date}, catalog=catalog)
        expected = sorted(i for i, when in modified.items() if when >= cut)
        assert sorted(later.ids("deals")) == expected


def test_change_behind_the_cursor_during_a_run_is_read_next_time() -> None:
    """A record changed while the sync runs, after its ID was passed, is picked up by the next run."""
    with Sandbox(seed={"deals": 6000}, speed=SPEED) as sb:
        config = tap_config(sb, lookback_seconds=0)
        catalog = select(discover(config), ["deals"])
        batches = []
        passed, ahead = portal_ids(sb)[4], portal_ids(sb)[-1]  # in the first and the last batch

        def change_mid_read(method: str) -> None:
            if method == "batch":
                batches.append(method)
                if len(batches) == 2:
                    sb.portal.update("deal", passed, {"TITLE": "changed during the sync"})
                    # A later change ahead of the cursor: a "largest DATE_MODIFY seen" bookmark
                    # would now jump past the change behind the cursor.
                    sb.clock.advance(5)
                    sb.portal.update("deal", ahead, {"TITLE": "changed ahead"})

        sb.set_hook(change_mid_read)
        first = run_tap(config, catalog=catalog)
        sb.set_hook(None)
        assert len(batches) >= 2
        _assert_unique(first.ids("deals"))
        assert sorted(first.ids("deals")) == portal_ids(sb)
        titles = {r["ID"]: r["TITLE"] for r in first.records("deals")}
        assert titles[passed] != "changed during the sync" and titles[ahead] == "changed ahead"

        second = run_tap(config, catalog=catalog, state=first.last_state)
        assert passed in second.ids("deals")
        assert {r["ID"]: r for r in second.records("deals")}[passed]["TITLE"] == "changed during the sync"
        assert len(second.ids("deals")) < 50, "the next run should read only recent changes"


def test_interrupted_sync_resumes_without_loss_and_rereads_little() -> None:
    with Sandbox(seed={"deals": 6000, "contacts": 30}, speed=SPEED) as sb:
        config = tap_config(sb, lookback_seconds=0)
        catalog = select(discover(config), ["deals", "contacts"])
        every = portal_ids(sb)
        for stop_at in (1, 2600, 5999):
            crashed = run_tap(config, catalog=catalog, stop_after_records=stop_at)
            assert crashed.interrupted
            seen = crashed.ids("deals")
            state = crashed.last_state
            resume = state.get("bookmarks", {}).get("deals", {}).get("resume")
            if stop_at > 1000:
                assert resume and resume["cursors"], "the ID cursor must be in the state during a run"

            sb.portal.update("deal", every[1], {"TITLE": f"behind the cursor {stop_at}"})
            sb.portal.update("deal", every[-5], {"TITLE": f"ahead of the cursor {stop_at}"})
            resumed = run_tap(config, catalog=catalog, state=state)
            again = resumed.ids("deals")
            _assert_unique(again)
            assert set(seen) | set(again) == set(every), "records were lost"
            reread = set(seen) & set(again)
            assert len(reread) <= 2500, f"re-read {len(reread)} records, more than one batch"
            assert {r["ID"]: r for r in resumed.records("deals")}[every[-5]]["TITLE"].startswith("ahead")
            contacts = set(crashed.ids("contacts")) | set(resumed.ids("contacts"))
            assert contacts == set(portal_ids(sb, "crm.contact.list"))

            # The change behind the cursor is caught by the following run at the latest.
            follow = run_tap(config, catalog=catalog, state=resumed.last_state)
            titles = {r["ID"]: r["TITLE"] for r in resumed.records("deals") + follow.records("deals")}
            assert titles[every[1]] == f"behind the cursor {stop_at}"
            assert "resume" not in follow.last_state["bookmarks"]["deals"]


def test_parallel_readers_keep_one_cursor_each_and_resume() -> None:
    with Sandbox(seed={"deals": 8000}, speed=SPEED) as sb:
        config = tap_config(sb, lookback_seconds=0, parallelism=3)
        catalog = select(discover(config), ["deals"])
        every = portal_ids(sb)
        whole = run_tap(config, catalog=catalog)
        _assert_unique(whole.ids("deals"))
        assert sorted(whole.ids("deals")) == every

        crashed = run_tap(config, catalog=catalog, stop_after_records=4500)
        cursors = dict(crashed.last_state["bookmarks"]["deals"]["resume"]["cursors"])
        # One ID cursor per range the core split the span into (the opening's and at least one split
        # range read by 4,000 records), plus the part not yet started: together exactly [0, max ID].
        assert len(cursors) >= 3, cursors
        ranges = sorted((int(k.split(":")[0]), int(k.split(":")[1]), v) for k, v in cursors.items())
        assert ranges[0][0] == 0 and ranges[-1][1] == max(every), ranges
        assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:], strict=False)), ranges
        assert all(low - 1 <= after <= high for low, high, after in ranges), ranges
        resumed = run_tap(config, catalog=catalog, state=crashed.last_state)
        _assert_unique(resumed.ids("deals"))
        assert set(crashed.ids("deals")) | set(resumed.ids("deals")) == set(every)
        assert len(set(crashed.ids("deals")) & set(resumed.ids("deals"))) <= 3 * 2500


def test_a_sync_through_transient_faults_is_complete() -> None:
    """Server errors, dropped connections and rate refusals are retried by the core: nothing lost."""
    with Sandbox(seed={"deals": 3000, "contacts": 200}, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), ["deals", "contacts"])
        deals, contacts = portal_ids(sb), portal_ids(sb, "crm.contact.list")
        sb.set_faults("503=0.1,500=0.05,html502=0.05,drop=0.05", seed=3)
        run = run_tap(config, catalog=catalog)
        faults = sb.counters()["faults"]
        sb.set_faults(None)
    assert sum(faults.values()) > 0, "the sandbox injected no fault"
    _assert_unique(run.ids("deals"))
    assert sorted(run.ids("deals")) == deals and sorted(run.ids("contacts")) == contacts
