"""crm.<deal|lead|contact|company>.userfield.add/get/list/update/delete: user fields kept in a table, so a
field added over REST shows in the next `*.fields` answer, in selects and in filters.

Rows (canonical): ID, ENTITY, FIELD_NAME, USER_TYPE_ID, XML_ID, SORT, MULTIPLE, MANDATORY, SHOW_FILTER,
SHOW_IN_LIST, EDIT_IN_LIST, IS_SEARCHABLE, SETTINGS, LABEL, LIST [{ID, VALUE, SORT, DEF, XML_ID}].
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import cost as costs
from .entities import EntitySpec, as_list
from .errors import MethodResult, PortalError
from .fieldmeta import Field
from .params import obj_param, require_id
from .records import Records
from .values import is_yes

Handler = Callable[[dict[str, Any]], MethodResult]
ENTITIES = ("deal", "lead", "contact", "company")
TYPES = frozenset(
    {
        "string",
        "integer",
        "double",
        "boolean",
        "datetime",
        "date",
        "money",
        "url",
        "address",
        "enumeration",
        "file",
        "employee",
        "crm_status",
        "iblock_section",
        "iblock_element",
        "crm",
    }
)
FLAGS = ("MULTIPLE", "MANDATORY", "SHOW_FILTER", "SHOW_IN_LIST", "EDIT_IN_LIST", "IS_SEARCHABLE")
FLAG_DEFAULTS = {
    "MULTIPLE": "N",
    "MANDATORY": "N",
    "SHOW_FILTER": "N",
    "SHOW_IN_LIST": "N",
    "EDIT_IN_LIST": "Y",
    "IS_SEARCHABLE": "N",
}
LABELS = ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL", "ERROR_MESSAGE", "HELP_MESSAGE")
_NAME_RE = re.compile(r"^[A-Z0-9_]+$")
FIRST_ENUM_ID = 1000  # enumeration items added over REST; the built-in ones are below


class UserFields:
    def __init__(self, records: Records, specs: dict[str, EntitySpec], on_change: Callable[[], None]) -> None:
        self.records = records
        self.specs = specs
        self.on_change = on_change
        self.spec = EntitySpec("userfield", "userfield", "plain", {}, id_key="ID")
        records.store.ensure_table("userfield")

    def register(self, table: dict[str, Handler]) -> None:
        for entity in ENTITIES:
            prefix = f"crm.{entity}.userfield."
            table[prefix + "add"] = self._bind(self.add, entity)
            table[prefix + "get"] = self._bind(self.get, entity)
            table[prefix + "list"] = self._bind(self.list_rows, entity)
            table[prefix + "update"] = self._bind(self.update, entity)
            table[prefix + "delete"] = self._bind(self.delete, entity)

    @staticmethod
    def _bind(fn: Callable[[str, dict[str, Any]], MethodResult], entity: str) -> Handler:
        return lambda params: fn(entity, params)

    # ---- setup: the built-in fields become rows once, then specs always follow the rows -------------
    def install(self, fresh: bool) -> None:
        store = self.records.store
        if fresh:
            for entity in ENTITIES:
                for f in [f for f in self.specs[entity].fields.values() if f.dynamic]:
                    rid = store.next_id("userfield")
                    store.put("userfield", rid, None, {"ID": rid, "ENTITY": entity, **_row_of(f)})
            store.bump_seq("uf_enum", FIRST_ENUM_ID - 1)
        self.rebuild()

    def rebuild(self) -> None:
        rows = self.records.store.query("userfield", "1", [], "id", None)
        for entity in ENTITIES:
            fields = self.specs[entity].fields
            for key in [k for k, f in fields.items() if f.dynamic]:
                del fields[key]
            mine = sorted((r for r in rows if r["ENTITY"] == entity), key=lambda r: (int(r["SORT"]), r["ID"]))
            for row in mine:
                fields[row["FIELD_NAME"]] = field_of(row)
        self.on_change()

    # ---- methods ---------------------------------------------------------------------------------
    def add(self, entity: str, params: dict[str, Any]) -> MethodResult:
        fields = obj_param(params, "fields")
        name = str(fields.get("FIELD_NAME") or "").strip().upper()
        if not name:
            raise PortalError("", "The 'FIELD_NAME' field is not found.")
        if not name.startswith("UF_CRM_"):
            name = "UF_CRM_" + name
        if len(name) > 50:
            raise PortalError("", "Field name is too long (more than 50 characters).")
        if not _NAME_RE.match(name):
            raise PortalError(
                "", "Field name contains invalid characters. Allowed characters are: A-Z, 0-9, and _."
            )
        utype = str(fields.get("USER_TYPE_ID") or "").strip()
        if not utype:
            raise PortalError("", "The 'USER_TYPE_ID' field is not found.")
        if utype not in TYPES:
            raise PortalError("", "Invalid custom type specified")
        if name in self.specs[entity].fields:
            raise PortalError("", f"A field with the code {name} already exists.")
        row: dict[str, Any] = {
            "ENTITY": entity,
            "FIELD_NAME": name,
            "USER_TYPE_ID": utype,
            "XML_ID": fields.get("XML_ID"),
            "SORT": _sort(fields.get("SORT"), 100),
        }
        for flag in FLAGS:
            row[flag] = "Y" if is_yes(fields.get(flag, FLAG_DEFAULTS[flag])) else "N"
        if utype == "boolean":
            row["MULTIPLE"] = "N"  # docs: fields of type boolean cannot be multiple
        row["SETTINGS"] = (
            dict(fields.get("SETTINGS") or {}) if isinstance(fields.get("SETTINGS"), dict) else {}
        )
        row["LABEL"] = _label(fields) or name
        row["LIST"] = self._merge_list([], fields.get("LIST")) if utype == "enumeration" else []
        with self.records.store.locked():
            rid = self.records.store.next_id("userfield")
            self.records.store.put("userfield", rid, None, {"ID": rid, **row})
        self.rebuild()
        return MethodResult(rid, cost=costs.write_cost(len(fields)))

    def _row(self, entity: str, params: dict[str, Any]) -> dict[str, Any]:
        row = self.records.store.get("userfield", require_id(params))
        if row is None or row["ENTITY"] != entity:
            raise PortalError("", "Not found")
        return row

    def get(self, entity: str, params: dict[str, Any]) -> MethodResult:
        row = self._row(entity, params)
        out = _out(row)
        for key in LABELS:
            out[key] = {"en": row["LABEL"], "de": row["LABEL"]}
        return MethodResult(out, cost=costs.get_cost(len(out)))

    def list_rows(self, entity: str, params: dict[str, Any]) -> MethodResult:
        """Unpaged; filter by exact values of the row keys (LANG adds the labels in that language)."""
        flt = {str(k).upper(): v for k, v in obj_param(params, "filter").items()}
        lang = flt.pop("LANG", None)
        rows = self.records.store.query(
            "userfield", "json_extract(data, '$.ENTITY') = ?", [entity], "id", None
        )
        out = []
        for row in sorted(rows, key=lambda r: (int(r["SORT"]), r["ID"])):
            shown = _out(row)
            if all(str(shown.get(k)) == str(v) for k, v in flt.items() if k in shown):
                if lang:
                    shown.update({k: row["LABEL"] for k in LABELS})
                out.append(shown)
        return MethodResult(out, total=len(out), cost=costs.list_cost(len(out), 13, 0, len(out)))

    def update(self, entity: str, params: dict[str, Any]) -> MethodResult:
        """FIELD_NAME, USER_TYPE_ID and MULTIPLE are fixed once created; the rest may change."""
        fields = obj_param(params, "fields")
        with self.records.store.locked():
            row = self._row(entity, params)
            for flag in FLAGS:
                if flag in fields and flag != "MULTIPLE":
                    row[flag] = "Y" if is_yes(fields[flag]) else "N"
            if "SORT" in fields:
                row["SORT"] = _sort(fields["SORT"], row["SORT"])
            if isinstance(fields.get("SETTINGS"), dict):
                row["SETTINGS"] = {**row.get("SETTINGS", {}), **fields["SETTINGS"]}
            row["LABEL"] = _label(fields) or row["LABEL"]
            if row["USER_TYPE_ID"] == "enumeration" and "LIST" in fields:
                row["LIST"] = self._merge_list(row.get("LIST") or [], fields["LIST"])
            self.records.store.put("userfield", int(row["ID"]), None, row)
        self.rebuild()
        return MethodResult(True, cost=costs.write_cost(len(fields)))

    def delete(self, entity: str, params: dict[str, Any]) -> MethodResult:
        row = self._row(entity, params)
        self.records.store.delete("userfield", int(row["ID"]))
        self.rebuild()
        return MethodResult(True, cost=costs.write_cost(0))

    def _merge_list(self, current: list[dict[str, Any]], sent: Any) -> list[dict[str, Any]]:
        """Enumeration items: with ID change (DEL=Y removes), without ID are added; empty VALUE is ignored."""
        items = [dict(i) for i in current]
        for raw in as_list(sent):
            if not isinstance(raw, dict):
                continue
            iid = str(raw.get("ID") or "")
            match = next((i for i in items if i["ID"] == iid), None) if iid else None
            if match is not None:
                if is_yes(raw.get("DEL", "N")):
                    items.remove(match)
                else:
                    match.update({k: str(raw[k]) for k in ("VALUE", "SORT", "DEF", "XML_ID") if k in raw})
                continue
            if not str(raw.get("VALUE") or "").strip():
                continue
            nid = str(self.records.store.next_id("uf_enum"))
            xml_id = str(raw.get("XML_ID") or nid)
            if any(i["XML_ID"] == xml_id for i in items):
                raise PortalError("", f"List item with value XML_ID='{xml_id}' already exists")
            items.append(
                {
                    "ID": nid,
                    "VALUE": str(raw["VALUE"]),
                    "SORT": str(_sort(raw.get("SORT"), 0)),
                    "DEF": "Y" if is_yes(raw.get("DEF", "N")) else "N",
                    "XML_ID": xml_id,
                }
            )
        return sorted(items, key=lambda i: (int(i["SORT"]), int(i["ID"])))


def field_of(row: dict[str, Any]) -> Field:
    """The `*.fields` description of a user field row."""
    label = row["LABEL"]
    extras: dict[str, Any] = {
        "listLabel": label,
        "formLabel": label,
        "filterLabel": label,
        "settings": row.get("SETTINGS") or {},
    }
    if row["USER_TYPE_ID"] == "enumeration":
        extras["items"] = [{"ID": i["ID"], "VALUE": i["VALUE"]} for i in row.get("LIST") or []]
    return Field(
        row["FIELD_NAME"],
        row["USER_TYPE_ID"],
        row["FIELD_NAME"],
        required=row["MANDATORY"] == "Y",
        multiple=row["MULTIPLE"] == "Y",
        dynamic=True,
        extras=extras,
    )


def _row_of(f: Field) -> dict[str, Any]:
    """A built-in user field as a stored row."""
    row: dict[str, Any] = {
        "FIELD_NAME": f.name,
        "USER_TYPE_ID": f.type,
        "XML_ID": None,
        "SORT": 100,
        **FLAG_DEFAULTS,
        "SETTINGS": f.extras.get("settings", {}),
        "LABEL": f.extras.get("listLabel", f.name),
    }
    row["MULTIPLE"] = "Y" if f.multiple else "N"
    row["LIST"] = [
        {"ID": i["ID"], "VALUE": i["VALUE"], "SORT": str((n + 1) * 10), "DEF": "N", "XML_ID": i["ID"]}
        for n, i in enumerate(f.extras.get("items", []))
    ]
    return row


def _out(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ID": str(row["ID"]),
        "ENTITY_ID": f"CRM_{row['ENTITY'].upper()}",
        "FIELD_NAME": row["FIELD_NAME"],
        "USER_TYPE_ID": row["USER_TYPE_ID"],
        "XML_ID": row.get("XML_ID"),
        "SORT": str(row["SORT"]),
    }
    out.update({flag: row[flag] for flag in FLAGS})
    out["SETTINGS"] = row.get("SETTINGS") or {}
    if row["USER_TYPE_ID"] == "enumeration":
        out["LIST"] = [dict(i) for i in row.get("LIST") or []]
    return out


def _label(fields: dict[str, Any]) -> str:
    """LABEL, else the English (or first) text of a label map, else a plain label string."""
    for key in ("LABEL", *LABELS):
        v = fields.get(key)
        if isinstance(v, dict) and v:
            return str(v.get("en") or next(iter(v.values())))
        if v not in (None, ""):
            return str(v)
    return ""


def _sort(v: Any, default: int) -> int:
    try:
        n = int(float(v))
    except (TypeError, ValueError):
        return default
    return n if 0 <= n < 1_000_000_000 else default
