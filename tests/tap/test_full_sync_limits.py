"""A full sync of 100,000 deals, every field and custom field selected, stays inside the standard plan's
limits: the sandbox counts zero QUERY_LIMIT_EXCEEDED and zero OPERATION_TIME_LIMIT answers.

The tap runs as its own process (as Meltano runs it), so the sandbox and the tap use both cores.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tap_support import discover, select, tap_config

from bitrix24_sandbox import Sandbox

SPEED = 1000.0
DEALS = 100_000


@pytest.mark.slow
def test_full_sync_of_100k_deals_sees_no_limit_refusals(tmp_path: Path) -> None:
    with Sandbox(seed={"deals": DEALS}, speed=SPEED, plan="standard") as sb:
        config = tap_config(sb, time_scale=SPEED)
        catalog = select(discover(config), ["deals"])
        properties = next(s for s in catalog["streams"] if s["tap_stream_id"] == "deals")["schema"][
            "properties"
        ]
        assert any(name.startswith("UF_CRM_") for name in properties), "custom fields must be in the catalog"
        (tmp_path / "config.json").write_text(json.dumps(config))
        (tmp_path / "catalog.json").write_text(json.dumps(catalog))
        sb.reset_counters()
        started = time.monotonic()
        tap = subprocess.Popen(
            [sys.executable, "-m", "tap_bitrix24.tap", "--config", str(tmp_path / "config.json")]
            + ["--catalog", str(tmp_path / "catalog.json")],
            stdout=subprocess.PIPE,
            stderr=(tmp_path / "tap.log").open("w"),
            text=True,
        )
        assert tap.stdout is not None
        ids: set[int] = set()
        count = 0
        sample: dict = {}
        for line in tap.stdout:
            if line.startswith('{"type":"RECORD"'):
                record = json.loads(line)["record"]
                ids.add(record["ID"])
                count += 1
                sample = sample or record
        assert tap.wait(timeout=120) == 0, (tmp_path / "tap.log").read_text()[-3000:]
        elapsed = time.monotonic() - started
        counters = sb.counters()

    assert count == DEALS and len(ids) == DEALS, "every deal exactly once"
    assert set(sample) == set(properties), "all selected fields, custom fields included, were read"
    refusals = {code.upper(): n for code, n in counters["refusals"].items()}
    assert refusals.get("QUERY_LIMIT_EXCEEDED", 0) == 0
    assert refusals.get("OPERATION_TIME_LIMIT", 0) == 0
    assert not counters["errors"], counters["errors"]
    assert counters["requests"] <= DEALS / 2500 + 10, "fast reads chain 50 pages per HTTP call"
    print(f"100k deals: {elapsed:.1f} s, {counters['requests']} requests, {counters['commands']} commands")
