"""The portal's virtual clock: real time scaled by a speed factor, plus an offset from the host clock."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone


class VirtualClock:
    """Portal time. One real second is `speed` portal seconds.

    `now()` starts at the host's Unix time plus `offset` and then runs `speed` times faster than real time.
    `advance()` jumps ahead (tests of token expiry and operating windows); `set_offset()` moves the portal's
    clock relative to the host's (a portal whose clock is ahead of or behind the client's).
    """

    def __init__(self, speed: float = 1.0, offset: float = 0.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self._speed = float(speed)
        self._lock = threading.Lock()
        self._real0 = time.monotonic()
        self._virtual0 = time.time()
        self._offset = float(offset)
        self._advanced = 0.0

    @property
    def speed(self) -> float:
        return self._speed

    @property
    def offset(self) -> float:
        return self._offset

    def now(self) -> float:
        """Virtual Unix time of the portal (offset included)."""
        elapsed = (time.monotonic() - self._real0) * self._speed
        with self._lock:
            return self._virtual0 + elapsed + self._offset + self._advanced

    def advance(self, seconds: float) -> None:
        """Jump the portal clock ahead by `seconds` portal seconds."""
        if seconds < 0:
            raise ValueError("the clock only moves forward; use set_offset() to set it behind the host")
        with self._lock:
            self._advanced += seconds

    def set_offset(self, seconds: float) -> None:
        """Set the portal clock `seconds` ahead of (positive) or behind (negative) the host's clock."""
        with self._lock:
            self._offset = float(seconds)

    def real_seconds(self, portal_seconds: float) -> float:
        """How long `portal_seconds` of portal time take in real time."""
        return max(0.0, portal_seconds) / self._speed

    def sleep(self, portal_seconds: float) -> None:
        """Really wait while `portal_seconds` of portal time pass (no lock is held)."""
        real = self.real_seconds(portal_seconds)
        if real > 0:
            time.sleep(real)


def iso_date(ts: float, tz_offset_minutes: int) -> str:
    """ISO 8601 with the portal's UTC offset, seconds precision: "2024-08-29T10:34:19+02:00"."""
    tz = timezone(timedelta(minutes=tz_offset_minutes))
    return datetime.fromtimestamp(ts, tz).replace(microsecond=0).isoformat()
