"""Readers of a large stream: each walks its own ID range, and its cursor is kept in the state.

A fresh read lets the core split the span (fewer requests: the ranges' tails share batches), so its
ranges are known only as their pages arrive: the state starts with one untouched range [0, max ID],
and each range the core announces is cut out of the untouched range holding it (`claim_range`), so the
state's ranges always cover the whole span and a resume reads each with its own cursor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

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


class Claim(NamedTuple):
    """A core range cut out of the state's ranges: `old` is replaced by `new`; `key` is the range's."""

    old: str
    new: dict[str, int]
    key: str


def claim_range(cursors: Mapping[str, int], low: int, high: int, opening: bool) -> Claim:
    """Cut the core's range [low, high] out of the untouched state range holding it. The opening range
    (the first) also takes the IDs below it: its first page started at the span's low end."""
    for key, after in cursors.items():
        reader = Reader.from_key(key, after)
        if reader.low <= low <= reader.high:
            break
    else:
        raise RuntimeError(f"the core read IDs {low}:{high} outside every range of the state")
    if after != reader.low - 1 or high > reader.high:
        raise RuntimeError(f"the core read IDs {low}:{high} inside range {key}, already being read")
    start = reader.low if opening else low
    new: dict[str, int] = {}
    if start > reader.low:
        new[f"{reader.low}:{start - 1}"] = reader.low - 1
    new[f"{start}:{high}"] = start - 1
    if high < reader.high:
        new[f"{high + 1}:{reader.high}"] = high
    return Claim(key, new, f"{start}:{high}")
