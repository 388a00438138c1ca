"""Turn a Singer record into the field values a Bitrix24 entity accepts, checked against .fields()."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from target_bitrix24 import errors
from target_bitrix24.errors import RecordError

INTEGER_TYPES = {"integer", "int", "user", "employee", "crm_category", "crm_company", "crm_contact"}
INTEGER_TYPES |= {"crm_lead", "crm_deal"}
NUMBER_TYPES = {"double", "float"}
TEXT_TYPES = {"string", "text", "char", "url", "crm_status", "crm_currency"}
MULTIFIELD = "crm_multifield"
MULTIFIELD_NAMES = {"PHONE", "EMAIL", "WEB", "IM", "LINK"}
FILE_TYPES = {"file", "diskfile"}  # need uploaded content; a file's description cannot be written back
_TRUE = {"y", "yes", "true", "1", "t"}
_FALSE = {"n", "no", "false", "0", "f", ""}


@dataclass(frozen=True)
class FieldMeta:
    """One entry of an entity's .fields() answer."""

    name: str
    type: str = "string"
    read_only: bool = False
    immutable: bool = False
    multiple: bool = False
    required: bool = False

    @classmethod
    def from_portal(cls, name: str, meta: Mapping[str, Any]) -> FieldMeta:
        return cls(
            name=name,
            type=str(meta.get("type") or "string").lower(),
            read_only=bool(meta.get("isReadOnly")),
            immutable=bool(meta.get("isImmutable")),
            multiple=bool(meta.get("isMultiple")),
            required=bool(meta.get("isRequired")),
        )


