"""Bulk writers under comparison: 10,000 deal updates, and 10,000 upserts keyed by ORIGIN_ID.

Bitrix24 has no upsert method, so a peer's upsert is the code a user of that library writes: look the keys
up with ``crm.deal.list`` filtered by ``@ORIGIN_ID`` (50 keys per command, batched), then update the
deals found and add the rest. Our target is measured separately (bench/tapjobs.py) because it runs as its
own Singer process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .peers import Portal, b24pysdk_client, fast_bitrix, plain_http

KEY = "ORIGIN_ID"
CHUNK = 50


@dataclass(frozen=True)
class Item:
    """One record to write: ``ref`` is the deal ID (update) or the ORIGIN_ID key (upsert)."""

    ref: str
    fields: dict[str, Any]


Writer = Callable[[Portal, str, Sequence[Item]], dict[str, Any]]


def update_items(ids: Sequence[int], tag: str) -> list[Item]:
    return [Item(str(i), {"TITLE": f"{tag} {i}", "OPPORTUNITY": str(i % 997)}) for i in ids]


def upsert_items(count: int, tag: str) -> list[Item]:
    return [
        Item(f"bench-{i}", {KEY: f"bench-{i}", "TITLE": f"{tag} {i}", "OPPORTUNITY": str(i % 997)})
        for i in range(count)
    ]


def _chunks(values: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def _errors(batch_result: Any) -> int:
    return len(batch_result.result_error or {})


def b24pysdk_call_batches(portal: Portal, op: str, items: Sequence[Item]) -> dict[str, Any]:
    with plain_http(portal.domain):
        client = b24pysdk_client(portal)
        deal = client.crm.deal
        errors = 0
        found: dict[str, str] = {}
        if op == "upsert":
            lookups = [
                deal.list(select=["ID", KEY], filter={f"@{KEY}": keys})
                for keys in _chunks([item.ref for item in items])
            ]
            looked = client.call_batches(lookups).result
            errors += _errors(looked)
            answers = looked.result  # a list when the requests were a list
            for rows in answers.values() if isinstance(answers, dict) else answers:
                found.update({row[KEY]: row["ID"] for row in rows})
        writes = []
        for item in items:
            if op == "update":
                writes.append(deal.update(bitrix_id=int(item.ref), fields=item.fields))
            elif item.ref in found:
                writes.append(deal.update(bitrix_id=int(found[item.ref]), fields=item.fields))
            else:
                writes.append(deal.add(fields=item.fields))
        errors += _errors(client.call_batches(writes).result)
    return {"client_errors": errors}


def fast_bitrix24_call(portal: Portal, op: str, items: Sequence[Item]) -> dict[str, Any]:
    bitrix = fast_bitrix(portal)
    if op == "update":
        bitrix.call("crm.deal.update", [{"ID": int(item.ref), "fields": item.fields} for item in items])
        return {}
    lookups = [
        {"select": ["ID", KEY], "filter": {f"@{KEY}": keys}} for keys in _chunks([i.ref for i in items])
    ]
    rows = bitrix.call("crm.deal.list", lookups)
    found = {row[KEY]: row["ID"] for row in _flat(rows)}
    updates = [{"ID": int(found[i.ref]), "fields": i.fields} for i in items if i.ref in found]
    adds = [{"fields": i.fields} for i in items if i.ref not in found]
    if updates:
        bitrix.call("crm.deal.update", updates)
    if adds:
        bitrix.call("crm.deal.add", adds)
    return {}


def _flat(rows: Any) -> Iterator[dict[str, Any]]:
    """fast_bitrix24's call() flattens list answers, or returns one list per command: accept both."""
    for row in rows if isinstance(rows, (list, tuple)) else [rows]:
        if isinstance(row, list):
            yield from row
        elif isinstance(row, dict) and KEY in row:
            yield row


WRITERS: dict[str, Writer] = {
    "b24pysdk.call_batches": b24pysdk_call_batches,
    "fast_bitrix24.call": fast_bitrix24_call,
}
