"""Directories: crm.status, crm.category, crm.currency, user, department (list shapes of their own)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import cost as costs
from . import directory_data as dd
from . import fieldmeta as fm
from .entities import PLAIN, EntitySpec, decode_scalar
from .errors import MethodResult, PortalError, not_found
from .fieldmeta import Field
from .params import int_param, obj_param, param, require_id
from .records import RawPage, Records
from .values import format_instant

Handler = Callable[[dict[str, Any]], MethodResult]

USER_DATES = (
    "LAST_LOGIN",
    "DATE_REGISTER",
    "TIMESTAMP_X",
    "LAST_ACTIVITY_DATE",
    "PERSONAL_BIRTHDAY",
    "UF_EMPLOYMENT_DATE",
)
# What user.get returns for each user: every field user.fields names (unset ones as "").
USER_KEYS = tuple(fm.USER_LABELS)
USER_PARAMS = {"sort", "order", "filter", "admin_mode", "start", "auth"}


def _plain(
    name: str, fields: dict[str, Field], id_key: str = "ID", modified: str | None = None
) -> EntitySpec:
    return EntitySpec(name, name, PLAIN, fields, id_key=id_key, modified_key=modified)


def user_spec() -> EntitySpec:
    fields: dict[str, Field] = {}
    for key, label in fm.USER_LABELS.items():
        ftype = "string"
        if key == "ID":
            ftype = "integer"
        elif key == "ACTIVE":
            ftype = "boolean"
        elif key in USER_DATES:
            ftype = "datetime"
        fields[key] = Field(key, ftype, label, multiple=key == "UF_DEPARTMENT")
    fields["UF_DEPARTMENT"] = Field("UF_DEPARTMENT", "integer", "Departments", multiple=True)
    return _plain("user", fields, modified="TIMESTAMP_X")


def department_spec() -> EntitySpec:
    types = {"ID": "integer", "NAME": "string", "SORT": "integer", "PARENT": "integer", "UF_HEAD": "integer"}
    return _plain("department", {k: Field(k, t, fm.DEPARTMENT_LABELS[k]) for k, t in types.items()})


def status_spec() -> EntitySpec:
    return _plain("status", dict(fm.STATUS))


def category_spec() -> EntitySpec:
    types = {
        "id": "integer",
        "name": "string",
        "sort": "integer",
        "entityTypeId": "integer",
        "isDefault": "char",
    }
    return _plain("category", {k: Field(k, t, k) for k, t in types.items()}, id_key="id")


def currency_spec() -> EntitySpec:
    return _plain("currency", dict(fm.CURRENCY), id_key="_n")


class Directories:
    def __init__(self, records: Records) -> None:
        self.records = records
        self.user = user_spec()
        self.department = department_spec()
        self.status = status_spec()
        self.category = category_spec()
        self.currency = currency_spec()
        for spec in (self.user, self.department, self.status, self.category, self.currency):
            records.store.ensure_table(spec.table)

    @property
    def tz(self) -> int:
        return self.records.tz

    def register(self, table: dict[str, Handler]) -> None:
        table.update(
            {
                "crm.status.list": self.status_list,
                "crm.status.fields": lambda p: MethodResult(
                    {k: f.describe() for k, f in self.status.fields.items()}, cost=costs.META
                ),
                "crm.status.get": self.status_get,
                "crm.status.entity.types": self.status_entity_types,
                "crm.category.list": self.category_list,
                "crm.category.get": self.category_get,
                "crm.category.fields": self.category_fields,
                "crm.currency.list": self.currency_list,
                "crm.currency.get": self.currency_get,
                "crm.currency.fields": lambda p: MethodResult(
                    {k: f.describe() for k, f in self.currency.fields.items()}, cost=costs.META
                ),
                "crm.currency.base.get": lambda p: MethodResult(dd.BASE_CURRENCY, cost=costs.META),
                "user.get": self.user_get,
                "user.current": self.user_current,
                "user.fields": lambda p: MethodResult(dict(fm.USER_LABELS), cost=costs.META),
                "department.get": self.department_get,
                "department.fields": lambda p: MethodResult(dict(fm.DEPARTMENT_LABELS), cost=costs.META),
                "department.add": self.department_add,
                "department.update": self.department_update,
                "department.delete": self.department_delete,
            }
        )

    # ---- initial content -------------------------------------------------------------------------
    def install(self, now: int) -> None:
        """What a fresh portal has: statuses, two deal pipelines, currencies, the admin, one department."""
        store = self.records.store
        if store.count("status", "1", []):
            return
        for row in dd.statuses():
            store.put("status", row["ID"], None, row)
        store.bump_seq("status", len(dd.statuses()))
        for cat in dd.DEAL_CATEGORIES:
            store.put("category", int(cat["id"]), None, dict(cat))
        store.bump_seq("category", 1)
        for n, (code, rate, cnt, sort, name, fmt) in enumerate(dd.CURRENCIES, start=1):
            store.put(
                "currency",
                n,
                None,
                {
                    "_n": n,
                    "CURRENCY": code,
                    "AMOUNT_CNT": cnt,
                    "AMOUNT": rate,
                    "SORT": sort,
                    "BASE": "Y" if code == dd.BASE_CURRENCY else "N",
                    "FULL_NAME": name,
                    "FORMAT_STRING": fmt,
                    "DATE_UPDATE": now - 400 * 86400,
                },
            )
        store.put("department", 1, None, {"ID": 1, "NAME": "Company", "SORT": 500, "UF_HEAD": 1})
        store.bump_seq("department", 1)
        store.put("user", 1, now - 86400, admin_user(now))
        store.bump_seq("user", 1)

    # ---- crm.status ------------------------------------------------------------------------------
    def _status_out(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in (
            "ID",
            "ENTITY_ID",
            "STATUS_ID",
            "NAME",
            "NAME_INIT",
            "SORT",
            "SYSTEM",
            "CATEGORY_ID",
            "COLOR",
            "SEMANTICS",
            "EXTRA",
        ):
            v = row.get(k)
            out[k] = v if v is None or isinstance(v, dict) else str(v)
        return out

    def status_list(self, params: dict[str, Any]) -> MethodResult:
        """crm.status.list has no paging: every matching row in one answer."""
        raw = self.records.select(
            self.status, param(params, "filter"), param(params, "order") or {"SORT": "ASC"}, None, limit=None
        )
        rows = [self._status_out(r) for r in raw.rows]
        return MethodResult(rows, total=len(rows), cost=raw.cost(11))

    def _raw(self, spec: EntitySpec, flt: Any, order: Any) -> list[dict[str, Any]]:
        """Every matching stored row of a small directory (no paging, no count)."""
        return self.records.select(spec, flt, order, -1, limit=None).rows

    def status_get(self, params: dict[str, Any]) -> MethodResult:
        row = self.records.fetch(self.status, require_id(params))
        if row is None:
            raise not_found()
        return MethodResult(self._status_out(row), cost=costs.get_cost(11))

    def status_entity_types(self, params: dict[str, Any]) -> MethodResult:
        rows = self._raw(self.status, None, {"ID": "ASC"})
        seen: dict[str, dict[str, Any]] = {}
        for r in rows:
            seen.setdefault(r["ENTITY_ID"], {"ID": r["ENTITY_ID"], "NAME": r["ENTITY_ID"].title()})
        return MethodResult(list(seen.values()), cost=costs.META)

    def add_statuses(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            rid = self.records.store.next_id("status")
            self.records.store.put("status", rid, None, {"ID": rid, **row})

    # ---- crm.category ----------------------------------------------------------------------------
    def _category_out(self, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": row["id"],
            "name": row["name"],
            "sort": row["sort"],
            "entityTypeId": row["entityTypeId"],
            "isDefault": row.get("isDefault", "N"),
            "originId": "",
            "originatorId": "",
        }

    def categories_of(self, entity_type_id: int) -> list[dict[str, Any]]:
        return self._raw(self.category, {"entityTypeId": entity_type_id}, {"sort": "ASC"})

    def _entity_type(self, params: dict[str, Any]) -> int:
        etid = int_param(params, "entityTypeId")
        if etid is None:
            raise PortalError("INVALID_ARG_VALUE", "entityTypeId is required")
        if not self.categories_of(etid):
            raise PortalError("NOT_FOUND", "Smart process not found")
        return etid

    def category_list(self, params: dict[str, Any]) -> MethodResult:
        rows = self.categories_of(self._entity_type(params))
        return MethodResult(
            {"categories": [self._category_out(r) for r in rows]},
            total=len(rows),
            cost=costs.list_cost(len(rows), 7, 0, len(rows)),
        )

    def category_get(self, params: dict[str, Any]) -> MethodResult:
        etid = self._entity_type(params)
        cid = int_param(params, "id")
        for row in self.categories_of(etid):
            if row["id"] == cid:
                return MethodResult({"category": self._category_out(row)}, cost=costs.get_cost(7))
        raise PortalError("NOT_FOUND", "Category not found")

    def category_fields(self, params: dict[str, Any]) -> MethodResult:
        out = {}
        for k, t in (
            ("id", "integer"),
            ("name", "string"),
            ("sort", "integer"),
            ("entityTypeId", "integer"),
            ("isDefault", "boolean"),
        ):
            out[k] = Field(k, t, k, read_only=k in ("id", "entityTypeId")).describe()
        return MethodResult({"fields": out}, cost=costs.META)

    def add_category(self, entity_type_id: int, name: str, default: bool) -> int:
        cid = self.records.store.next_id("category")
        self.records.store.put(
            "category",
            cid,
            None,
            {
                "id": cid,
                "name": name,
                "sort": 500,
                "entityTypeId": entity_type_id,
                "isDefault": "Y" if default else "N",
            },
        )
        return cid

    # ---- crm.currency ----------------------------------------------------------------------------
    def _currency_out(self, row: dict[str, Any], lang: str = "en") -> dict[str, Any]:
        loc = dd.CURRENCY_LANGS[lang]
        return {
            "CURRENCY": row["CURRENCY"],
            "AMOUNT_CNT": str(row["AMOUNT_CNT"]),
            "AMOUNT": f"{float(row['AMOUNT']):.4f}",
            "SORT": str(row["SORT"]),
            "BASE": row["BASE"],
            "FULL_NAME": row["FULL_NAME"],
            "LID": lang,
            "FORMAT_STRING": row["FORMAT_STRING"],
            "DEC_POINT": loc["DEC_POINT"],
            "THOUSANDS_SEP": loc["THOUSANDS_SEP"],
            "DECIMALS": "2",
            "DATE_UPDATE": format_instant(row["DATE_UPDATE"], self.tz),
        }

    def currency_list(self, params: dict[str, Any]) -> MethodResult:
        """Order only; 'total' is always 0 (docs crm/currency/crm-currency-list.md)."""
        order = {str(k).upper(): v for k, v in (obj_param(params, "order") or {"SORT": "ASC"}).items()}
        rows = self._raw(self.currency, None, order)
        return MethodResult(
            [self._currency_out(r) for r in rows], total=0, cost=costs.list_cost(len(rows), 12, 0, None)
        )

    def currency_get(self, params: dict[str, Any]) -> MethodResult:
        code = str(param(params, "id") or "").upper()
        if not code:
            raise PortalError("", "The parameter id is not defined or invalid.")
        rows = self._raw(self.currency, {"CURRENCY": code}, None)
        if not rows:
            raise not_found()
        out = self._currency_out(rows[0])
        out["LANG"] = {
            lang: {
                "FORMAT_STRING": rows[0]["FORMAT_STRING"],
                "FULL_NAME": rows[0]["FULL_NAME"],
                "DEC_POINT": loc["DEC_POINT"],
                "THOUSANDS_SEP": loc["THOUSANDS_SEP"],
                "DECIMALS": "2",
                "THOUSANDS_VARIANT": loc["THOUSANDS_VARIANT"],
                "HIDE_ZERO": "Y",
            }
            for lang, loc in dd.CURRENCY_LANGS.items()
        }
        return MethodResult(out, cost=costs.get_cost(14))

    # ---- user ------------------------------------------------------------------------------------
    def user_out(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k in USER_KEYS:
            v = row.get(k)
            if k == "ACTIVE":
                out[k] = bool(v)
            elif k == "UF_DEPARTMENT":
                out[k] = list(v or [])
            elif k in USER_DATES:
                out[k] = format_instant(v, self.tz) if v is not None else ""
            else:
                out[k] = "" if v is None else str(v)
        return out

    def user_get(self, params: dict[str, Any]) -> MethodResult:
        """FILTER (or filter keys at the top level), sort + order, start (-1: no count), ADMIN_MODE."""
        flt = dict(obj_param(params, "filter"))
        for k, v in params.items():
            if str(k).lower() not in USER_PARAMS:
                flt.setdefault(str(k), v)
        flt = self._user_filter(flt)
        sort = str(param(params, "sort") or "ID").upper()
        direction = str(param(params, "order") or "ASC").upper()
        raw = self.records.select(self.user, flt, {sort: direction}, param(params, "start"))
        return _legacy_page([self.user_out(r) for r in raw.rows], raw, len(USER_KEYS))

    def _user_filter(self, flt: dict[str, Any]) -> dict[str, Any]:
        """Plain string keys with '%' in the value are patterns (docs: {"NAME": "Iva%"});
        NAME_SEARCH looks in names and e-mail."""
        out: dict[str, Any] = {}
        for k, v in flt.items():
            if k.upper() == "NAME_SEARCH":
                out["0"] = {"logic": "OR", "0": {"%NAME": v}, "1": {"%LAST_NAME": v}, "2": {"%EMAIL": v}}
                continue
            if k[:1].isalpha() and isinstance(v, str) and "%" in v:
                out["=%" + k] = v
                continue
            out[k] = v
        return out

    def user_current(self, params: dict[str, Any]) -> MethodResult:
        row = self.records.fetch(self.user, 1)
        if row is None:
            raise not_found()
        return MethodResult(self.user_out(row), cost=costs.get_cost(len(USER_KEYS)))

    # ---- department ------------------------------------------------------------------------------
    def department_out(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ID": str(row["ID"]),
            "NAME": row.get("NAME", ""),
            "SORT": int(row.get("SORT", 500)),
        }
        if row.get("PARENT"):
            out["PARENT"] = str(row["PARENT"])
        if row.get("UF_HEAD"):
            out["UF_HEAD"] = str(row["UF_HEAD"])
        return out

    def department_get(self, params: dict[str, Any]) -> MethodResult:
        """Flat params: upper-case ID, NAME, SORT, PARENT, UF_HEAD filter; lower-case sort/order sort."""
        fields = self.department.fields
        params = dict(params)
        sort = str(params.get("sort") or "")
        if not sort and str(params.get("SORT", "")).upper() in fields:  # 'SORT': 'NAME' names a field
            sort = str(params.pop("SORT"))
        flt = {k: v for k, v in params.items() if k in fields}
        sort = sort.upper() or "SORT"
        direction = str(params.get("order") or params.get("ORDER") or "ASC").upper()
        raw = self.records.select(self.department, flt, {sort: direction}, param(params, "start"))
        return _legacy_page([self.department_out(r) for r in raw.rows], raw, 5)

    def _department_fields(self, params: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("NAME", "SORT", "PARENT", "UF_HEAD"):
            v = param(params, key)
            if v is not None:
                try:
                    out[key] = decode_scalar(self.department.fields[key], v, self.tz)
                except ValueError as exc:
                    raise PortalError("ERROR_CORE", str(exc)) from exc
        return out

    def department_add(self, params: dict[str, Any]) -> MethodResult:
        data = self._department_fields(params)
        if not data.get("NAME"):
            raise PortalError("ERROR_CORE", "Department name is required")
        if not data.get("PARENT"):
            raise PortalError("ERROR_CORE", "Parent department is required")
        if self.records.fetch(self.department, int(data["PARENT"])) is None:
            raise PortalError("ERROR_CORE", "Parent department not found")
        data.setdefault("SORT", 500)
        rid = self.records.insert(self.department, data)
        return MethodResult(rid, cost=costs.write_cost(len(data)))

    def department_update(self, params: dict[str, Any]) -> MethodResult:
        rid = require_id(params, "ID")
        changes = self._department_fields(params)
        if self.records.replace(self.department, rid, changes) is None:
            raise PortalError("ERROR_NOT_FOUND", "Department not found")
        return MethodResult(True, cost=costs.write_cost(len(changes)))

    def department_delete(self, params: dict[str, Any]) -> MethodResult:
        rid = require_id(params, "ID")
        if not self.records.remove(self.department, rid):
            raise PortalError("ERROR_NOT_FOUND", "Department not found")
        return MethodResult(True, cost=costs.write_cost(0))


def admin_user(now: int) -> dict[str, Any]:
    return {
        "ID": 1,
        "XML_ID": "",
        "ACTIVE": True,
        "NAME": "Admin",
        "LAST_NAME": "Portal",
        "EMAIL": "admin@example.com",
        "LAST_LOGIN": now - 3600,
        "DATE_REGISTER": now - 6 * 365 * 86400,
        "IS_ONLINE": "Y",
        "TIMESTAMP_X": now - 86400,
        "LAST_ACTIVITY_DATE": now - 600,
        "PERSONAL_GENDER": "M",
        "WORK_POSITION": "Administrator",
        "UF_DEPARTMENT": [1],
        "USER_TYPE": "employee",
    }


def _legacy_page(rows: list[dict[str, Any]], raw: RawPage, fields: int) -> MethodResult:
    """Legacy paging envelope: start=-1 answers total 0 and no next."""
    cost = raw.cost(fields)
    if raw.total is None:
        return MethodResult(rows, total=0, cost=cost)
    return MethodResult(rows, total=raw.total, next=raw.next, cost=cost)
