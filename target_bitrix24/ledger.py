"""Every record's fate: per-stream counts of what was written and what was dead-lettered."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from target_bitrix24.deadletter import DeadLetterFile

OUTCOMES = ("added", "updated", "would_add", "would_update", "failed")


@dataclass
class StreamTally:
    """Counts for one stream; received == added + updated + would_add + would_update + failed at the end."""

    stream: str
    entity: str = ""
    operation: str = ""
    received: int = 0
    added: int = 0
    updated: int = 0
    would_add: int = 0
    would_update: int = 0
    failed: int = 0
    merged: int = 0
    write_requests: int = 0
    lookup_requests: int = 0
    retries: int = 0

    @property
    def settled(self) -> int:
        return sum(getattr(self, outcome) for outcome in OUTCOMES)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Ledger:
    """Shared by all sinks of a run; the only place a record's outcome is recorded."""

    def __init__(self, dead_letter: DeadLetterFile) -> None:
        self.dead_letter = dead_letter
        self.tallies: dict[str, StreamTally] = {}
        self._lock = threading.Lock()

    def tally(self, stream: str) -> StreamTally:
        with self._lock:
            return self.tallies.setdefault(stream, StreamTally(stream))

    def received(self, stream: str, count: int = 1) -> None:
        self.tally(stream).received += count

    def settle(self, stream: str, outcome: str, count: int = 1) -> None:
        if outcome not in OUTCOMES or outcome == "failed":
            raise ValueError(f"not a success outcome: {outcome}")
        tally = self.tally(stream)
        setattr(tally, outcome, getattr(tally, outcome) + count)

    def fail(self, stream: str, record: Mapping[str, Any], code: str, description: str, **extra: Any) -> None:
        self.dead_letter.write(stream, record, code or "ERROR", description, **extra)
        self.tally(stream).failed += 1

    @property
    def failures(self) -> int:
        return sum(tally.failed for tally in self.tallies.values())

    @property
    def unsettled(self) -> int:
        return sum(tally.received - tally.settled for tally in self.tallies.values())

    def summary(self) -> list[dict[str, Any]]:
        return [tally.as_dict() for tally in self.tallies.values()]
