"""The record engine every entity shares: list pages, get, add, update, delete over the store.

Method modules turn wire parameters into calls here and wrap the answers in each method's shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import cost as costs
from . import fieldmeta as fm
from .entities import LEGACY, EntitySpec, as_list, decode, encode
from .errors import PortalError
from .filters import FilterError, compile_filter, compile_order
from .store import Store
from .values import ValueError_, to_int

PAGE = 50


@dataclass
class RawPage:
    rows: list[dict[str, Any]]  # stored (canonical) records
    total: int | None  # None when start = -1 skipped the count
    next: int | None
    start: int

    def cost(self, fields: int) -> float:
        return costs.list_cost(len(self.rows), fields, max(self.start, 0), self.total)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    total: int | None  # None when start = -1 skipped the count
    next: int | None
    start: int
    cost: float


def parse_start(value: Any) -> int:
    """start rounded down to a multiple of 50; any negative value means 'no count' (-1)."""
    if value is None or value == "":
        return 0
    try:
        n = to_int(value)
    except ValueError:
        return 0
    if n < 0:
        return -1
    return n - n % PAGE


class Records:
    def __init__(self, store: Store, tz: int, now: Callable[[], int]) -> None:
        self.store = store
        self.tz = tz
        self.now = now

    # ---- reading ---------------------------------------------------------------------------------
    def select(
        self,
        spec: EntitySpec,
        flt: Any,
        order: Any,
        start: Any,
        strict: bool = False,
        aliases: dict[str, str] | None = None,
        limit: int | None = PAGE,
    ) -> RawPage:
        """Stored rows of one page, the COUNT when start >= 0, and the next offset."""
        try:
            where, params = compile_filter(spec, flt, self.tz, strict, aliases)
            order_sql = compile_order(spec, order, aliases, strict)
        except FilterError as exc:
            raise PortalError("INVALID_ARG_VALUE", str(exc)) from exc
        first = parse_start(start)
        offset = max(first, 0)
        with self.store.locked():
            stored = self.store.query(spec.table, where, params, order_sql, limit, offset)
            total = self.store.count(spec.table, where, params) if first >= 0 else None
        nxt = offset + PAGE if total is not None and limit is not None and offset + PAGE < total else None
        return RawPage(stored, total, nxt, first)

    def page(
        self,
        spec: EntitySpec,
        flt: Any,
        order: Any,
        keys: list[str],
        start: Any,
        strict: bool = False,
        aliases: dict[str, str] | None = None,
    ) -> Page:
        raw = self.select(spec, flt, order, start, strict, aliases)
        rows = [encode(spec, r, keys, self.tz) for r in raw.rows]
        return Page(rows, raw.total, raw.next, raw.start, raw.cost(len(keys)))

    def fetch(self, spec: EntitySpec, rid: int) -> dict[str, Any] | None:
        return self.store.get(spec.table, rid)

    # ---- writing ---------------------------------------------------------------------------------
    def decode_fields(self, spec: EntitySpec, fields: Any, current: dict[str, Any] | None) -> dict[str, Any]:
        """Canonical values for the writable fields sent; read-only and unknown keys are ignored."""
        if fields is None:
            fields = {}
        if not isinstance(fields, dict):
            raise PortalError("INVALID_ARG_VALUE", "fields must be an object")
        out: dict[str, Any] = {}
        for key, value in fields.items():
            f = spec.fields.get(str(key))
            if f is None or f.read_only:
                continue
            if f.type == fm.MULTIFIELD_TYPE:
                old = (current or {}).get(f.name) or []
                out[f.name] = self._merge_multi(f.name, old, value)
                continue
            try:
                out[f.name] = decode(f, value, self.tz)
            except ValueError_ as exc:
                raise PortalError("", str(exc)) from exc
        return out

    def _merge_multi(self, type_id: str, old: list[dict[str, Any]], value: Any) -> list[dict[str, Any]]:
        """Multi-field update rules: items with ID change or (DELETE=Y / empty VALUE) go; others append."""
        result = [dict(x) for x in old]
        for item in as_list(value):
            if not isinstance(item, dict):
                item = {"VALUE": item}
            iid = str(item.get("ID", "") or "")
            if iid:
                for cur in result:
                    if cur["ID"] == iid:
                        if str(item.get("DELETE", "")).upper() == "Y" or item.get("VALUE", None) == "":
                            result.remove(cur)
                        else:
                            cur["VALUE"] = str(item.get("VALUE", cur["VALUE"]))
                            cur["VALUE_TYPE"] = str(item.get("VALUE_TYPE", cur["VALUE_TYPE"]))
                        break
                continue
            if item.get("VALUE") in (None, ""):
                continue
            result.append(
                {
                    "ID": str(self.store.next_id("multifield")),
                    "VALUE_TYPE": str(item.get("VALUE_TYPE") or "WORK"),
                    "VALUE": str(item["VALUE"]),
                    "TYPE_ID": type_id,
                }
            )
        return result

    def insert(self, spec: EntitySpec, data: dict[str, Any], rid: int | None = None) -> int:
        with self.store.locked():
            if rid is None:
                rid = self.store.next_id(spec.table)
            else:
                self.store.bump_seq(spec.table, rid)
            data[spec.id_key] = rid
            now = self.now()
            if spec.created_key:
                data.setdefault(spec.created_key, now)
            modified = None
            if spec.modified_key:
                data[spec.modified_key] = now
                modified = now
            self._derive(spec, data)
            self.store.put(spec.table, rid, modified, _compact(data))
        return rid

    def replace(self, spec: EntitySpec, rid: int, changes: dict[str, Any]) -> dict[str, Any] | None:
        with self.store.locked():
            cur = self.store.get(spec.table, rid)
            if cur is None:
                return None
            cur.update(changes)
            modified = None
            if spec.modified_key:
                modified = self.now()
                cur[spec.modified_key] = modified
            self._derive(spec, cur)
            self.store.put(spec.table, rid, modified, _compact(cur))
            return cur

    def remove(self, spec: EntitySpec, rid: int) -> bool:
        return self.store.delete(spec.table, rid)

    def _derive(self, spec: EntitySpec, data: dict[str, Any]) -> None:
        if spec.style == LEGACY:
            for key in ("PHONE", "EMAIL"):
                if f"HAS_{key}" in spec.fields:
                    data[f"HAS_{key}"] = "Y" if data.get(key) else "N"
            if "HAS_IMOL" in spec.fields:
                data.setdefault("HAS_IMOL", "N")


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Unset values are not stored: json_extract reads them as NULL, the codec writes null."""
    return {k: v for k, v in data.items() if v is not None and v != []}


def select_legacy(spec: EntitySpec, select: Any) -> list[str]:
    """Legacy select: default '*' + 'UF_*'; multi-fields and select-only fields only when named."""
    names = [str(x) for x in as_list(select)]
    if not names:
        names = ["*", "UF_*"]
    keys: list[str] = []
    seen: set[str] = set()

    def add(k: str) -> None:
        if k not in seen and k in spec.fields:
            seen.add(k)
            keys.append(k)

    for n in names:
        if n == "*":
            for k in spec.standard_keys():
                add(k)
        elif n == "UF_*":
            for k in spec.user_keys():
                add(k)
        elif n in spec.hidden:
            continue
        else:
            add(n)
    if spec.id_key not in seen:
        keys.insert(0, spec.id_key)
    return keys


def all_keys(spec: EntitySpec, stored: dict[str, Any]) -> list[str]:
    """What a legacy get returns: every field but hidden ones, multi-fields only when the record has them."""
    return [
        k
        for k, f in spec.fields.items()
        if (f.type != fm.MULTIFIELD_TYPE or stored.get(k))
        and k not in spec.select_only
        and k not in spec.hidden
    ] + [k for k in spec.select_only if k in stored]
