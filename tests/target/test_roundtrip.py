"""tap-bitrix24 reads portal A, target-bitrix24 writes portal B: B ends up with equal data.

Both are the real command-line programs. Records are matched by their source ID (a stream map puts
it into ORIGIN_ID, or xmlId for smart-process items). Links to other records (COMPANY_ID, ...) are
dropped by the stream map: their IDs belong to portal A. Read-only fields (dates of creation, IDs)
and file fields are the portal's own and are not compared.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bitrix24_sandbox import Sandbox

from .conftest import SPEED, all_rows

BIN = Path(sys.executable).parent
STREAMS = {"companies": "crm.company", "contacts": "crm.contact", "deals": "crm.deal", "leads": "crm.lead"}
LINKS = ("COMPANY_ID", "CONTACT_ID", "CONTACT_IDS", "COMPANY_IDS", "LEAD_ID", "QUOTE_ID")
ITEM_LINKS = ("companyId", "contactId", "contactIds", "mycompanyId")
MULTI = ("PHONE", "EMAIL", "WEB", "IM", "LINK")


def read_portal_a(a: Sandbox, tmp_path: Path) -> str:
    config = tmp_path / "tap.json"
    config.write_text(json.dumps({"webhook_url": a.webhook_url, "time_scale": SPEED}))
    tap = str(BIN / "tap-bitrix24")
    found = subprocess.run(
        [tap, "--config", str(config), "--discover"], capture_output=True, text=True, timeout=120
    )
    assert found.returncode == 0, found.stderr[-2000:]
    catalog = json.loads(found.stdout)
    wanted = {*STREAMS, "smart_process_128"}
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = stream["tap_stream_id"] in wanted
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps(catalog))
    read = subprocess.run(
        [tap, "--config", str(config), "--catalog", str(catalog_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert read.returncode == 0, read.stderr[-2000:]
    return read.stdout


def write_portal_b(b: Sandbox, singer: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    by_source = {"ORIGIN_ID": "str(ID)", **{link: None for link in LINKS}}
    config: dict[str, Any] = {
        "webhook_url": b.webhook_url,
        "time_scale": SPEED,
        "default_match_field": "ORIGIN_ID",
        "dead_letter_path": str(tmp_path / "dead.jsonl"),
        "streams": {"smart_process_128": {"match_field": "xmlId"}},
        "stream_maps": {
            **{stream: by_source for stream in STREAMS},
            "smart_process_128": {"xmlId": "str(id)", **{link: None for link in ITEM_LINKS}},
        },
    }
    path = tmp_path / "target.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [str(BIN / "target-bitrix24"), "--config", str(path)],
        input=singer,
        capture_output=True,
        text=True,
        timeout=300,
    )


def comparable(row: dict, skip: set[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in skip:
            continue
        if key in MULTI and isinstance(value, list):
            value = sorted((v["VALUE"], v["VALUE_TYPE"]) for v in value)
        out[key] = None if value in ("", [], None) else value
    return out


def writable_skip(sb: Sandbox, method: str, params: dict[str, Any], extra: tuple[str, ...]) -> set[str]:
    meta = sb.portal.dispatch(method, params).result
    meta = meta.get("fields", meta)
    skip = {name for name, m in meta.items() if m.get("isReadOnly") or m.get("type") in ("file", "diskfile")}
    return skip | set(extra)


def test_tap_to_target_copy_leaves_equal_data(tmp_path: Path) -> None:
    seed = {"companies": 15, "contacts": 40, "deals": 60, "leads": 25, "items": 20}
    with Sandbox(seed=seed, speed=SPEED) as a, Sandbox(speed=SPEED) as b:
        b.portal.seed({"items": 0})  # the same smart-process types exist on B
        singer = read_portal_a(a, tmp_path)
        first = write_portal_b(b, singer, tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        second = write_portal_b(b, singer, tmp_path)  # copying again changes nothing
        assert second.returncode == 0, second.stderr[-3000:]
        assert not (tmp_path / "dead.jsonl").exists()

        for stream, entity in STREAMS.items():
            select = {"select": ["*", "UF_*", *MULTI]}
            skip = writable_skip(a, f"{entity}.fields", {}, (*LINKS, "ORIGIN_ID"))
            rows_a = {str(r["ID"]): comparable(r, skip) for r in all_rows(a, f"{entity}.list", select)}
            rows_b = {r["ORIGIN_ID"]: comparable(r, skip) for r in all_rows(b, f"{entity}.list", select)}
            assert len(rows_a) == seed[stream] and rows_a == rows_b, stream

        item = {"entityTypeId": 128, "select": ["*"]}
        skip = writable_skip(a, "crm.item.fields", {"entityTypeId": 128}, (*ITEM_LINKS, "xmlId"))
        items_a = {str(r["id"]): comparable(r, skip) for r in all_rows(a, "crm.item.list", item, key="id")}
        items_b = {r["xmlId"]: comparable(r, skip) for r in all_rows(b, "crm.item.list", item, key="id")}
        assert items_a and items_a == items_b
