"""singer-sdk's standard target tests, run against a sandbox portal.

Every standard stream is routed to crm.deal with operation "add" and no match key: the test streams'
columns are not deal fields, so they are dropped with a warning and each record adds one deal.
TargetRecordMissingKeyProperty is left out: it expects the run to stop with MissingKeyPropertiesError,
while this target dead-letters such a record and goes on (issue #5); test_bad_input.py checks that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.testing import get_target_test_class
from singer_sdk.testing.runners import TargetTestRunner
from singer_sdk.testing.suites import SingerTestSuite, target_tests
from singer_sdk.testing.target_tests import TargetRecordMissingKeyProperty

from bitrix24_sandbox import Sandbox
from target_bitrix24.target import TargetBitrix24

from .conftest import SPEED, all_rows, run_target

STREAM_FILES = resources.files("singer_sdk.testing") / "target_test_streams"


def standard_stream_names() -> set[str]:
    names = set()
    for entry in STREAM_FILES.iterdir():
        if entry.name.endswith(".singer"):
            for line in entry.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    names.add(json.loads(line).get("stream"))
    return {name for name in names if name}


APPLICABLE = SingerTestSuite(
    kind="target",
    tests=[test for test in target_tests.tests if test is not TargetRecordMissingKeyProperty],
)

_Standard = get_target_test_class(
    TargetBitrix24, config={}, include_target_tests=False, custom_suites=[APPLICABLE]
)


@pytest.fixture(scope="module")
def portal() -> Iterator[Sandbox]:
    with Sandbox(speed=SPEED) as sb:
        yield sb


class TestTargetBitrix24Standard(_Standard):  # type: ignore[misc, valid-type]
    @pytest.fixture
    def runner(self, portal: Sandbox, tmp_path: Path) -> TargetTestRunner:
        routes = {
            name: {"entity": "crm.deal", "operation": "add", "match_field": ""}
            for name in standard_stream_names()
        }
        config: dict[str, Any] = {
            "webhook_url": portal.webhook_url,
            "time_scale": SPEED,
            "streams": routes,
            "dead_letter_path": str(tmp_path / "dead.jsonl"),
            "max_failures": 1000,  # record_missing_required_property dead-letters its record, as it should
        }
        return TargetTestRunner(TargetBitrix24, config=config)


def test_encoded_strings_arrive_intact_through_a_stream_map(sandbox: Sandbox, base_config: dict) -> None:
    """The standard encoded-string stream, its `info` column mapped onto TITLE with a stream map."""
    lines = (STREAM_FILES / "encoded_string_data.singer").read_text(encoding="utf-8").splitlines()
    messages = [json.loads(line) for line in lines if line.strip()]
    expected = [
        m["record"]["info"] for m in messages if m["type"] == "RECORD" and m["stream"] == "test_strings"
    ]
    config = {
        **base_config,
        "streams": {"test_strings": {"entity": "crm.deal", "operation": "add", "match_field": ""}},
        "stream_maps": {"test_strings": {"TITLE": "info", "info": None}},
    }
    run = run_target(config, [m for m in messages if m.get("stream", "test_strings") == "test_strings"])
    assert run.error is None and run.dead == []
    titles = [row["TITLE"] for row in all_rows(sandbox, "crm.deal.list", {"select": ["ID", "TITLE"]})]
    assert titles == expected
