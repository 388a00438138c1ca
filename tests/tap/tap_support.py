"""Helpers for the tap tests: a sped-up sandbox portal and an in-process tap run that captures the
Singer messages (optionally crashing after N records, like a killed process)."""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from typing import Any

import requests

from bitrix24_sandbox import Sandbox
from tap_bitrix24.tap import TapBitrix24

SPEED = 1000.0
SMALL_SEED = {
    "departments": 3,
    "users": 5,
    "companies": 20,
    "contacts": 30,
    "leads": 30,
    "deals": 60,
    "activities": 40,
    "items": 20,
    "invoices": 10,
}


def tap_config(sb: Sandbox, **extra: Any) -> dict[str, Any]:
    return {"webhook_url": sb.webhook_url, "time_scale": SPEED, "lookback_seconds": 60, **extra}


class Interrupted(Exception):
    """Raised by the capturing stdout after N records: the tap dies mid-write."""


class _Capture(io.TextIOBase):
    def __init__(self, stop_after_records: int | None) -> None:
        self.lines: list[str] = []
        self._partial = ""
        self._records = 0
        self._stop = stop_after_records

    def write(self, text: str) -> int:
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            if not line.strip():
                continue
            if self._stop is not None and '"type":"RECORD"' in line.replace(" ", ""):
                if self._records >= self._stop:
                    raise Interrupted(f"killed after {self._records} records")
                self._records += 1
            self.lines.append(line)
        return len(text)


@dataclass
class Run:
    messages: list[dict[str, Any]]
    interrupted: bool = False
    logs: list[str] = field(default_factory=list)

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream]

    def ids(self, stream: str, key: str = "ID") -> list[int]:
        return [int(r[key]) for r in self.records(stream)]

    def streams(self) -> set[str]:
        return {m["stream"] for m in self.messages if m["type"] == "RECORD"}

    @property
    def states(self) -> list[dict[str, Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, Any]:
        return self.states[-1] if self.states else {}

    def schema(self, stream: str) -> dict[str, Any]:
        return next(m["schema"] for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream)


def run_tap(
    config: dict[str, Any],
    *,
    state: dict[str, Any] | None = None,
    catalog: dict[str, Any] | None = None,
    stop_after_records: int | None = None,
) -> Run:
    """Run the tap in-process and parse what it writes to stdout."""
    capture = _Capture(stop_after_records)
    interrupted = False
    with contextlib.redirect_stdout(capture):  # type: ignore[type-var]
        tap = TapBitrix24(config=config, state=state, catalog=catalog)
        try:
            tap.sync_all()
        except Interrupted:
            interrupted = True
    return Run([json.loads(line) for line in capture.lines], interrupted=interrupted)


def discover(config: dict[str, Any]) -> dict[str, Any]:
    return TapBitrix24(config=config).catalog_dict


def select(
    catalog: dict[str, Any], streams: list[str], deselect_fields: dict[str, list[str]] | None = None
) -> dict:
    """A copy of `catalog` with only `streams` selected (and, per stream, some fields deselected)."""
    out = json.loads(json.dumps(catalog))
    deselect_fields = deselect_fields or {}
    for entry in out["streams"]:
        chosen = entry["tap_stream_id"] in streams
        for meta in entry["metadata"]:
            crumb = meta["breadcrumb"]
            if not crumb:
                meta["metadata"]["selected"] = chosen
            elif crumb[-1] in deselect_fields.get(entry["tap_stream_id"], []):
                meta["metadata"]["selected"] = False
            else:
                meta["metadata"]["selected"] = True
    return out


def portal_ids(sb: Sandbox, method: str = "crm.deal.list", key: str = "ID", **params: Any) -> list[int]:
    """Every ID the portal lists, read directly over HTTP (the reference the tap is compared with)."""
    ids: list[int] = []
    while True:
        body = {**params, "order": {key: "ASC"}, "filter": {f">{key}": ids[-1] if ids else 0}}
        body.update({"select": [key], "start": -1})
        result = requests.post(sb.webhook_url + method, json=body, timeout=30).json()["result"]
        rows = result["items"] if isinstance(result, dict) else result
        ids.extend(int(r[key]) for r in rows)
        if len(rows) < 50:
            return ids


def oauth_config(sb: Sandbox, token_file: Any) -> dict[str, Any]:
    """Tap settings for the sandbox's OAuth app, keeping the rotated refresh token in ``token_file``."""
    oauth = sb.oauth
    return {
        "domain": sb.base_url,
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
        "refresh_token": oauth.refresh_token,
        "refresh_token_file": str(token_file),
        "oauth_server": oauth.server,
        "time_scale": SPEED,
    }