def normalize_name(name: str) -> str:
    """Column names from a warehouse ("assigned_by_id") meet portal names (ASSIGNED_BY_ID, assignedById)."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass
class Converted:
    """A record ready to send: the entity ID (if the record carried one) and the portal field values."""

    record_id: int | None
    fields: dict[str, Any]


@dataclass
class RecordConverter:
    """Converts the records of one stream; warns once per dropped field."""

    fields: Mapping[str, FieldMeta]
    id_key: str
    uses_id: bool = True  # False for adds not matched by ID: an ID column is then ignored
    strict: bool = False
    warn: Callable[[str], None] = print
    _index: dict[str, str] = field(default_factory=dict)
    _warned: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        seen: dict[str, list[str]] = {}
        for name in self.fields:
            seen.setdefault(normalize_name(name), []).append(name)
        self._index = {norm: names[0] for norm, names in seen.items() if len(names) == 1}

    def portal_name(self, column: str) -> str | None:
        """The portal's field for a record column, matched exactly, then ignoring case and underscores."""
        if column in self.fields:
            return column
        return self._index.get(normalize_name(column))

    def convert(self, record: Mapping[str, Any]) -> Converted:
        dropped: list[str] = []
        try:
            return self._convert(record, dropped)
        finally:
            if dropped:  # one warning per record that brings columns not seen dropped before
                self.warn("columns dropped: " + "; ".join(dropped))

    def _convert(self, record: Mapping[str, Any], dropped: list[str]) -> Converted:
        record_id: int | None = None
        values: dict[str, Any] = {}
        for column, value in record.items():
            if column.startswith("_sdc_"):
                continue  # Singer metadata, never a portal field
            name = self.portal_name(column)
            if name == self.id_key or (name is None and normalize_name(column) == "id"):
                if self.uses_id and value is not None:
                    record_id = to_int(column, value)
                continue  # the key, never a field to set
            if name is None:
                self._drop(column, errors.UNKNOWN_FIELD, "is not a field of this entity", dropped)
                continue
            meta = self.fields[name]
            if meta.read_only:
                self._drop(column, errors.READ_ONLY_FIELD, f"maps to the read-only field {name}", dropped)
                continue
            if meta.type in FILE_TYPES:
                self._drop(column, errors.READ_ONLY_FIELD, f"maps to the file field {name}", dropped)
                continue
            if value is not None:
                values[name] = convert_value(meta, value)
        return Converted(record_id, values)

    def updatable(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Values minus immutable fields, which the portal takes on add only."""
        kept = {}
        for name, value in values.items():
            if self.fields[name].immutable:
                self._warn_once(name, f"field {name} is immutable: not sent with updates")
            else:
                kept[name] = value
        return kept

    def _drop(self, column: str, code: str, why: str, dropped: list[str]) -> None:
        if self.strict:
            raise RecordError(code, f"column {column!r} {why}")
        if column not in self._warned:
            self._warned.add(column)
            dropped.append(f"{column!r} {why}")

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.warn(message)


def convert_value(meta: FieldMeta, value: Any) -> Any:
    """One value in the shape the portal expects for the field's type."""
    if meta.type == MULTIFIELD or meta.name in MULTIFIELD_NAMES and meta.multiple:
        return to_multifield(meta.name, value)
    if value == "":  # an empty warehouse cell: the portal's "no value"
        return [] if meta.multiple else ""
    if meta.multiple:
        items = _as_list(value)
        return [convert_scalar(meta, item) for item in items if item is not None]
    return convert_scalar(meta, value)


def convert_scalar(meta: FieldMeta, value: Any) -> Any:
    kind = meta.type
    if kind == "boolean" or (kind == "char" and isinstance(value, bool)):
        return to_yn(meta.name, value)
    if kind in INTEGER_TYPES:
        return to_int(meta.name, value)
    if kind in NUMBER_TYPES:
        return to_number(meta.name, value)
    if kind == "date":
        return to_date(meta.name, value)
    if kind == "datetime":
        return to_datetime(meta.name, value)
    if kind in TEXT_TYPES:
        return to_text(meta.name, value)
    if kind == "money":
        return to_money(meta.name, value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def wrong_type(name: str, value: Any, expected: str) -> RecordError:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return RecordError(errors.WRONG_TYPE, f"field {name}: {shown} is not {expected}")


def to_yn(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value).strip().lower()
    if isinstance(value, (int, str)) and text in _TRUE:
        return "Y"
    if isinstance(value, (int, str)) and text in _FALSE:
        return "N"
    raise wrong_type(name, value, "a boolean")


def to_int(name: str, value: Any) -> int:
    if isinstance(value, bool):
        raise wrong_type(name, value, "an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, (float, Decimal)) and value == int(value):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise wrong_type(name, value, "an integer")


def to_number(name: str, value: Any) -> float | int:
    if isinstance(value, bool):
        raise wrong_type(name, value, "a number")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, Decimal):
        return int(value) if value == int(value) else float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            raise wrong_type(name, value, "a number") from None
        return int(number) if number.is_integer() and "." not in value else number
    raise wrong_type(name, value, "a number")


def to_text(name: str, value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise wrong_type(name, value, "text")
    if isinstance(value, Decimal):
        return str(value)
    return value if isinstance(value, str) else json.dumps(value)


def to_money(name: str, value: Any) -> str:
    """Money fields take "amount|CURRENCY"; the tap reads them as {"amount": ..., "currency": ...}."""
    if isinstance(value, Mapping):
        amount, currency = value.get("amount"), value.get("currency")
        if amount is None:
            return ""
        text = f"{Decimal(str(to_number(name, amount))):.2f}"  # the portal's own form: "100.00|USD"
        return f"{text}|{currency}" if currency else text
    if isinstance(value, (int, float, Decimal, str)) and not isinstance(value, bool):
        return str(value)
    raise wrong_type(name, value, 'money ("100|USD" or {"amount": 100, "currency": "USD"})')


def to_date(name: str, value: Any) -> str:
    """Date fields take "YYYY-MM-DD"; a date-time is cut to its date."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10]).isoformat()
        except ValueError:
            pass
    raise wrong_type(name, value, "a date (YYYY-MM-DD)")


def to_datetime(name: str, value: Any) -> str:
    """ISO 8601 with an explicit offset; a naive value is UTC, the Singer convention."""
    moment: dt.datetime | None = None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None:
        raise wrong_type(name, value, "a date-time (ISO 8601)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.isoformat(timespec="seconds")


def to_multifield(name: str, value: Any) -> list[dict[str, Any]]:
    """PHONE/EMAIL/WEB/IM in Bitrix's shape: [{"VALUE": ..., "VALUE_TYPE": ...}, ...].

    Entry IDs are dropped: they may come from another portal (a tap-to-target copy), where they name
    somebody else's values. Values are added when absent and never removed (see upsert.py)."""
    result = []
    for item in _as_list(value):
        if item is None or item == "":
            continue
        if isinstance(item, (str, int)):
            result.append({"VALUE": str(item), "VALUE_TYPE": "WORK"})
        elif isinstance(item, Mapping) and item.get("VALUE") not in (None, ""):
            entry = {key: item[key] for key in ("VALUE", "VALUE_TYPE") if key in item}
            entry.setdefault("VALUE_TYPE", "WORK")
            result.append(entry)
        else:
            raise wrong_type(name, item, 'a value or {"VALUE": ..., "VALUE_TYPE": ...}')
    return result


def _as_list(value: Any) -> list[Any]:
    """Multiple values arrive as lists, JSON text (from a warehouse column) or one scalar."""
    if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]
