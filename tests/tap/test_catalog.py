"""catalog/catalog.json is the catalog discovered from the seeded sandbox; this test fails when it drifts.

Regenerate it after an intended change with:  BITRIX24_UPDATE_CATALOG=1 pytest tests/tap/test_catalog.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tap_support import SMALL_SEED, SPEED, discover, tap_config

from bitrix24_sandbox import Sandbox
from tap_bitrix24.tap import TapBitrix24

CATALOG = Path(__file__).resolve().parents[2] / "catalog" / "catalog.json"


def _text(catalog: dict) -> str:
    return json.dumps(catalog, indent=2, sort_keys=True) + "\n"


def test_committed_catalog_matches_discovery() -> None:
    with Sandbox(seed=SMALL_SEED, speed=SPEED) as sb:
        discovered = discover(tap_config(sb))
    if os.environ.get("BITRIX24_UPDATE_CATALOG"):
        CATALOG.parent.mkdir(exist_ok=True)
        CATALOG.write_text(_text(discovered))
    assert CATALOG.exists(), f"{CATALOG} is missing: run with BITRIX24_UPDATE_CATALOG=1"
    committed = json.loads(CATALOG.read_text())
    names = sorted(s["tap_stream_id"] for s in discovered["streams"])
    assert sorted(s["tap_stream_id"] for s in committed["streams"]) == names
    assert _text(committed) == _text(discovered), "catalog/catalog.json drifted from discovery"


def test_committed_catalog_drives_a_sync_without_discovery() -> None:
    """The tap builds its streams from a given catalog (as Meltano passes it) and reads with it."""
    committed = json.loads(CATALOG.read_text())
    streams = {s["tap_stream_id"] for s in committed["streams"]}
    expected = {"deals", "leads", "contacts", "companies", "activities", "invoices", "deal_categories"}
    assert expected | {"statuses", "currencies", "users", "departments"} <= streams
    assert any(name.startswith("smart_process_") for name in streams)
    with Sandbox(seed=SMALL_SEED, speed=SPEED) as sb:
        tap = TapBitrix24(config=tap_config(sb), catalog=committed)
        assert set(tap.streams) == streams
        assert sb.counters()["requests"] == 0, "building streams from a catalog must not call the portal"
