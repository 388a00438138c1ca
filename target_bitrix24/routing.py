"""Which entity, operation and match key each incoming stream is written with."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bitrix24_core.entity_names import entity_paths
from target_bitrix24.errors import TargetConfigError

OPERATIONS = ("add", "update", "upsert")

# Stream names (after dropping a tap's "schema-" prefix) that need no mapping.
DEFAULT_ENTITIES = {
    "deals": "crm.deal",
    "leads": "crm.lead",
    "contacts": "crm.contact",
    "companies": "crm.company",
    "activities": "crm.activity",
}
DEFAULT_ITEM_TYPES = {"invoices": 31}  # the tap's name for crm.item entityTypeId 31
ENTITY_ALIASES = {
    **entity_paths("deal", "lead", "contact", "company", "activity", "item"),
    "smart_process": "crm.item",
    **DEFAULT_ENTITIES,
}
_SMART_PROCESS_STREAM = re.compile(r"^(?:crm_items?|smart_process(?:es)?|items?)_(\d+)$")
_ENTITY_WITH_TYPE = re.compile(r"^crm\.item[:/](\d+)$")


@dataclass(frozen=True)
class StreamRoute:
    """How one stream is written: `entity` is the method prefix (crm.deal, crm.item, ...)."""

    stream: str
    entity: str
    operation: str
    match_field: str | None
    entity_type_id: int | None = None

    @property
    def uses_id(self) -> bool:
        """Whether records are matched by the entity's ID (an add never is: the portal assigns it)."""
        by_id = self.match_field is not None and self.match_field.lower() == "id"
        return by_id and self.operation != "add"

    @property
    def label(self) -> str:
        return f"{self.entity}:{self.entity_type_id}" if self.entity_type_id else self.entity


def short_name(stream_name: str) -> str:
    """tap-postgres names streams "<schema>-<table>"; defaults go by the table name."""
    return stream_name.rsplit("-", 1)[-1].lower()


def resolve_route(stream_name: str, config: Mapping[str, Any]) -> StreamRoute | None:
    """The route for a stream, or None when the stream maps to no entity (its records fail)."""
    streams: Mapping[str, Any] = config.get("streams") or {}
    spec = streams.get(stream_name, streams.get(short_name(stream_name)))
    if isinstance(spec, str):
        spec = {"entity": spec}
    spec = dict(spec or {})
    entity, type_id = _entity_of(stream_name, spec)
    if entity is None:
        return None
    operation = spec.get("operation") or config.get("default_operation") or "upsert"
    if operation not in OPERATIONS:
        raise TargetConfigError(f"stream {stream_name!r}: operation {operation!r} is not one of {OPERATIONS}")
    match_field = spec.get("match_field", config.get("default_match_field") or "ID")
    return StreamRoute(stream_name, entity, operation, match_field or None, type_id)


def _entity_of(stream_name: str, spec: dict[str, Any]) -> tuple[str | None, int | None]:
    type_id = spec.get("entity_type_id")
    name = spec.get("entity")
    if name is None and type_id is not None:
        name = "crm.item"
    if name is None:
        short = short_name(stream_name)
        found = _SMART_PROCESS_STREAM.match(short)
        if found:
            return "crm.item", int(found.group(1))
        if short in DEFAULT_ITEM_TYPES:
            return "crm.item", DEFAULT_ITEM_TYPES[short]
        return DEFAULT_ENTITIES.get(short), None
    name = str(name).strip().lower()
    found = _ENTITY_WITH_TYPE.match(name)
    if found:
        return "crm.item", int(found.group(1))
    entity = ENTITY_ALIASES.get(name, name)
    if entity == "crm.item" and type_id is None:
        raise TargetConfigError(f"stream {stream_name!r}: crm.item needs entity_type_id")
    return entity, int(type_id) if type_id is not None else None
