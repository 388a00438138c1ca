"""The benchmark harness measures what it claims: a small `make bench` read and write against the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.report import render
from bench.scenarios import read_section, write_section
from bitrix24_sandbox import Sandbox

SPEED = 1000.0

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def test_a_read_is_measured_in_its_own_process_and_checked(tmp_path: Path) -> None:
    with Sandbox(seed={"deals": 700}, speed=SPEED) as sb:
        section = read_section(
            sb, "deal", ["b24pysdk.as_list_fast", "fast_bitrix24.get_all"], SPEED, tmp_path / "l"
        )
    fast, get_all = section.runs
    assert section.size == 700 and section.ideal_s > 0
    for run in section.runs:
        assert run.result["verdict"] == "exact", run.error
        assert run.rows == 700 and run.refused_503 == run.refused_429 == 0
        assert run.virtual_s > 0 and run.real_s > 0 and 20 < run.maxrss_mb < 500
    assert fast.requests == 2  # the first page, then one chained batch of the 13 remaining pages
    assert get_all.commands == 14  # one page per 50 rows
    # b24pysdk always sends 50 chained commands: 37 run past the end with junk filters and still cost time
    assert fast.commands == 51 and fast.server_s > section.ideal_s


def test_a_short_read_is_reported_as_wrong_data(tmp_path: Path) -> None:
    """b24pysdk stops silently on an operating-time block (docs/peers.md): the harness must notice."""
    with Sandbox(seed={"deals": 700}, speed=SPEED, operating_limit=1.0) as sb:
        section = read_section(sb, "deal", ["b24pysdk.as_list_fast"], SPEED, tmp_path / "l")
    (run,) = section.runs
    assert run.error is None and run.refused_429 > 0
    assert run.result["verdict"].endswith("rows, expected 700") or "expected 700" in run.result["verdict"]
    text = render({"command": "t", "date": "d", "machine": "m", "elapsed_s": 1.0}, [section], [], [])
    assert "**wrong data**" in text


def test_writes_are_checked_on_the_portal(tmp_path: Path) -> None:
    with Sandbox(seed={"deals": 1200}, speed=SPEED) as sb:
        updates = write_section(sb, "update", 120, ["b24pysdk.call_batches"], SPEED, tmp_path / "l")
        upserts = write_section(sb, "upsert", 120, ["fast_bitrix24.call"], SPEED, tmp_path / "l")
    (update,) = updates.runs
    assert update.result["written"] == 120 and update.result["failures"] == 0 and update.requests == 3
    (upsert,) = upserts.runs
    assert upsert.result["written"] == 120 and upsert.result["duplicates"] == 0
