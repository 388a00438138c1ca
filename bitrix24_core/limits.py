"""Client-side limits shared by every thread using one portal: the request-rate leaky bucket and the
per-method operating-time budgets. All quantities are in portal seconds; real waits are divided by
the time scale F (portal seconds per real second)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any


class LeakyBucket:
    """Mirror of the portal's request counter: +1 per request, drains ``drain`` per portal second.

    ``acquire`` reserves a slot and sleeps until the counter would sit at ``size - margin``, so a
    client alone on the portal never reaches the server's limit.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._level = 0.0
        self._stamp = clock()

    def _drain(self, drain: float, scale: float) -> float:
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._stamp) * drain * scale)
        self._stamp = now
        return now

    def reserve(self, size: float, drain: float, margin: float, scale: float) -> float:
        """Count one request; return the real seconds to wait before sending it."""
        with self._lock:
            self._drain(drain, scale)
            self._level += 1.0
            excess = self._level - max(1.0, size - margin)
        return max(0.0, excess / (drain * scale))

    def acquire(self, size: float, drain: float, margin: float, scale: float) -> float:
        wait = self.reserve(size, drain, margin, scale)
        if wait > 0:
            time.sleep(wait)
        return wait

    def saturate(self, size: float, drain: float, scale: float) -> None:
        """The server refused a request: its counter is full, whatever ours says."""
        with self._lock:
            self._drain(drain, scale)
            self._level = max(self._level, size)

    @property
    def level(self) -> float:
        return self._level


@dataclass
class _Budget:
    operating: float = 0.0  # portal seconds used in the window, as the portal last reported
    reset_at: float | None = None  # portal time when the oldest window bucket drops out
    portal_at: float | None = None  # portal time of that report (time.finish)
    real_at: float = 0.0  # monotonic time of that report
    cost: float = 0.0  # running estimate of one call's operating time
    in_flight: int = 0
    unreported: float = 0.0  # charged by batch commands that carried no "operating"
    probing: bool = False  # a call is out to learn the figure after the reset time passed


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class OperatingBudgets:
    """Per-method operating time (``time.operating``) paced to stay under the portal's limit.

    Before a call of a method whose budget is nearly spent, ``admit`` waits until the oldest window
    bucket has dropped out (``operating_reset_at`` vs the report's ``time.finish``, in portal
    seconds); once that moment has passed, one call goes out alone to learn the new figure.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._cond = threading.Condition()
        self._budgets: dict[str, _Budget] = {}

    def _budget(self, method: str) -> _Budget:
        return self._budgets.setdefault(method, _Budget())

    def admit(self, methods: Iterable[str], limit: float, margin: float, scale: float) -> float:
        """Wait until every method may be called; count the call in flight. Returns real seconds waited.

        ``methods`` holds one entry per command: a batch of 50 list commands reserves 50 calls'
        worth of its method's budget, so batches in flight together cannot overrun it."""
        waited = 0.0
        with self._cond:
            for method, count in sorted(Counter(methods).items()):
                waited += self._admit_one(self._budget(method), count, limit, margin, scale)
        return waited

    def _admit_one(self, budget: _Budget, count: int, limit: float, margin: float, scale: float) -> float:
        waited = 0.0
        while True:
            spent = budget.operating + budget.unreported + budget.cost * (budget.in_flight + count)
            if spent + margin < limit:
                break
            now = self._clock()
            portal_now = self._portal_now(budget, now, scale)
            if budget.reset_at is not None and portal_now is not None and portal_now < budget.reset_at:
                pause = (budget.reset_at - portal_now) / scale + 0.001
            elif not budget.probing:
                # The oldest window bucket has dropped out: one call alone learns the new figure.
                budget.probing = True
                break
            else:
                pause = 1.0  # woken early when the probe reports (``observe`` / ``release``)
            self._cond.wait(pause)
            waited += self._clock() - now
        budget.in_flight += count
        return waited

    @staticmethod
    def _portal_now(budget: _Budget, now: float, scale: float) -> float | None:
        if budget.portal_at is None:
            return None
        return budget.portal_at + (now - budget.real_at) * scale

    def release(self, methods: Iterable[str]) -> None:
        """The calls counted by ``admit`` finished (with or without an answer)."""
        with self._cond:
            for method, count in Counter(methods).items():
                budget = self._budget(method)
                budget.in_flight = max(0, budget.in_flight - count)
                budget.probing = False
            self._cond.notify_all()

    def observe(self, method: str, timing: Mapping[str, Any] | None) -> None:
        """Take a ``time`` block (of a call, or of one batch command) reported for ``method``."""
        if not isinstance(timing, Mapping):
            return
        with self._cond:
            budget = self._budget(method)
            cost = _number(timing.get("processing"))
            if cost is None:
                cost = _number(timing.get("duration"))
            if cost is not None and cost >= 0:
                budget.cost = cost if budget.cost == 0 else 0.7 * budget.cost + 0.3 * cost
            operating = _number(timing.get("operating"))
            if operating is None:
                budget.unreported += cost or 0.0
            else:
                budget.operating = operating
                budget.unreported = 0.0
                budget.probing = False
                budget.reset_at = _number(timing.get("operating_reset_at"))
                budget.portal_at = _number(timing.get("finish"))
                budget.real_at = self._clock()
            self._cond.notify_all()

    def blocked(
        self, method: str, limit: float, timing: Mapping[str, Any] | None, fallback: float, scale: float
    ) -> None:
        """The portal refused ``method`` with OPERATION_TIME_LIMIT: hold it until the reset time
        (from the refusal's ``time`` block if present, else the last report, else ``fallback`` s)."""
        with self._cond:
            budget = self._budget(method)
            now = self._clock()
            reset_at = _number(timing.get("operating_reset_at")) if isinstance(timing, Mapping) else None
            portal_at = _number(timing.get("finish")) if isinstance(timing, Mapping) else None
            if reset_at is not None and portal_at is not None and reset_at > portal_at:
                budget.reset_at, budget.portal_at, budget.real_at = reset_at, portal_at, now
            else:
                portal_now = self._portal_now(budget, now, scale)
                if budget.reset_at is None or portal_now is None or portal_now >= budget.reset_at:
                    # No usable reset time: hold the method for ``fallback`` portal seconds.
                    budget.portal_at, budget.real_at, budget.reset_at = 0.0, now, fallback
            budget.operating = max(budget.operating, limit)

    def until_reset(self, methods: Iterable[str], scale: float) -> float | None:
        """Real seconds until the last known reset time of these methods (None when unknown)."""
        now = self._clock()
        waits: list[float] = []
        with self._cond:
            for method in methods:
                budget = self._budget(method)
                portal_now = self._portal_now(budget, now, scale)
                if budget.reset_at is not None and portal_now is not None:
                    waits.append(max(0.0, budget.reset_at - portal_now) / scale)
        return max(waits) if waits else None

    def snapshot(self) -> dict[str, dict[str, float | None]]:
        """For logs and tests: the budgets as last known."""
        with self._cond:
            return {
                method: {"operating": b.operating, "reset_at": b.reset_at, "cost": b.cost}
                for method, b in self._budgets.items()
            }


__all__ = ["LeakyBucket", "OperatingBudgets"]
