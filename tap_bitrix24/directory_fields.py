"""Field types of directory entities whose `*.fields` answer gives no types.

`user.fields` and `department.fields` return only `{FIELD: "label"}` (wire facts, section 7), and
some portals have no `crm.category.fields`. These tables give each known field its Bitrix type; a
field the table does not know is read as a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FieldMeta = dict[str, Any]

USER_TYPES: dict[str, str] = {
    "ID": "integer",
    "ACTIVE": "boolean",
    "LAST_LOGIN": "datetime",
    "DATE_REGISTER": "datetime",
    "TIMESTAMP_X": "datetime",
    "LAST_ACTIVITY_DATE": "datetime",
    "PERSONAL_BIRTHDAY": "date",
    "UF_EMPLOYMENT_DATE": "date",
    "IS_ONLINE": "char",
    "UF_DEPARTMENT": "integer",
}
USER_MULTIPLE = frozenset({"UF_DEPARTMENT"})

DEPARTMENT_TYPES: dict[str, str] = {
    "ID": "integer",
    "NAME": "string",
    "SORT": "integer",
    "PARENT": "integer",
    "UF_HEAD": "user",
}

CATEGORY_FIELDS: dict[str, FieldMeta] = {
    "id": {"type": "integer", "title": "ID", "isReadOnly": True},
    "name": {"type": "string", "title": "Name"},
    "sort": {"type": "integer", "title": "Sort"},
    "entityTypeId": {"type": "integer", "title": "Entity type", "isReadOnly": True},
    "isDefault": {"type": "boolean", "title": "Default pipeline"},
    "originId": {"type": "string", "title": "Origin ID"},
    "originatorId": {"type": "string", "title": "Originator ID"},
}


def typed(
    labels: Mapping[str, Any], types: Mapping[str, str], multiple: frozenset[str] = frozenset()
) -> dict:
    """`{FIELD: label}` -> `{FIELD: {type, title, isMultiple}}`; a typed answer is kept as it is."""
    out: dict[str, FieldMeta] = {}
    for name, label in labels.items():
        if isinstance(label, Mapping):
            out[name] = dict(label)
            continue
        out[name] = {
            "type": types.get(name, "string"),
            "title": str(label or name),
            "isMultiple": name in multiple,
            "isDynamic": name.startswith("UF_") and name not in types,
        }
    return out
