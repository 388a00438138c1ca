"""Review of the read-ahead and own-parquet paths against the tap's guarantees, over real HTTP: one
OAuth renewal per run, BATCH state covering only announced records (SIGTERM), unconvertible values
reported with stream, record and field, background reads stopped when a run ends early, server
failures never leaving a stream marked complete, parquet files keeping every column."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.parquet as pq
import pytest
from tap_support import SPEED, Run, _Capture, discover, oauth_config, portal_ids, run_tap, select, tap_config

from bitrix24_core.error import BitrixAPIError
from bitrix24_sandbox import Sandbox
from tap_bitrix24.records import ValueConversionError
from tap_bitrix24.tap import TapBitrix24

STREAMS = ["deals", "contacts", "companies", "leads", "activities"]


def test_oauth_run_with_streams_read_ahead_renews_the_token_once(tmp_path: Path) -> None:
    """Background reads start with the first stream: they must share one renewal, or the rotated
    refresh token kills all but the first of them."""
    with Sandbox(seed={s: 60 for s in STREAMS}, speed=SPEED) as sb:
        token_file = tmp_path / "refresh_token"
        config = oauth_config(sb, token_file)
        catalog = select(discover(config), STREAMS)
        after_discovery = token_file.read_text()
        for _ in range(3):
            run = run_tap(config, catalog=catalog)
            for stream in STREAMS:
                assert len(run.ids(stream)) == 60, stream
        assert token_file.read_text() != after_discovery


def _batch_ids(messages: list[dict], stream: str) -> list[int]:
    return [
        i
        for m in messages
        if m["type"] == "BATCH" and m["stream"] == stream
        for url in m["manifest"]
        for i in pq.read_table(urlparse(url).path).column("ID").to_pylist()
    ]


def _run_cli(config: Path, catalog: Path, state: dict | None, tmp_path: Path) -> subprocess.Popen[str]:
    args = [sys.executable, "-m", "tap_bitrix24.tap", "--config", str(config), "--catalog", str(catalog)]
    if state is not None:
        state_file = tmp_path / "state.json"
        state_file.write_text(json.dumps(state))
        args += ["--state", str(state_file)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def test_batch_run_stopped_by_sigterm_resumes_without_loss(tmp_path: Path) -> None:
    """On SIGTERM singer-sdk writes the state as it is: in BATCH mode it must cover only records
    already announced in a BATCH message, not those still waiting for their parquet file."""
    batch_config = {
        "encoding": {"format": "parquet", "compression": "gzip"},
        "storage": {"root": f"file://{tmp_path}"},
        "batch_size": 10_000,
    }
    with Sandbox(seed={"deals": 6000}, speed=SPEED) as sb:
        config_data = {**tap_config(sb), "batch_config": batch_config}
        config = tmp_path / "config.json"
        config.write_text(json.dumps(config_data))
        catalog = tmp_path / "catalog.json"
        catalog.write_text(json.dumps(select(discover(config_data), ["deals"])))
        second_batch = threading.Event()
        calls: list[str] = []

        def hold_second_batch(method: str) -> None:
            calls.append(method)
            if calls.count("batch") == 2 and not second_batch.is_set():
                second_batch.set()
                time.sleep(2.0)  # the tap meanwhile converts the first 2,500 deals

        sb.set_hook(hold_second_batch)
        tap = _run_cli(config, catalog, None, tmp_path)
        assert second_batch.wait(60)
        time.sleep(1.0)
        tap.send_signal(signal.SIGTERM)
        out, _ = tap.communicate(timeout=60)
        sb.set_hook(None)
        first = [json.loads(line) for line in out.splitlines() if line.strip()]
        states = [m["value"] for m in first if m["type"] == "STATE"]
        rest = _run_cli(config, catalog, states[-1] if states else None, tmp_path)
        out, _ = rest.communicate(timeout=120)
        assert rest.returncode == 0
        second = [json.loads(line) for line in out.splitlines() if line.strip()]
        every = portal_ids(sb)
    assert set(_batch_ids(first, "deals")) | set(_batch_ids(second, "deals")) == set(every)


def test_a_value_that_cannot_convert_stops_the_sync_naming_stream_record_and_field() -> None:
    """A catalog typing TITLE as an integer: the sync must fail loudly, saying where, and the state
    must not present the stream as read completely."""
    with Sandbox(seed={"deals": 30}, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), ["deals"])
        entry = next(s for s in catalog["streams"] if s["tap_stream_id"] == "deals")
        entry["schema"]["properties"]["TITLE"] = {"type": ["integer", "null"]}
        first_id = portal_ids(sb)[0]
        with pytest.raises(ValueConversionError) as caught:
            run_tap(config, catalog=catalog)
    text = str(caught.value)
    assert "deals" in text and f"ID={first_id}" in text and "field TITLE" in text, text


def _open_spools() -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if "tap-bitrix24-" in os.readlink(f"/proc/self/fd/{fd}"):
                found.append(fd)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_a_run_ending_early_stops_the_streams_read_ahead_and_closes_their_spools() -> None:
    with Sandbox(seed={s: 3000 for s in STREAMS}, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), STREAMS)
        before = len(_open_spools())
        run = run_tap(config, catalog=catalog, stop_after_records=100)
        assert run.interrupted
        assert len(_open_spools()) == before, "spool files of the streams read ahead left open"
        deadline = time.monotonic() + 10
        while any(t.name.startswith("tap-bitrix24-ahead-") for t in threading.enumerate()):
            assert time.monotonic() < deadline, "background reads still running after the run ended"
            time.sleep(0.05)


def test_a_server_failing_mid_sync_raises_and_no_stream_is_presented_complete() -> None:
    """The portal starts failing for good while streams are read ahead: the run raises the server's
    error, and every stream the last STATE marks complete was emitted whole."""
    with Sandbox(seed={s: 3000 for s in STREAMS}, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), STREAMS)
        methods = {s: f"crm.{s[:-1]}.list" for s in STREAMS}
        methods.update(companies="crm.company.list", activities="crm.activity.list")
        expected = {s: set(portal_ids(sb, m)) for s, m in methods.items()}
        calls: list[str] = []

        def fail_for_good(method: str) -> None:
            calls.append(method)
            if calls.count("batch") == 8:
                sb.set_faults("500=1.0")

        sb.set_hook(fail_for_good)
        capture = _Capture(None)
        with contextlib.redirect_stdout(capture), pytest.raises(BitrixAPIError, match="500"):  # type: ignore[type-var]
            TapBitrix24(config=config, catalog=catalog).sync_all()
        sb.set_hook(None)
        sb.set_faults(None)
    run = Run([json.loads(line) for line in capture.lines])
    states = run.states
    complete = {
        s
        for s, b in (states[-1]["bookmarks"] if states else {}).items()
        if b.get("replication_key_value") and "resume" not in b
    }
    assert complete != set(STREAMS), "the failure came too late to test anything"
    for stream in complete:
        assert set(run.ids(stream)) == expected[stream], stream


def test_batch_files_keep_fields_the_first_record_of_a_file_lacks(tmp_path: Path) -> None:
    """Bitrix omits empty multifields (PHONE, EMAIL, ...) from a record: a parquet file must still
    hold them for every later record that has them, as RECORD messages do."""
    with Sandbox(seed={"contacts": 60, "leads": 60}, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = select(discover(config), ["contacts", "leads"])
        plain = run_tap(config, catalog=catalog)
        batch_config = {"encoding": {"format": "parquet"}, "storage": {"root": f"file://{tmp_path}"}}
        batched = run_tap({**config, "batch_config": batch_config}, catalog=catalog)
    for stream in ("contacts", "leads"):
        rows = {
            row["ID"]: row
            for m in batched.messages
            if m["type"] == "BATCH" and m["stream"] == stream
            for url in m["manifest"]
            for row in pq.read_table(urlparse(url).path).to_pylist()
        }
        records = plain.records(stream)
        assert set(rows) == {r["ID"] for r in records}
        assert not all("PHONE" in r for r in records), "every record has PHONE: nothing tested"
        for record in records:
            for field in ("PHONE", "EMAIL", "WEB", "IM"):
                want = sorted(v["VALUE"] for v in record.get(field) or [])
                got = sorted(v["VALUE"] for v in rows[record["ID"]].get(field) or [])
                assert got == want, (stream, record["ID"], field)
