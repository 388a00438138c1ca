"""Faults on demand: a seeded share of requests, or an explicit queue for the next requests."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

# Order matters: one uniform draw per request walks these shares in this order.
KINDS = ("503", "500", "html502", "drop", "slow", "expired")
# Refused before any work: nothing ran. The others strike after the work was done and written.
BEFORE_WORK = frozenset({"503", "expired"})
DEFAULT_SLOW_DELAY = 5.0  # real seconds the answer is held back by a "slow" fault


@dataclass(frozen=True)
class FaultSpec:
    shares: dict[str, float]
    slow_delay: float = DEFAULT_SLOW_DELAY

    @classmethod
    def parse(cls, spec: str | None) -> FaultSpec:
        """`"503=0.05,500=0.02,html502=0.01,drop=0.01,slow=0.01,expired=0.01,slow_delay=3"`."""
        shares: dict[str, float] = {}
        slow_delay = DEFAULT_SLOW_DELAY
        for item in (spec or "").split(","):
            item = item.strip()
            if not item:
                continue
            name, sep, raw = item.partition("=")
            name = name.strip().lower()
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"fault {item!r}: expected name=number") from None
            if not sep or value < 0:
                raise ValueError(f"fault {item!r}: expected name=non-negative number")
            if name == "slow_delay":
                slow_delay = value
            elif name in KINDS:
                shares[name] = value
            else:
                raise ValueError(f"unknown fault {name!r}; expected one of {', '.join(KINDS)}, slow_delay")
        if sum(shares.values()) > 1.0:
            raise ValueError(f"fault shares add up to more than 1: {spec!r}")
        return cls(shares=shares, slow_delay=slow_delay)


class Faults:
    """Decides, per REST request, which fault (if any) strikes it.

    Deterministic: the draws come from `random.Random(seed)` in request arrival order. Queued faults
    (`queue()`) take precedence and strike the next matching requests exactly.
    """

    def __init__(self, spec: str | None = None, seed: int = 1) -> None:
        self._lock = threading.Lock()
        self._queue: list[tuple[str, str | None]] = []
        self.configure(spec, seed)

    def configure(self, spec: str | None, seed: int = 1) -> None:
        parsed = FaultSpec.parse(spec)
        with self._lock:
            self.spec = parsed
            self._rng = random.Random(seed)

    @property
    def slow_delay(self) -> float:
        return self.spec.slow_delay

    def queue(self, kinds: Iterable[str], method: str | None = None) -> None:
        """Make the next requests (of `method`, if given) fail with `kinds`, one each, in order."""
        items = []
        for kind in kinds:
            if kind not in KINDS:
                raise ValueError(f"unknown fault {kind!r}; expected one of {', '.join(KINDS)}")
            items.append((kind, method.lower() if method else None))
        with self._lock:
            self._queue.extend(items)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()
            self.spec = FaultSpec(shares={})

    def draw(self, method: str) -> str | None:
        with self._lock:
            for index, (kind, only) in enumerate(self._queue):
                if only is None or only == method:
                    del self._queue[index]
                    return kind
            if not self.spec.shares:
                return None
            roll = self._rng.random()
            edge = 0.0
            for kind in KINDS:
                edge += self.spec.shares.get(kind, 0.0)
                if roll < edge:
                    return kind
            return None
