"""Cost model: simulated server seconds a call takes (MethodResult.cost).

Calibrated on docs settings/performance/huge-data.md: on 2,387,743 leads a counted page (start=0,
select of 3 fields) took 49.9 s and the same page with start=-1 took 0.097 s. So
    BASE + 50 * (PER_ROW + 3 * PER_ROW_FIELD)          = 0.097 s   (no count)
    the same + 2,387,743 * PER_COUNTED_ROW             = 49.9 s     (count over the filter)
Offsets get slower with depth (the database walks past skipped rows): PER_SKIPPED_ROW.
"""

from __future__ import annotations

BASE = 0.025
PER_ROW = 0.00135
PER_ROW_FIELD = 0.00003
PER_COUNTED_ROW = (49.9 - 0.097) / 2_387_743  # ~2.09e-5 s
PER_SKIPPED_ROW = 2e-6
WRITE = 0.05
META = 0.01


def list_cost(rows: int, fields: int, offset: int, counted: int | None) -> float:
    """A list page: base + rows (and their fields) + the offset walk + the COUNT when start >= 0."""
    cost = BASE + rows * (PER_ROW + fields * PER_ROW_FIELD) + max(offset, 0) * PER_SKIPPED_ROW
    if counted is not None:
        cost += counted * PER_COUNTED_ROW
    return round(cost, 6)


def get_cost(fields: int) -> float:
    return round(BASE + PER_ROW + fields * PER_ROW_FIELD, 6)


def write_cost(fields: int) -> float:
    return round(WRITE + fields * PER_ROW_FIELD, 6)
