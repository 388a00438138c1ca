"""Entity specs (table, keys, fields, wire style) and the codec between stored and wire values.

Stored values are canonical: ints, floats, 'Y'/'N' for char flags, bools for boolean user fields,
epoch seconds for dates, lists for multiple fields. The wire style decides how they are written out:
legacy CRM writes every scalar as a string; crm.item writes JSON numbers and camelCase keys.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from . import fieldmeta as fm
from .fieldmeta import Field
from .values import ValueError_, format_instant, is_yes, parse_date, parse_instant, to_int

LEGACY = "legacy"
ITEM = "item"
PLAIN = "plain"  # directories (user, department, currency, status, type, category)


@dataclass
class EntitySpec:
    name: str
    table: str
    style: str
    fields: dict[str, Field]
    id_key: str = "ID"
    modified_key: str | None = None
    created_key: str | None = None
    select_only: frozenset[str] = frozenset()
    hidden: frozenset[str] = frozenset()  # described by *.fields, never returned by list/get
    entity_type_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def standard_keys(self) -> list[str]:
        """What '*' selects: no user fields, no multi-fields, nothing select-only or hidden."""
        skip = self.select_only | self.hidden
        return [
            k
            for k, f in self.fields.items()
            if not f.dynamic and f.type != fm.MULTIFIELD_TYPE and k not in skip
        ]

    def user_keys(self) -> list[str]:
        return [k for k, f in self.fields.items() if f.dynamic]


def legacy_spec(name: str, fields: dict[str, Field], uf_index: int | None, **kw: Any) -> EntitySpec:
    allf = dict(fields)
    if uf_index is not None:
        allf.update(fm.user_fields(uf_index))
    return EntitySpec(name, name, LEGACY, allf, **kw)


def crm_specs() -> dict[str, EntitySpec]:
    return {
        "deal": legacy_spec(
            "deal",
            fm.DEAL,
            0,
            modified_key="DATE_MODIFY",
            created_key="DATE_CREATE",
            hidden=fm.HIDDEN["deal"],
        ),
        "lead": legacy_spec("lead", fm.LEAD, 1, modified_key="DATE_MODIFY", created_key="DATE_CREATE"),
        "contact": legacy_spec(
            "contact",
            fm.CONTACT,
            2,
            modified_key="DATE_MODIFY",
            created_key="DATE_CREATE",
            hidden=fm.HIDDEN["contact"],
        ),
        "company": legacy_spec(
            "company", fm.COMPANY, 3, modified_key="DATE_MODIFY", created_key="DATE_CREATE"
        ),
        "activity": legacy_spec(
            "activity",
            fm.ACTIVITY,
            None,
            modified_key="LAST_UPDATED",
            created_key="CREATED",
            select_only=fm.ACTIVITY_SELECT_ONLY,
        ),
    }


def item_spec(entity_type_id: int, uf_prefix: str) -> EntitySpec:
    return EntitySpec(
        f"item{entity_type_id}",
        f"item_{entity_type_id}",
        ITEM,
        fm.item_fields(entity_type_id, uf_prefix),
        id_key="id",
        modified_key="updatedTime",
        created_key="createdTime",
        entity_type_id=entity_type_id,
    )


# crm.item names of legacy fields where the plain snake -> camel rule does not give them.
_CAMEL_SPECIAL = {
    "DATE_CREATE": "createdTime",
    "DATE_MODIFY": "updatedTime",
    "CREATED_BY_ID": "createdBy",
    "MODIFY_BY_ID": "updatedBy",
    "MOVED_BY_ID": "movedBy",
    "STATUS_ID": "stageId",
    "STATUS_SEMANTIC_ID": "stageSemanticId",
    "STAGE_SEMANTIC_ID": "stageSemanticId",
}
VIEW_ENTITY_TYPES = {1: "lead", 2: "deal", 3: "contact", 4: "company"}


def camel_name(upper: str) -> str:
    """STAGE_ID -> stageId; UF_CRM_1720019876534 -> ufCrm_1720019876534 (prefix camel, '_', rest)."""
    if upper in _CAMEL_SPECIAL:
        return _CAMEL_SPECIAL[upper]
    if upper.startswith("UF_CRM_"):
        return "ufCrm_" + upper[len("UF_CRM_") :]
    head, *rest = upper.lower().split("_")
    return head + "".join(p.capitalize() for p in rest)


def item_view_spec(legacy: EntitySpec, entity_type_id: int) -> EntitySpec:
    """crm.item over a legacy table (entityTypeId 1-4): camelCase keys, stored keys stay UPPER."""
    fields: dict[str, Field] = {}
    for upper, f in legacy.fields.items():
        if f.type == fm.MULTIFIELD_TYPE:
            continue
        camel = camel_name(upper)
        extras = {**f.extras, "upperName": upper}
        fields[camel] = Field(
            upper, f.type, f.title, f.read_only, f.required, f.immutable, f.multiple, f.dynamic, extras, camel
        )
    return EntitySpec(
        f"item{entity_type_id}",
        legacy.table,
        ITEM,
        fields,
        id_key="ID",
        modified_key=legacy.modified_key,
        created_key=legacy.created_key,
        entity_type_id=entity_type_id,
        extra={"legacy": legacy.name},
    )


# ---- wire encoding -------------------------------------------------------------------------------


def encode(spec: EntitySpec, rec: dict[str, Any], keys: list[str], tz: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    enc = _encode_legacy if spec.style == LEGACY else _encode_json
    for k in keys:
        f = spec.fields[k]
        v = rec.get(f.name)  # the stored key (differs from k in crm.item views of legacy entities)
        if f.type == fm.MULTIFIELD_TYPE:
            if v:
                out[k] = [dict(x) for x in v]
            continue
        if f.multiple:
            out[k] = [enc(f, x, tz) for x in v] if v else []
            continue
        out[k] = enc(f, v, tz)
    return out


def _encode_legacy(f: Field, v: Any, tz: int) -> Any:
    if v is None:
        return None
    t = f.type
    if t in fm.DATE_TYPES:
        return format_instant(v, tz)
    if t in fm.FLOAT_TYPES:
        return f"{float(v):.2f}"
    if t == "boolean":
        return "1" if v else "0"
    if isinstance(v, (dict, list)):
        return v
    return str(v)


def _encode_json(f: Field, v: Any, tz: int) -> Any:
    if v is None:
        return None
    t = f.type
    if t in fm.DATE_TYPES:
        return format_instant(v, tz)
    if t in fm.ITEM_FLAG_TYPES and f.camel:
        return "Y" if v else "N"
    if isinstance(v, float) and v.is_integer():
        return int(v)  # PHP writes 19000.0 as 19000
    return v


# ---- wire decoding (add/update input) ------------------------------------------------------------


def decode(f: Field, v: Any, tz: int) -> Any:
    """Canonical stored value from what a client sent; raises ValueError_ when unreadable."""
    if f.multiple and f.type != fm.MULTIFIELD_TYPE:
        items = _as_list(v)
        return [decode_scalar(f, x, tz) for x in items if x not in (None, "")]
    return decode_scalar(f, v, tz)


def decode_scalar(f: Field, v: Any, tz: int) -> Any:
    if v is None or v == "":
        return None
    t = f.type
    try:
        if t == "date":
            return parse_date(v, tz)
        if t in fm.DATE_TYPES:
            return parse_instant(v, tz)
        if t in fm.INT_TYPES:
            return to_int(v)
        if t in fm.FLOAT_TYPES:
            x = float(v)
            if not math.isfinite(x):
                raise ValueError_(f"invalid value for {f.name}: {v!r}")
            return round(x, 2)
        if t in fm.FLAG_TYPES:
            return "Y" if is_yes(v) else "N"
        if t == "boolean":
            return is_yes(v)
    except (TypeError, ValueError) as exc:
        raise ValueError_(f"invalid value for {f.name}: {v!r}") from exc
    if isinstance(v, (dict, list)):
        return v
    return str(v)


def _as_list(v: Any) -> list[Any]:
    if v is None or v == "" or v is False:
        return []
    if isinstance(v, dict):
        return [v[k] for k in sorted(v, key=_numeric_key)]
    if isinstance(v, list):
        return v
    return [v]


def _numeric_key(k: Any) -> tuple[int, str]:
    s = str(k)
    return (int(s), "") if s.isdigit() else (1 << 30, s)


def as_list(v: Any) -> list[Any]:
    """A list from a JSON list or a PHP-bracket map {"0": .., "1": ..}."""
    return _as_list(v)
