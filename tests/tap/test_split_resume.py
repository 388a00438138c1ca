"""A fresh parallel read split by the core, with later streams read ahead, killed mid-stream: the
state's ranges (claimed as the core announces them) cover every ID, and the resumed run emits each
record the killed one did not, exactly once, re-reading at most one batch per range."""

from __future__ import annotations

from tap_support import SPEED, discover, portal_ids, run_tap, select, tap_config

from bitrix24_sandbox import Sandbox

STREAMS = {"contacts": "crm.contact.list", "deals": "crm.deal.list", "leads": "crm.lead.list"}


def _ranges(cursors: dict[str, int]) -> list[tuple[int, int, int]]:
    return sorted((int(k.split(":")[0]), int(k.split(":")[1]), int(v)) for k, v in cursors.items())


def test_a_split_read_killed_mid_stream_resumes_without_loss_or_repeat() -> None:
    with Sandbox(seed={"contacts": 7000, "deals": 9000, "leads": 6000}, speed=SPEED) as sb:
        config = tap_config(sb, lookback_seconds=0, parallelism=4, read_ahead_streams=4)
        catalog = select(discover(config), list(STREAMS))
        every = {name: portal_ids(sb, method) for name, method in STREAMS.items()}
        for stop, stream in ((3700, "contacts"), (12345, "deals")):
            crashed = run_tap(config, catalog=catalog, stop_after_records=stop)
            assert crashed.interrupted
            resume = crashed.last_state["bookmarks"][stream]["resume"]
            ranges = _ranges(dict(resume["cursors"]))
            assert len(ranges) >= 2, f"the core split the read: {ranges}"
            assert ranges[0][0] == 0 and ranges[-1][1] == max(every[stream]), ranges
            assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:], strict=False)), ranges
            resumed = run_tap(config, catalog=catalog, state=crashed.last_state)
            for name in STREAMS:
                before, after = crashed.ids(name), resumed.ids(name)
                assert len(before) == len(set(before)) and len(after) == len(set(after)), name
                assert set(before) | set(after) == set(every[name]), name
                assert len(set(before) & set(after)) <= 2500 * len(ranges), name
