"""Shared helpers of the core API plane's tests (test_client, test_lists, test_batch, test_seed_examples)."""

from __future__ import annotations

from typing import Any

from bitrix24_core import BitrixWebhook, Client
from bitrix24_sandbox import Sandbox

SPEED = 1000.0


def make_client(sb: Sandbox, **overrides: Any) -> Client:
    """A client on the sandbox's webhook, at the sandbox's speed factor."""
    return Client(BitrixWebhook(sb.webhook_url), time_scale=SPEED, **overrides)


def stored_ids(sb: Sandbox, table: str, where: str = "1", params: list[Any] | None = None) -> list[int]:
    """The IDs the portal really holds (read from its store, not through the SDK), ascending."""
    rows = sb.portal.store.query(table, where, params or [], "id ASC", None)
    return sorted(int(r["ID"] if "ID" in r else r["id"]) for r in rows)


def ids(rows: Any, key: str = "ID") -> list[int]:
    return [int(row[key]) for row in rows]


def requests_made(sb: Sandbox) -> int:
    """HTTP requests the portal has counted since its counters were last reset."""
    return int(sb.counters()["requests"])
