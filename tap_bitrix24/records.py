"""Convert raw Bitrix24 values to match the stream's JSON Schema.

The converters are compiled from the schema itself (not from `*.fields`), so a stream built from a
saved catalog converts exactly as one built by discovery. Bitrix sends most scalars as strings,
flags as "Y"/"N", empty values as "" or [] and money as "100.50|USD".
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import pendulum

Converter = Callable[[Any], Any]
_RU_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})(?:\s+(\d{2}):(\d{2})(?::(\d{2}))?)?$")
_EMPTY = ("", None)


class ValueConversionError(ValueError):
    """A value that does not fit its field's type: names the field, never guesses."""


def _types(schema: Mapping[str, Any]) -> set[str]:
    kind = schema.get("type", [])
    return {kind} if isinstance(kind, str) else set(kind)


def to_int(value: Any) -> int | None:
    if type(value) is str:  # the usual wire form first: one C call
        try:
            return int(value)
        except ValueError:
            pass
    return _to_int_slow(value)


def _to_int_slow(value: Any) -> int | None:
    if value in _EMPTY or value == []:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = Decimal(text)  # "12.0" from some integer fields
    except InvalidOperation:
        raise ValueConversionError(f"not an integer: {value!r}") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ValueConversionError(f"not an integer: {value!r}")
    return int(number)


def to_number(value: Any) -> Decimal | int | None:
    if type(value) is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            pass
        else:
            return number if number.is_finite() else None
    return _to_number_slow(value)


def _to_number_slow(value: Any) -> Decimal | int | None:
    if value in _EMPTY or value == []:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    text = str(value).strip().replace(",", ".") if not isinstance(value, float) else repr(value)
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueConversionError(f"not a number: {value!r}") from None
    if not number.is_finite():
        return None
    return number


_FLAGS = {"Y": True, "N": False, "1": True, "0": False}


def to_bool(value: Any) -> bool | None:
    if type(value) is str:
        flag = _FLAGS.get(value)
        if flag is not None:
            return flag
    return _to_bool_slow(value)


def _to_bool_slow(value: Any) -> bool | None:
    if value in _EMPTY:
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().upper()
    if text in ("Y", "1", "TRUE"):
        return True
    if text in ("N", "0", "FALSE", ""):
        return False
    raise ValueConversionError(f"not a flag: {value!r}")


class DateConverter:
    """Parse Bitrix dates; a value without an offset is the portal's local time."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz

    def parse(self, value: Any) -> dt.datetime | None:
        if value in _EMPTY or value is False or value == []:
            return None
        text = str(value).strip()
        try:  # the usual ISO 8601 form, fast
            parsed_iso = dt.datetime.fromisoformat(text)
        except ValueError:
            parsed_iso = None
        if parsed_iso is not None:
            return parsed_iso if parsed_iso.tzinfo else parsed_iso.replace(tzinfo=self.tz)
        match = _RU_DATE.match(text)
        if match:
            day, month, year, hour, minute, second = match.groups()
            return dt.datetime(
                int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            ).replace(tzinfo=self.tz)
        try:
            parsed = pendulum.parse(text, exact=True, strict=False)
        except (ValueError, pendulum.parsing.exceptions.ParserError):
            raise ValueConversionError(f"not a date: {value!r}") from None
        if isinstance(parsed, dt.datetime):
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=self.tz)
        if isinstance(parsed, dt.date):
            return dt.datetime(parsed.year, parsed.month, parsed.day, tzinfo=self.tz)
        raise ValueConversionError(f"not a date: {value!r}")

    def datetime(self, value: Any) -> str | None:
        if type(value) is str:  # ISO 8601 with an offset, as the portal sends it: no detour
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                if moment.tzinfo is not None:
                    return moment.isoformat()
        parsed = self.parse(value)
        return None if parsed is None else parsed.isoformat()

    def date(self, value: Any) -> str | None:
        """A date field arrives as midnight in the portal's zone: keep that calendar day."""
        if type(value) is str and len(value) >= 10:
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                return moment.date().isoformat()
        parsed = self.parse(value)
        return None if parsed is None else parsed.date().isoformat()


def to_text(value: Any) -> str | None:
    if type(value) is str:
        return value
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def to_money(value: Any) -> dict[str, Any] | None:
    """'1500.50|USD' -> {'amount': 1500.50, 'currency': 'USD'}."""
    if value in _EMPTY or value == []:
        return None
    if isinstance(value, Mapping):
        return {"amount": to_number(value.get("amount")), "currency": value.get("currency") or None}
    amount, _, currency = str(value).partition("|")
    return {"amount": to_number(amount), "currency": currency or None}


def to_array(item: Converter) -> Converter:
    def convert(value: Any) -> list[Any] | None:
        if value is None:
            return None
        if value in ("", False):
            return []
        if isinstance(value, Mapping):  # PHP arrays with numeric keys arrive as objects
            value = list(value.values())
        if not isinstance(value, list):
            value = [value]
        return [item(v) for v in value if v not in _EMPTY]

    return convert


def to_object(properties: Mapping[str, Converter]) -> Converter:
    def convert(value: Any) -> dict[str, Any] | None:
        if value in _EMPTY:
            return None
        if value == []:  # PHP's empty array
            return {}
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ValueConversionError(f"not an object: {value!r}") from None
        if not isinstance(value, Mapping):
            if "id" in properties:  # a bare file ID
                return {"id": to_int(value)}
            raise ValueConversionError(f"not an object: {value!r}")
        out = dict(value)
        for name, conv in properties.items():
            if name in out:
                out[name] = conv(out[name])
        return out

    return convert


def compile_converter(schema: Mapping[str, Any], dates: DateConverter) -> Converter:
    """One converter for a value described by `schema`."""
    kinds = _types(schema)
    if "array" in kinds:
        return to_array(compile_converter(schema.get("items") or {}, dates))
    if "object" in kinds:
        props = schema.get("properties") or {}
        if set(props) == {"amount", "currency"}:
            return to_money
        return to_object({k: compile_converter(v, dates) for k, v in props.items()})
    if "integer" in kinds:
        return to_int
    if "number" in kinds:
        return to_number
    if "boolean" in kinds:
        return to_bool
    if schema.get("format") == "date-time":
        return dates.datetime
    if schema.get("format") == "date":
        return dates.date
    return to_text


class RecordConverter:
    """Converts whole records of one stream; unknown keys are dropped (they are not in the catalog).

    `names` limits the converted fields (the selected ones); one dict comprehension per record
    keeps the per-record work to one converter call per present field."""

    def __init__(
        self,
        schema: Mapping[str, Any],
        tz: dt.tzinfo = dt.timezone.utc,
        names: Collection[str] | None = None,
    ) -> None:
        self.dates = DateConverter(tz)
        self.fields = {
            name: compile_converter(prop, self.dates)
            for name, prop in schema.get("properties", {}).items()
            if names is None or name in names
        }
        self._pairs = tuple(self.fields.items())

    def __call__(self, record: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return {name: conv(record[name]) for name, conv in self._pairs if name in record}
        except ValueConversionError:
            pass
        for name, conv in self._pairs:  # again, slowly, to name the field that failed
            if name in record:
                try:
                    conv(record[name])
                except ValueConversionError as exc:
                    raise ValueConversionError(f"field {name}: {exc}") from None
        raise AssertionError("a conversion failed once but not twice")
