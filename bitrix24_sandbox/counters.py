"""Counters for tests and benchmarks: what the portal was asked and what it answered."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from typing import Any


def rows_in(result: Any) -> int:
    """Rows a list answer carried: a JSON list, or the list under items/types/categories."""
    if isinstance(result, list):
        return len(result)
    if isinstance(result, dict):
        for key in ("items", "types", "categories"):
            value = result.get(key)
            if isinstance(value, list):
                return len(value)
    return 0


class Counters:
    """Thread-safe tallies.

    requests: HTTP requests to /rest/ (refused ones included); commands: methods executed (a batch's
    commands each count, the batch itself does not); rows: rows returned by list answers (answers with a
    `total`, or of a `*.list` method); server_time:
    simulated seconds per method; calls: executions per method; refusals: 503 QUERY_LIMIT_EXCEEDED and 429
    OPERATION_TIME_LIMIT by code; errors: every error answered (batch commands included) by code;
    faults: injected faults by kind; token_refreshes: successful /oauth/token/ calls.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._requests = 0
            self._commands = 0
            self._rows = 0
            self._token_refreshes = 0
            self._server_time: defaultdict[str, float] = defaultdict(float)
            self._calls: Counter[str] = Counter()
            self._refusals: Counter[str] = Counter()
            self._errors: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()

    def request(self) -> None:
        with self._lock:
            self._requests += 1

    def command(self, method: str, cost: float, result: Any, listing: bool) -> None:
        """One executed method; `listing` = a list answer, whose rows count."""
        with self._lock:
            self._commands += 1
            self._calls[method] += 1
            self._server_time[method] += cost
            if listing:
                self._rows += rows_in(result)

    def refusal(self, code: str) -> None:
        with self._lock:
            self._refusals[code] += 1
            self._errors[code] += 1

    def error(self, code: str) -> None:
        with self._lock:
            self._errors[code] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def token_refresh(self) -> None:
        with self._lock:
            self._token_refreshes += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self._requests,
                "commands": self._commands,
                "rows": self._rows,
                "token_refreshes": self._token_refreshes,
                "server_time": dict(self._server_time),
                "calls": dict(self._calls),
                "refusals": dict(self._refusals),
                "errors": dict(self._errors),
                "faults": dict(self._faults),
            }
