"""crm.type.* (smart process types) and crm.item.* (their items, and invoices: entityTypeId 31).

crm.item answers in camelCase with JSON numbers, wrapped: list -> {"items": [...]}, get/add/update ->
{"item": {...}}; with start=-1 it omits both total and next. Filters are strict: an unknown field is
INVALID_ARG_VALUE, as the docs list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import cost as costs
from . import directory_data as dd
from .entities import VIEW_ENTITY_TYPES, EntitySpec, as_list, encode, item_spec, item_view_spec
from .errors import MethodResult, PortalError
from .fieldmeta import Field
from .methods_crm import LegacyCrm
from .methods_directory import Directories
from .params import int_param, obj_param, param
from .records import Records
from .values import is_yes

Handler = Callable[[dict[str, Any]], MethodResult]
INVOICE = 31
TYPE_FLAGS = (
    "isCategoriesEnabled",
    "isStagesEnabled",
    "isBeginCloseDatesEnabled",
    "isClientEnabled",
    "isUseInUserfieldEnabled",
    "isLinkWithProductsEnabled",
    "isMycompanyEnabled",
    "isDocumentsEnabled",
    "isSourceEnabled",
    "isObserversEnabled",
    "isRecyclebinEnabled",
    "isAutomationEnabled",
    "isBizProcEnabled",
    "isSetOpenPermissions",
    "isPaymentsEnabled",
    "isCountersEnabled",
)
TYPE_KEYS = (
    "id",
    "title",
    "code",
    "createdBy",
    "entityTypeId",
    "customSectionId",
    *TYPE_FLAGS,
    "createdTime",
    "updatedTime",
    "updatedBy",
)
# Smart process types a fresh sandbox portal has.
DEFAULT_TYPES = ((128, "Shipments", "shipment"), (130, "Service requests", "service_request"))


def type_spec() -> EntitySpec:
    fields: dict[str, Field] = {}
    for k in TYPE_KEYS:
        ftype = "integer"
        if k in ("title", "code"):
            ftype = "string"
        elif k in TYPE_FLAGS:
            ftype = "boolean"
        elif k.endswith("Time"):
            ftype = "datetime"
        fields[k] = Field(
            k,
            ftype,
            k,
            read_only=k in ("id", "createdBy", "createdTime", "updatedTime", "updatedBy"),
            camel=k,
        )
    return EntitySpec("type", "type", "plain", fields, id_key="id", modified_key="updatedTime")


class SmartItems:
    def __init__(self, records: Records, directories: Directories, legacy: LegacyCrm) -> None:
        self.records = records
        self.dirs = directories
        self.legacy = legacy
        self.types = type_spec()
        records.store.ensure_table("type")
        self.specs: dict[int, EntitySpec] = {}

    @property
    def tz(self) -> int:
        return self.records.tz

    def register(self, table: dict[str, Handler]) -> None:
        table.update(
            {
                "crm.type.list": self.type_list,
                "crm.type.get": self.type_get,
                "crm.type.getbyentitytypeid": self.type_by_entity_type,
                "crm.type.add": self.type_add,
                "crm.type.update": self.type_update,
                "crm.type.delete": self.type_delete,
                "crm.type.fields": self.type_fields,
                "crm.item.list": self.item_list,
                "crm.item.get": self.item_get,
                "crm.item.add": self.item_add,
                "crm.item.update": self.item_update,
                "crm.item.delete": self.item_delete,
                "crm.item.fields": self.item_fields,
            }
        )

    # ---- setup -----------------------------------------------------------------------------------
    def install(self, fresh: bool) -> None:
        """Invoices always exist; a fresh portal also gets two smart process types. Reopened DB files
        rebuild their specs from the stored types."""
        self.refresh_views()
        self._open_type(INVOICE, "SMART_INVOICE", fresh, "Invoices")
        if fresh:
            for etid, title, code in DEFAULT_TYPES:
                self.create_type({"title": title, "code": code, "entityTypeId": etid})
        for row in self.records.store.query("type", "1", [], "id", None):
            self._open_type(int(row["entityTypeId"]), str(row["id"]), False, row["title"])

    def refresh_views(self) -> None:
        """crm.item views of leads, deals, contacts, companies follow their (user) fields."""
        for etid, name in VIEW_ENTITY_TYPES.items():
            self.specs[etid] = item_view_spec(self.legacy.specs[name], etid)

    def _open_type(self, etid: int, uf_prefix: str, fresh: bool, title: str) -> EntitySpec:
        spec = item_spec(etid, uf_prefix)
        self.records.store.ensure_table(spec.table)
        self.specs[etid] = spec
        if fresh and not self.dirs.categories_of(etid):
            cid = self.dirs.add_category(etid, f"{title}: general", True)
            self.dirs.add_statuses(dd.dynamic_stages(etid, cid))
        return spec

    def create_type(self, fields: dict[str, Any]) -> dict[str, Any]:
        title = str(fields.get("title") or "").strip()
        if not title:
            raise PortalError("INVALID_ARG_VALUE", "Field 'title' is required")
        etid = int_or_none(fields.get("entityTypeId")) or self._next_entity_type_id()
        if etid in self.specs or etid < 128:
            raise PortalError("INVALID_ARG_VALUE", f"entityTypeId {etid} is not available")
        now = self.records.now()
        data: dict[str, Any] = {
            "title": title,
            "code": str(fields.get("code") or ""),
            "createdBy": 1,
            "updatedBy": 1,
            "entityTypeId": etid,
            "customSectionId": None,
            "createdTime": now,
        }
        for flag in TYPE_FLAGS:
            data[flag] = is_yes(
                fields.get(
                    flag,
                    "Y"
                    if flag
                    in (
                        "isCategoriesEnabled",
                        "isStagesEnabled",
                        "isClientEnabled",
                        "isBeginCloseDatesEnabled",
                    )
                    else "N",
                )
            )
        tid = self.records.insert(self.types, data)
        self._open_type(etid, str(tid), True, title)
        return self.records.fetch(self.types, tid) or data

    def _next_entity_type_id(self) -> int:
        used = [e for e in self.specs if e >= 128]
        return max(used) + 2 if used else 128

    # ---- crm.type --------------------------------------------------------------------------------
    def _type_out(self, row: dict[str, Any]) -> dict[str, Any]:
        out = encode(self.types, row, list(TYPE_KEYS), self.tz)
        for flag in TYPE_FLAGS:
            out[flag] = "Y" if row.get(flag) else "N"
        out["relations"] = {"parent": [], "child": []}
        out["linkedUserFields"] = {}
        return out

    def type_list(self, params: dict[str, Any]) -> MethodResult:
        raw = self.records.select(
            self.types, param(params, "filter"), param(params, "order"), param(params, "start"), strict=True
        )
        rows = [self._type_out(r) for r in raw.rows]
        return MethodResult({"types": rows}, total=raw.total, next=raw.next, cost=raw.cost(len(TYPE_KEYS)))

    def _type_row(self, params: dict[str, Any]) -> dict[str, Any]:
        tid = int_param(params, "id")
        row = self.records.fetch(self.types, tid) if tid else None
        if row is None:
            raise PortalError("NOT_FOUND", "Smart process not found")
        return row

    def type_get(self, params: dict[str, Any]) -> MethodResult:
        return MethodResult(
            {"type": self._type_out(self._type_row(params))}, cost=costs.get_cost(len(TYPE_KEYS))
        )

    def type_by_entity_type(self, params: dict[str, Any]) -> MethodResult:
        etid = int_param(params, "entityTypeId")
        rows = self.records.store.query("type", "json_extract(data, '$.entityTypeId') = ?", [etid], "id", 1)
        if not rows:
            raise PortalError("NOT_FOUND", "Smart process not found")
        return MethodResult({"type": self._type_out(rows[0])}, cost=costs.get_cost(len(TYPE_KEYS)))

    def type_add(self, params: dict[str, Any]) -> MethodResult:
        row = self.create_type(obj_param(params, "fields"))
        return MethodResult({"type": self._type_out(row)}, cost=costs.write_cost(len(TYPE_KEYS)))

    def type_update(self, params: dict[str, Any]) -> MethodResult:
        row = self._type_row(params)
        fields = obj_param(params, "fields")
        changes: dict[str, Any] = {"updatedBy": 1}
        if "title" in fields:
            changes["title"] = str(fields["title"])
        if "code" in fields:
            changes["code"] = str(fields["code"])
        for flag in TYPE_FLAGS:
            if flag in fields:
                changes[flag] = is_yes(fields[flag])
        new = self.records.replace(self.types, int(row["id"]), changes) or row
        return MethodResult({"type": self._type_out(new)}, cost=costs.write_cost(len(changes)))

    def type_delete(self, params: dict[str, Any]) -> MethodResult:
        row = self._type_row(params)
        etid = int(row["entityTypeId"])
        spec = self.specs.pop(etid)
        self.records.store.drop_table(spec.table)
        self.records.remove(self.types, int(row["id"]))
        return MethodResult([], cost=costs.write_cost(0))  # docs crm-type-delete.md: success is []

    def type_fields(self, params: dict[str, Any]) -> MethodResult:
        return MethodResult(
            {"fields": {k: f.describe() for k, f in self.types.fields.items()}}, cost=costs.META
        )

    # ---- crm.item --------------------------------------------------------------------------------
    def spec_of(self, params: dict[str, Any]) -> EntitySpec:
        etid = int_param(params, "entityTypeId")
        if etid is None:
            raise PortalError("INVALID_ARG_VALUE", "Could not find value for parameter {entityTypeId}")
        spec = self.specs.get(etid)
        if spec is None:
            raise PortalError("NOT_FOUND", "Smart process not found")
        return spec

    @staticmethod
    def _original(params: dict[str, Any]) -> bool:
        return is_yes(param(params, "useOriginalUfNames", "N") or "N")

    @staticmethod
    def aliases(spec: EntitySpec) -> dict[str, str]:
        """UPPER_CASE names (and original UF names) accepted for the camelCase fields."""
        return {f.extras.get("upperName", k): k for k, f in spec.fields.items()}

    def _out(self, spec: EntitySpec, rec: dict[str, Any], keys: list[str], original: bool) -> dict[str, Any]:
        out = encode(spec, rec, keys, self.tz)
        if spec.extra.get("legacy") and len(keys) == len(spec.fields):
            out["entityTypeId"] = spec.entity_type_id
        if original:
            out = {
                (spec.fields[k].extras["upperName"] if spec.fields[k].dynamic else k): v
                for k, v in out.items()
            }
        return out

    def _select(self, spec: EntitySpec, select: Any) -> list[str]:
        names = [str(x) for x in as_list(select)]
        if not names or "*" in names:
            return list(spec.fields)
        aliases = self.aliases(spec)
        keys = [aliases.get(spec.id_key, spec.id_key)]
        for n in names:
            k = aliases.get(n, n)
            if k in spec.fields and k not in keys:
                keys.append(k)
        return keys

    def item_list(self, params: dict[str, Any]) -> MethodResult:
        spec = self.spec_of(params)
        keys = self._select(spec, param(params, "select"))
        raw = self.records.select(
            spec,
            param(params, "filter"),
            param(params, "order"),
            param(params, "start"),
            strict=True,
            aliases=self.aliases(spec),
        )
        original = self._original(params)
        items = [self._out(spec, r, keys, original) for r in raw.rows]
        return MethodResult({"items": items}, total=raw.total, next=raw.next, cost=raw.cost(len(keys)))

    def _row(self, spec: EntitySpec, params: dict[str, Any], text: str) -> dict[str, Any]:
        rid = int_param(params, "id")
        row = self.records.fetch(spec, rid) if rid else None
        if row is None:
            raise PortalError("NOT_FOUND", text)
        return row

    def item_get(self, params: dict[str, Any]) -> MethodResult:
        spec = self.spec_of(params)
        row = self._row(spec, params, "Element not found")
        return MethodResult(
            {"item": self._out(spec, row, list(spec.fields), self._original(params))},
            cost=costs.get_cost(len(spec.fields)),
        )

    def _decode(self, spec: EntitySpec, fields: Any, current: dict[str, Any] | None) -> dict[str, Any]:
        aliases = self.aliases(spec)
        if not isinstance(fields, dict):
            raise PortalError("INVALID_ARG_VALUE", "Parameter 'fields' must be an object")
        renamed = {aliases.get(str(k), str(k)): v for k, v in fields.items()}
        return self.records.decode_fields(spec, renamed, current)

    def add_item(self, spec: EntitySpec, fields: Any) -> dict[str, Any]:
        legacy = spec.extra.get("legacy")
        if legacy:  # entityTypeId 1-4: the legacy entity's own add, with its defaults and rules
            rid = self.legacy.add_record(legacy, self._upper(spec, fields))
            return self.records.fetch(spec, rid) or {}
        etid = int(spec.entity_type_id or 0)
        data = self._defaults(etid)
        data.update({k: v for k, v in self._decode(spec, fields, None).items() if v is not None})
        with self.records.store.locked():  # readers never see the item before its default title
            rid = self.records.insert(spec, data)
            if not data.get("title"):
                label = "Invoice" if etid == INVOICE else "Item"
                data = self.records.replace(spec, rid, {"title": f"{label} #{rid}"}) or data
        return data

    def _defaults(self, etid: int) -> dict[str, Any]:
        cats = self.dirs.categories_of(etid)
        cid = cats[0]["id"] if cats else 0
        now = self.records.now()
        return {
            "categoryId": cid,
            "stageId": f"DT{etid}_{cid}:NEW",
            "opened": True,
            "isManualOpportunity": False,
            "opportunity": 0.0,
            "taxValue": 0.0,
            "currencyId": dd.BASE_CURRENCY,
            "companyId": 0,
            "contactId": 0,
            "mycompanyId": 0,
            "webformId": 0,
            "assignedById": 1,
            "createdBy": 1,
            "updatedBy": 1,
            "movedBy": 1,
            "movedTime": now,
            "entityTypeId": etid,
            "observers": [],
            "contactIds": [],
        }

    def item_add(self, params: dict[str, Any]) -> MethodResult:
        spec = self.spec_of(params)
        data = self.add_item(spec, param(params, "fields") or {})
        return MethodResult(
            {"item": self._out(spec, data, list(spec.fields), self._original(params))},
            cost=costs.write_cost(len(param(params, "fields") or {})),
        )

    def _upper(self, spec: EntitySpec, fields: Any) -> dict[str, Any]:
        if not isinstance(fields, dict):
            raise PortalError("INVALID_ARG_VALUE", "fields must be an object")
        aliases = self.aliases(spec)
        out = {}
        for k, v in fields.items():
            camel = aliases.get(str(k), str(k))
            if camel in spec.fields:
                out[spec.fields[camel].name] = v
        return out

    def update_item(self, spec: EntitySpec, rid: int, fields: Any) -> dict[str, Any]:
        with self.records.store.locked():  # read-modify-write under one lock
            return self._update_locked(spec, rid, fields)

    def _update_locked(self, spec: EntitySpec, rid: int, fields: Any) -> dict[str, Any]:
        cur = self.records.fetch(spec, rid)
        if cur is None:
            raise PortalError("NOT_FOUND", "Item not found")
        legacy = spec.extra.get("legacy")
        if legacy:
            self.legacy.update_record(legacy, rid, self._upper(spec, fields))
            return self.records.fetch(spec, rid) or cur
        changes = self._decode(spec, fields, cur)
        changes["updatedBy"] = 1
        if "stageId" in changes and changes["stageId"] != cur.get("stageId"):
            changes.update(previousStageId=cur.get("stageId"), movedBy=1, movedTime=self.records.now())
        return self.records.replace(spec, rid, changes) or cur

    def item_update(self, params: dict[str, Any]) -> MethodResult:
        spec = self.spec_of(params)
        rid = int_param(params, "id") or 0
        data = self.update_item(spec, rid, param(params, "fields") or {})
        return MethodResult(
            {"item": self._out(spec, data, list(spec.fields), self._original(params))},
            cost=costs.write_cost(len(param(params, "fields") or {})),
        )

    def item_delete(self, params: dict[str, Any]) -> MethodResult:
        spec = self.spec_of(params)
        rid = int_param(params, "id") or 0
        if not self.records.remove(spec, rid):
            raise PortalError("NOT_FOUND", "Item not found")
        return MethodResult([], cost=costs.write_cost(0))

    def item_fields(self, params: dict[str, Any]) -> MethodResult:
        spec = self.spec_of(params)
        original = self._original(params)
        out = {}
        for k, f in spec.fields.items():
            key = f.extras["upperName"] if original and f.dynamic else k
            out[key] = f.describe()
        return MethodResult({"fields": out}, cost=costs.META)


def int_or_none(v: Any) -> int | None:
    try:
        return int(v) if v not in (None, "") else None
    except (TypeError, ValueError):
        return None
