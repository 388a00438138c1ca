"""The throughput paths keep the guarantees: parquet batches written in file slices, pages read ahead
of the writer in a thread, and the converters' fast paths."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.parquet as pq
import pytest
from tap_support import SPEED, discover, portal_ids, run_tap, select, tap_config

from bitrix24_sandbox import Sandbox
from tap_bitrix24 import batches
from tap_bitrix24.prefetch import prefetch
from tap_bitrix24.records import DateConverter, to_bool, to_int, to_number


def _batch_config(root: Path, size: int) -> dict:
    return {
        "encoding": {"format": "parquet", "compression": "gzip"},
        "storage": {"root": f"file://{root}", "prefix": "b24-"},
        "batch_size": size,
    }


def test_parquet_batches_hold_batch_size_records_in_file_slices(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batches, "FILE_ROWS", 20)  # 50 records per batch -> files of 20, 20, 10
    with Sandbox(seed={"deals": 120}, speed=SPEED) as sb:
        config = tap_config(sb, batch_config=_batch_config(tmp_path, 50))
        run = run_tap(config, catalog=select(discover(config), ["deals"]))
        deals = portal_ids(sb)
    seen: list[int] = []
    sizes: list[list[int]] = []
    for index, message in enumerate(run.messages):
        if message["type"] != "BATCH":
            continue
        tables = [pq.read_table(urlparse(url).path) for url in message["manifest"]]
        sizes.append([t.num_rows for t in tables])
        ids = [i for t in tables for i in t.column("ID").to_pylist()]
        assert ids == sorted(ids) and all(i > max(seen, default=0) for i in ids)
        seen.extend(ids)
        state = next(m["value"] for m in run.messages[index:] if m["type"] == "STATE")
        resume = state["bookmarks"]["deals"].get("resume")
        if resume:  # the STATE after a batch: the cursor is the batch's last ID, nothing beyond it
            assert list(resume["cursors"].values()) == [ids[-1]]
    assert seen == deals
    assert sizes == [[20, 20, 10], [20, 20, 10], [20]]
    assert len({url for m in run.messages if m["type"] == "BATCH" for url in m["manifest"]}) == 7
    assert "resume" not in run.last_state["bookmarks"]["deals"]


def test_parquet_batch_resumes_after_a_crash(tmp_path: Path) -> None:
    """Killed while writing a batch: resuming from the last STATE reads every record still missing."""
    with Sandbox(seed={"deals": 160}, speed=SPEED) as sb:
        config = tap_config(sb, batch_config=_batch_config(tmp_path, 50))
        catalog = select(discover(config), ["deals"])
        first = run_tap(config, catalog=catalog)
        state = next(
            m["value"]
            for m in first.messages
            if m["type"] == "STATE" and m["value"]["bookmarks"].get("deals", {}).get("resume")
        )  # as if killed right after the first batch
        rest = run_tap(config, catalog=catalog, state=state)
        deals = portal_ids(sb)
    got = [
        i
        for run in (first, rest)
        for m in run.messages
        if m["type"] == "BATCH"
        for url in m["manifest"]
        for i in pq.read_table(urlparse(url).path).column("ID").to_pylist()
    ]
    assert set(got) == set(deals)
    resumed = [
        i
        for m in rest.messages
        if m["type"] == "BATCH"
        for url in m["manifest"]
        for i in pq.read_table(urlparse(url).path).column("ID").to_pylist()
    ]
    assert resumed == deals[50:]


def _numbers(stop: int, fail: Exception | None = None, closed: list[bool] | None = None) -> Iterator[int]:
    try:
        yield from range(stop)
        if fail is not None:
            raise fail
    finally:
        if closed is not None:
            closed.append(True)


def test_prefetch_keeps_order_and_raises_errors_in_place() -> None:
    assert list(prefetch(_numbers(500), depth=7)) == list(range(500))
    got: list[int] = []
    with pytest.raises(RuntimeError, match="portal gone"):
        for item in prefetch(_numbers(30, RuntimeError("portal gone")), depth=4):
            got.append(item)
    assert got == list(range(30))


def test_prefetch_stops_its_thread_when_the_reader_stops() -> None:
    closed: list[bool] = []
    before = threading.active_count()
    reader = prefetch(_numbers(10_000, closed=closed), depth=3, name="test-prefetch")
    assert [next(reader) for _ in range(5)] == [0, 1, 2, 3, 4]
    reader.close()
    assert closed == [True]
    assert not [t for t in threading.enumerate() if t.name == "test-prefetch"]
    assert threading.active_count() == before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" 42 ", 42), ("12.0", 12), ("", None), ("-7", -7)],
)
def test_integer_fast_path_agrees_with_the_careful_one(raw: str, expected: int | None) -> None:
    assert to_int(raw) == expected


def test_number_and_flag_fast_paths() -> None:
    assert to_number("1,5") == Decimal("1.5")
    assert to_number("Infinity") is None and to_number("NaN") is None
    assert to_number(" 89981.85") == Decimal("89981.85")
    assert [to_bool(v) for v in ("Y", "N", "1", "0", "true", "", None)] == [
        True,
        False,
        True,
        False,
        True,
        None,
        None,
    ]


def test_date_fast_paths_keep_the_portal_offset() -> None:
    import datetime as dt

    dates = DateConverter(dt.timezone(dt.timedelta(hours=3)))
    assert dates.datetime("2024-09-17T08:32:49+03:00") == "2024-09-17T08:32:49+03:00"
    assert dates.datetime("2024-09-17T08:32:49") == "2024-09-17T08:32:49+03:00"  # naive: portal zone
    assert dates.date("2024-04-08T00:00:00+03:00") == "2024-04-08"
    with pytest.raises(ValueError, match="not a date"):
        dates.datetime("2024-13-45T99:00:00+03:00")


STREAMS = ["deals", "contacts", "companies", "leads", "activities"]
SEED = {"deals": 400, "contacts": 300, "companies": 200, "leads": 300, "activities": 300}


def _read_ahead_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "read ahead)" in r.getMessage()]


def test_later_streams_are_read_ahead_with_the_same_records(caplog: pytest.LogCaptureFixture) -> None:
    with Sandbox(seed=SEED, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), STREAMS)
        with caplog.at_level(logging.INFO):
            ahead = run_tap(config, catalog=catalog)
        one_by_one = run_tap({**config, "read_ahead_streams": 0}, catalog=catalog)
    ahead_streams = {line.split()[1].rstrip(":") for line in _read_ahead_lines(caplog)}
    assert len(ahead_streams) >= 3  # every large stream but the first came from a read-ahead
    for stream in STREAMS:
        assert ahead.ids(stream) == one_by_one.ids(stream) == sorted(ahead.ids(stream)), stream
        assert len(ahead.ids(stream)) == SEED[stream], stream
    order = [m["stream"] for m in ahead.messages if m["type"] == "RECORD"]
    changes = sum(1 for a, b in zip(order, order[1:], strict=False) if a != b)
    assert changes == len(STREAMS) - 1  # streams are still written one after another
    for stream in STREAMS:
        bookmark = ahead.last_state["bookmarks"][stream]
        assert "resume" not in bookmark and bookmark["replication_key_value"]


def test_killed_while_streams_are_read_ahead_resumes_without_loss() -> None:
    with Sandbox(seed=SEED, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), STREAMS)
        full = run_tap(config, catalog=catalog)
        for stop in (250, 700, 1200):
            first = run_tap(config, catalog=catalog, stop_after_records=stop)
            assert first.interrupted
            rest = run_tap(config, catalog=catalog, state=first.last_state)
            for stream in STREAMS:
                got = set(first.ids(stream)) | set(rest.ids(stream))
                assert got == set(full.ids(stream)), (stop, stream)
                assert len(rest.ids(stream)) == len(set(rest.ids(stream)))
            # Only the stream cut short is read again (no STATE within it: each is under 1,000 records).
            reread = [len(set(first.ids(s)) & set(rest.ids(s))) for s in STREAMS]
            assert sum(1 for n in reread if n) <= 1 and sum(reread) <= max(SEED.values()), (stop, reread)


def test_a_deselected_nested_property_is_still_dropped() -> None:
    """The SDK's per-record pruning is skipped only while no nested property is deselected."""
    with Sandbox(seed={"deals": 30}, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), ["deals"])
        entry = next(s for s in catalog["streams"] if s["tap_stream_id"] == "deals")
        crumb = ["properties", "UF_CRM_BUDGET", "properties", "currency"]
        entry["metadata"].append({"breadcrumb": crumb, "metadata": {"selected": False}})
        run = run_tap(config, catalog=catalog)
        plain = run_tap(config, catalog=select(discover(config), ["deals"]))
    budgets = [r["UF_CRM_BUDGET"] for r in run.records("deals") if r.get("UF_CRM_BUDGET")]
    assert budgets and all(set(b) == {"amount"} for b in budgets)
    assert any("currency" in r["UF_CRM_BUDGET"] for r in plain.records("deals") if r.get("UF_CRM_BUDGET"))
