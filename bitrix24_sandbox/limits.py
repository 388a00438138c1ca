"""Request-rate bucket and per-method operating-time budget, both on the portal's virtual clock."""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass

# Plan presets: (bucket size X, drain Y per second); None = no rate limit (docs limits.md).
PLANS: dict[str, tuple[float, float] | None] = {
    "standard": (50.0, 2.0),
    "enterprise": (250.0, 5.0),
    "unlimited": None,
}

OPERATING_WINDOW = 600.0  # ten one-minute buckets
OPERATING_BUCKET = 60.0
DEFAULT_OPERATING_LIMIT = 480.0
REQUEST_TIME_LIMIT = 60.0  # a cloud request may run at most this long


def plan_rate(plan: str) -> tuple[float, float] | None:
    try:
        return PLANS[plan]
    except KeyError:
        raise ValueError(f"unknown plan {plan!r}; expected one of {sorted(PLANS)}") from None


class LeakyBucket:
    """Each request adds 1; a request that would lift the level above `size` is refused and adds
    nothing; the level drains by `drain` per portal second."""

    def __init__(self, size: float, drain: float) -> None:
        self.size = size
        self.drain = drain
        self._level = 0.0
        self._at: float | None = None
        self._lock = threading.Lock()

    def _drain_to(self, now: float) -> None:
        if self._at is not None and now > self._at:
            self._level = max(0.0, self._level - (now - self._at) * self.drain)
        if self._at is None or now > self._at:
            self._at = now

    def try_take(self, now: float) -> bool:
        with self._lock:
            self._drain_to(now)
            if self._level + 1.0 > self.size:
                return False
            self._level += 1.0
            return True

    def level(self, now: float) -> float:
        with self._lock:
            self._drain_to(now)
            return self._level


@dataclass(frozen=True)
class OperatingState:
    used: float  # seconds this method used in the current window
    reset_at: int  # Unix time when the oldest used bucket leaves the window
    blocked: bool


class OperatingBudget:
    """Per-method operating time summed over ten one-minute buckets of the portal clock.

    Shared by all apps and webhooks of the portal (docs limits.md: "blocked for all applications and
    webhooks of that account"). A method whose window sum exceeds the limit is refused with 429 on its
    NEXT call, until enough old buckets leave the window.
    """

    def __init__(self, limit: float = DEFAULT_OPERATING_LIMIT) -> None:
        self.limit = limit
        self._buckets: dict[str, dict[int, float]] = defaultdict(dict)
        self._lock = threading.Lock()

    @staticmethod
    def _minute(now: float) -> int:
        return math.floor(now / OPERATING_BUCKET)

    def _live(self, method: str, now: float) -> dict[int, float]:
        buckets = self._buckets[method]
        oldest = self._minute(now) - int(OPERATING_WINDOW / OPERATING_BUCKET) + 1
        for minute in [m for m in buckets if m < oldest]:
            del buckets[minute]
        return buckets

    def state(self, method: str, now: float) -> OperatingState:
        with self._lock:
            return self._state(method, now)

    def _state(self, method: str, now: float) -> OperatingState:
        buckets = self._live(method, now)
        used = sum(buckets.values())
        if buckets:
            reset_at = int((min(buckets) * OPERATING_BUCKET) + OPERATING_WINDOW)
        else:
            reset_at = int(now)
        return OperatingState(used=used, reset_at=reset_at, blocked=used > self.limit)

    def charge(self, method: str, seconds: float, now: float) -> OperatingState:
        """Add `seconds` of work by `method` finished at `now`; return the state after it."""
        with self._lock:
            buckets = self._live(method, now)
            minute = self._minute(now)
            buckets[minute] = buckets.get(minute, 0.0) + max(0.0, seconds)
            return self._state(method, now)

    def blocked_until(self, method: str, now: float) -> float | None:
        """Portal time when `method` is allowed again, or None if it is allowed now."""
        with self._lock:
            buckets = dict(self._live(method, now))
        used = sum(buckets.values())
        if used <= self.limit:
            return None
        for minute in sorted(buckets):
            used -= buckets[minute]
            if used <= self.limit:
                return minute * OPERATING_BUCKET + OPERATING_WINDOW
        return now
