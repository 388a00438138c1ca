"""Date and scalar encodings of the portal: instants as epoch seconds inside, ISO with offset outside."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_RU_RE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$")


class ValueError_(ValueError):
    """A value the portal cannot read for its field type."""


def portal_tz(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MIN_INSTANT = -62135596800 + 86400  # 0001-01-02: any offset stays inside datetime's range
MAX_INSTANT = 253402300799 - 86400  # 9999-12-30


def format_instant(epoch: int | float, offset_minutes: int) -> str:
    """ISO 8601 with the portal's offset, seconds precision: 2024-08-30T14:29:00+03:00."""
    dt = (_EPOCH + timedelta(seconds=int(epoch))).astimezone(portal_tz(offset_minutes))
    return dt.isoformat(timespec="seconds")


def parse_instant(value: object, offset_minutes: int) -> int:
    """Epoch seconds from ISO (any offset), 'YYYY-MM-DD HH:MM:SS' or 'DD.MM.YYYY' (portal local time)."""
    if isinstance(value, bool):
        raise ValueError_(f"not a date: {value!r}")
    if isinstance(value, (int, float)):
        if not MIN_INSTANT <= value <= MAX_INSTANT:  # also refuses NaN
            raise ValueError_(f"not a date: {value!r}")
        return int(value)
    text = str(value).strip()
    m = _ISO_RE.match(text)
    if m:
        y, mo, d, h, mi, s, off = m.groups()
        tz = _tz_of(off, offset_minutes)
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=tz)
        return _checked(dt)
    m = _RU_RE.match(text)
    if m:
        d, mo, y, h, mi, s = m.groups()
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
        return _checked(dt.replace(tzinfo=portal_tz(offset_minutes)))
    raise ValueError_(f"not a date: {value!r}")


def parse_date(value: object, offset_minutes: int) -> int:
    """A date-only field: the calendar date as written (in its own offset, or portal time for an
    instant) kept as 00:00 UTC of that date. The real service stores dates so: a deal's BEGINDATE
    2024-08-30 comes back as "2024-08-30T02:00:00+02:00" on a +02:00 portal (docs crm-deal-get.md)."""
    if isinstance(value, str):
        m = _ISO_RE.match(value.strip())
        if m:
            y, mo, d = (int(x) for x in m.groups()[:3])
            return _checked(datetime(y, mo, d, tzinfo=timezone.utc))
        m = _RU_RE.match(value.strip())
        if m:
            d, mo, y = (int(x) for x in m.groups()[:3])
            return _checked(datetime(y, mo, d, tzinfo=timezone.utc))
    local = (_EPOCH + timedelta(seconds=parse_instant(value, offset_minutes))).astimezone(
        portal_tz(offset_minutes)
    )
    return _checked(datetime(local.year, local.month, local.day, tzinfo=timezone.utc))


def _checked(dt: datetime) -> int:
    epoch = int((dt - _EPOCH).total_seconds())
    if not MIN_INSTANT <= epoch <= MAX_INSTANT:
        raise ValueError_(f"date out of range: {dt.isoformat()}")
    return epoch


def _tz_of(off: str | None, offset_minutes: int) -> timezone:
    if off is None:
        return portal_tz(offset_minutes)
    if off == "Z":
        return timezone.utc
    sign = -1 if off[0] == "-" else 1
    digits = off[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def is_yes(value: object) -> bool:
    """Bitrix flag input: Y/N, 1/0, true/false."""
    if isinstance(value, bool):
        return value
    return str(value).strip().upper() in ("Y", "1", "TRUE")


INT_MAX = 2**63 - 1  # SQLite INTEGER


def to_int(value: object) -> int:
    """An integer from a number or numeric text; ValueError_ when not one or beyond SQLite's range."""
    if isinstance(value, bool):
        return int(value)
    try:
        n = int(float(value)) if not isinstance(value, int) else value  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError_(f"not an integer: {value!r}") from exc
    if abs(n) > INT_MAX:
        raise ValueError_(f"integer out of range: {value!r}")
    return n
