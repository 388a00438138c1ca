"""Fixtures for target tests: a sandbox portal over real HTTP, a way to run the target on Singer
messages in-process, and readers of the portal's final state (straight from the data plane, so the
check itself is not subject to injected faults)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bitrix24_sandbox import Sandbox
from target_bitrix24.target import TargetBitrix24

SPEED = 1000.0


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(speed=SPEED) as sb:
        yield sb


@pytest.fixture
def base_config(sandbox: Sandbox, tmp_path: Path) -> dict[str, Any]:
    return {
        "webhook_url": sandbox.webhook_url,
        "time_scale": SPEED,
        "request_timeout": 10.0,
        "dead_letter_path": str(tmp_path / "dead.jsonl"),
    }


def schema_message(stream: str, properties: Mapping[str, Any], keys: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": dict(properties)},
        "key_properties": list(keys),
    }


def record_messages(stream: str, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "RECORD", "stream": stream, "record": dict(r)} for r in records]


@dataclass
class Run:
    target: TargetBitrix24
    error: BaseException | None
    dead_path: Path
    stdout: str = ""
    dead: list[dict[str, Any]] = field(default_factory=list)

    def tally(self, stream: str) -> dict[str, Any]:
        return self.target.ledger.tally(stream).as_dict()


def run_target(config: Mapping[str, Any], messages: Iterable[Mapping[str, Any]]) -> Run:
    """Run the target in-process on the messages; the error (if any) is returned, not raised."""
    text = "".join(json.dumps(m) + "\n" for m in messages)
    target = TargetBitrix24(config=dict(config))
    error: BaseException | None = None
    try:
        target.listen(io.StringIO(text))
    except Exception as exc:
        error = exc
    dead_path = Path(config["dead_letter_path"])
    dead = [json.loads(line) for line in dead_path.read_text().splitlines()] if dead_path.exists() else []
    return Run(target, error, dead_path, dead=dead)


def all_rows(
    sb: Sandbox, method: str, params: Mapping[str, Any] | None = None, key: str = "ID"
) -> list[dict]:
    """Every row of a list method, read from the portal object (no HTTP, no faults)."""
    rows: list[dict] = []
    last = 0
    while True:
        query = dict(params or {})
        query["filter"] = {**query.get("filter", {}), f">{key}": last}
        query["order"] = {key: "ASC"}
        query["start"] = -1
        result = sb.portal.dispatch(method, query).result
        page = result["items"] if isinstance(result, dict) else result
        rows.extend(page)
        if len(page) < 50:
            return rows
        last = int(page[-1][key])
