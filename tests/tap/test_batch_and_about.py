"""BATCH messages in parquet (singer-sdk batch_config), and --about documenting every setting."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pyarrow.parquet as pq
import pytest
from tap_support import SPEED, discover, portal_ids, run_tap, select, tap_config

from bitrix24_sandbox import Sandbox
from tap_bitrix24.settings import CONFIG_SCHEMA


def test_batch_messages_in_parquet(tmp_path: Path) -> None:
    with Sandbox(seed={"deals": 120, "contacts": 30}, speed=SPEED) as sb:
        batch = {
            "encoding": {"format": "parquet", "compression": "gzip"},
            "storage": {"root": f"file://{tmp_path}", "prefix": "bitrix24-"},
        }
        config = tap_config(sb, batch_config=batch)
        run = run_tap(config, catalog=select(discover(config), ["deals", "contacts"]))
        deals, contacts = portal_ids(sb), portal_ids(sb, "crm.contact.list")
    batches = [m for m in run.messages if m["type"] == "BATCH"]
    assert {m["stream"] for m in batches} == {"deals", "contacts"}
    assert not [m for m in run.messages if m["type"] == "RECORD"]
    rows: dict[str, list[dict]] = {"deals": [], "contacts": []}
    for message in batches:
        assert message["encoding"]["format"] == "parquet"
        for url in message["manifest"]:
            rows[message["stream"]].extend(pq.read_table(urlparse(url).path).to_pylist())
    assert sorted(r["ID"] for r in rows["deals"]) == deals
    assert sorted(r["ID"] for r in rows["contacts"]) == contacts
    assert all(isinstance(r["CLOSED"], bool) for r in rows["deals"])
    bookmarks = run.last_state["bookmarks"]
    assert bookmarks["deals"]["replication_key"] == "DATE_MODIFY" and "resume" not in bookmarks["deals"]


def test_about_markdown_documents_every_setting() -> None:
    about = subprocess.run(
        [sys.executable, "-m", "tap_bitrix24.tap", "--about", "--format=markdown"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for name, prop in CONFIG_SCHEMA["properties"].items():
        assert f"| {name} |" in about, name
        assert prop.get("description"), f"setting {name} has no description"
    for capability in ("catalog", "discover", "state", "about", "stream-maps", "schema-flattening", "batch"):
        assert f"- `{capability}`" in about
    secrets = {n for n, p in CONFIG_SCHEMA["properties"].items() if p.get("secret")}
    assert secrets == {"webhook_url", "client_secret", "refresh_token"}


def test_progress_is_logged_per_stream(caplog: pytest.LogCaptureFixture) -> None:
    with Sandbox(seed={"deals": 3000}, speed=SPEED) as sb, caplog.at_level(logging.INFO):
        config = tap_config(sb)
        run_tap(config, catalog=select(discover(config), ["deals", "statuses"]))
        requests_sent = sb.counters()["requests"]
    lines = [r.getMessage() for r in caplog.records]
    done = next(line for line in lines if line.startswith("Stream deals done:"))
    match = re.match(r"Stream deals done: (\d+) records, (\d+) requests", done)
    assert match and int(match.group(1)) == 3000
    assert 1 <= int(match.group(2)) <= requests_sent
    assert any(line.startswith("Stream deals progress:") for line in lines)
    assert any(line.startswith("Stream statuses:") and "records" in line for line in lines)
