"""Readers of a large stream: each walks its own ID range, and its cursor is kept in the state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bitrix24_core.lists import split_range


@dataclass(frozen=True)
class Reader:
    """One reader's share of the IDs that existed when the read started: [low, high], of which
    every ID up to `after` has been emitted already."""

    low: int
    high: int
    after: int

    @property
    def key(self) -> str:
        return f"{self.low}:{self.high}"

    @property
    def done(self) -> bool:
        return self.after >= self.high

    @property
    def remaining(self) -> tuple[int, int]:
        """The inclusive ID range still to read (bitrix24_core's IdRange)."""
        return (max(self.low, self.after + 1), self.high)

    @classmethod
    def from_key(cls, key: str, after: int) -> Reader:
        low, _, high = key.partition(":")
        return cls(int(low), int(high), after)


def plan_readers(cursors: Mapping[str, int], max_id: int | None, parallelism: int) -> list[Reader]:
    """A resumed read keeps its readers' ranges; a new one splits [0, max_id] between the readers.
    Records created after the read started are left to the next run (their dates are later)."""
    if cursors:
        readers = [Reader.from_key(key, after) for key, after in cursors.items()]
        return sorted(readers, key=lambda r: r.low)
    if max_id is None:
        return []
    count = max(1, min(parallelism, max_id // 50 or 1))
    return [Reader(low, high, low - 1) for low, high in split_range(0, max_id, count)]
