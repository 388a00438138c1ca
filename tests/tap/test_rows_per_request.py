"""A fresh parallel read lets the core split the span, so the readers' last pages share batches: 100,000
deals take as many HTTP requests at parallelism 8 (or 2) as one reader does: the core's 41, with no probe of
the tap's own (the core's opening batch gives the portal time and the max ID); one range per reader,
each ending with its own part-filled batch, took 45."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tap_support import discover, select, tap_config

from bitrix24_sandbox import Sandbox

SPEED = 1000.0
DEALS = 100_000


def _sync(tmp_path: Path, sb: Sandbox, config: dict, catalog: dict) -> tuple[list[int], int]:
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    sb.reset_counters()
    done = subprocess.run(
        [sys.executable, "-m", "tap_bitrix24.tap", "--config", str(tmp_path / "config.json")]
        + ["--catalog", str(tmp_path / "catalog.json")],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ids = [json.loads(line)["record"]["ID"] for line in done.stdout.splitlines() if '"RECORD"' in line]
    return ids, sb.counters()["requests"]


@pytest.mark.slow
@pytest.mark.parametrize("parallelism", [8, 2])
def test_100k_deals_take_41_requests(tmp_path: Path, parallelism: int) -> None:
    with Sandbox(seed={"deals": DEALS}, speed=SPEED, plan="unlimited") as sb:
        config = tap_config(sb, time_scale=SPEED, parallelism=parallelism, read_ahead_streams=0)
        catalog = select(discover(config), ["deals"], {"deals": ["COMMENTS", "ADDITIONAL_INFO"]})
        ids, requests = _sync(tmp_path, sb, config, catalog)
    assert len(ids) == DEALS and len(set(ids)) == DEALS, "every deal exactly once"
    # No probe of the tap's own: the core's opening batch (portal time, max ID, 49 pages)
    # + 39 full batches + 1 of packed tails.
    assert requests <= 41, f"{requests} requests ({DEALS / requests:.0f} rows per request)"
