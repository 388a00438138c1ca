"""Bitrix24 field metadata (the answer of `*.fields`) -> JSON Schema for one stream.

Every property but the primary key is nullable: Bitrix leaves any field empty. Types the map does
not know become strings with a warning, so a new field type on the portal never breaks discovery.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

LOGGER = logging.getLogger("tap-bitrix24")

JsonSchema = dict[str, Any]

INTEGER_TYPES = frozenset(
    {
        "integer",
        "int",
        "user",
        "employee",
        "crm_company",
        "crm_contact",
        "crm_lead",
        "crm_deal",
        "crm_quote",
        "crm_category",
        "crm_smart_invoice",
        "crm_order",
        "iblock_section",
        "iblock_element",
        "location",
    }
)
NUMBER_TYPES = frozenset({"double", "float", "decimal"})
BOOLEAN_TYPES = frozenset({"char", "boolean", "bool"})
STRING_TYPES = frozenset(
    {
        "string",
        "text",
        "url",
        "crm_status",
        "crm_currency",
        "crm_entity",
        "crm",
        "address",
        "resourcebooking",
        "hlblock",
        "video",
        "string_formatted",
        "product_property",
    }
)
OBJECT_TYPES = frozenset({"object", "currency_localization", "crm_activity_binding"})

# Free-form objects keep every key (the SDK drops keys an object schema does not list).
FREE_OBJECT: JsonSchema = {"type": "object", "properties": {}, "additionalProperties": True}
MULTIFIELD: JsonSchema = {
    "type": "object",
    "properties": {
        "ID": {"type": ["integer", "null"]},
        "VALUE_TYPE": {"type": ["string", "null"]},
        "VALUE": {"type": ["string", "null"]},
        "TYPE_ID": {"type": ["string", "null"]},
    },
}
MONEY: JsonSchema = {
    "type": ["object", "null"],
    "properties": {
        "amount": {"type": ["number", "null"]},
        "currency": {"type": ["string", "null"]},
    },
}
FILE: JsonSchema = {
    "type": ["object", "null"],
    "properties": {
        "id": {"type": ["integer", "null"]},
        "showUrl": {"type": ["string", "null"]},
        "downloadUrl": {"type": ["string", "null"]},
    },
}
COMMUNICATION: JsonSchema = {
    "type": "object",
    "properties": {
        "ID": {"type": ["integer", "null"]},
        "TYPE": {"type": ["string", "null"]},
        "VALUE": {"type": ["string", "null"]},
        "ENTITY_ID": {"type": ["integer", "null"]},
        "ENTITY_TYPE_ID": {"type": ["integer", "null"]},
    },
}


def _nullable(schema: JsonSchema) -> JsonSchema:
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = [*kind, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _enumeration(meta: Mapping[str, Any]) -> JsonSchema:
    """Enumeration values are item IDs; the catalog lists each ID with its label."""
    items = [i for i in meta.get("items") or [] if isinstance(i, Mapping) and "ID" in i]
    schema: JsonSchema = {"type": "integer"}
    if items:
        schema["enum"] = [int(i["ID"]) for i in items]
    return schema


def _enum_labels(meta: Mapping[str, Any]) -> str:
    items = [i for i in meta.get("items") or [] if isinstance(i, Mapping) and "ID" in i]
    return "; ".join(f"{i['ID']}={i.get('VALUE', '')}" for i in items)


def value_schema(bitrix_type: str, meta: Mapping[str, Any], name: str) -> JsonSchema:
    """The schema of ONE value of a field (before multiplicity and nullability)."""
    kind = bitrix_type.lower()
    if kind in INTEGER_TYPES or kind.startswith("crm_enum_"):
        return {"type": "integer"}
    if kind == "enumeration":
        return _enumeration(meta)
    if kind in NUMBER_TYPES:
        return {"type": "number"}
    if kind in BOOLEAN_TYPES:
        return {"type": "boolean"}
    if kind == "datetime":
        return {"type": "string", "format": "date-time"}
    if kind == "date":
        return {"type": "string", "format": "date"}
    if kind == "money":
        return dict(MONEY)
    if kind in ("file", "diskfile", "disk_file"):
        return dict(FILE)
    if kind == "crm_multifield":
        return dict(MULTIFIELD)
    if kind == "crm_activity_communication":
        return dict(COMMUNICATION)
    if kind in OBJECT_TYPES:
        return dict(FREE_OBJECT)
    if kind not in STRING_TYPES:
        LOGGER.warning("Field %s has the unknown Bitrix type %r: typed as a string.", name, bitrix_type)
    return {"type": "string"}


def _labels(name: str, meta: Mapping[str, Any]) -> tuple[str, str]:
    """Title and description; user fields carry their human labels in listLabel/formLabel."""
    label = meta.get("listLabel") or meta.get("formLabel") or meta.get("title") or name
    if isinstance(label, Mapping):  # labels per language on some portals
        label = next(iter(label.values()), name)
    parts = [f"Bitrix24 type: {meta.get('type', 'string')}"]
    if meta.get("isDynamic") or str(name).upper().startswith("UF_") or str(name).startswith("uf"):
        parts.append("custom field")
    form = meta.get("formLabel")
    if isinstance(form, str) and form and form != label:
        parts.append(f"form label: {form}")
    if meta.get("isMultiple"):
        parts.append("multiple")
    if meta.get("isReadOnly"):
        parts.append("read-only")
    labels = _enum_labels(meta)
    if labels:
        parts.append(f"values: {labels}")
    return str(label), "; ".join(parts)


def field_schema(name: str, meta: Mapping[str, Any], *, key: bool = False) -> JsonSchema:
    """The property schema of one field, titled and described from its metadata."""
    single = value_schema(str(meta.get("type") or "string"), meta, name)
    multiple = bool(meta.get("isMultiple")) or str(meta.get("type")) == "crm_multifield"
    if multiple:
        if isinstance(single.get("type"), list):  # item schema itself need not be nullable
            single = {**single, "type": [t for t in single["type"] if t != "null"][0]}
        schema: JsonSchema = {"type": ["array", "null"], "items": single}
    else:
        schema = single if key else _nullable(single)
    title, description = _labels(name, meta)
    return {**schema, "title": title, "description": description}


def stream_schema(fields: Mapping[str, Mapping[str, Any]], key: str) -> JsonSchema:
    """The JSON Schema of a stream from its `*.fields` answer; `key` stays non-nullable."""
    properties = {name: field_schema(name, meta, key=(name == key)) for name, meta in fields.items()}
    return {"type": "object", "properties": properties, "required": [key]}


def is_custom(name: str, meta: Mapping[str, Any]) -> bool:
    """User (custom) fields: UF_* on legacy entities, uf* on crm.item, isDynamic everywhere."""
    return bool(meta.get("isDynamic")) or name.startswith("UF_") or name.startswith("uf")
