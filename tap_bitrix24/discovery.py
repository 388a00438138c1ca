"""Discovery: which streams the portal has and their schemas, from `*.fields` and `crm.type.list`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import stream_specs
from .portal import Portal
from .schema import JsonSchema, is_custom, stream_schema
from .stream_specs import StreamSpec


def wanted_smart_processes(types: list[dict[str, Any]], config: Mapping[str, Any]) -> list[StreamSpec]:
    """One spec per smart-process type, limited to `smart_process_types` when that is set."""
    chosen = set(config.get("smart_process_types") or [])
    specs = []
    for item in types:
        type_id = int(item.get("entityTypeId") or 0)
        if type_id < 128 or (chosen and type_id not in chosen):
            continue
        specs.append(stream_specs.smart_process(type_id, str(item.get("title") or "")))
    return specs


def build_schema(spec: StreamSpec, fields: Mapping[str, Mapping[str, Any]], with_custom: bool) -> JsonSchema:
    skip = stream_specs.LIST_UNAVAILABLE.get(spec.name, frozenset())
    kept = {
        name: meta
        for name, meta in fields.items()
        if name not in skip and (with_custom or not is_custom(name, meta))
    }
    schema = stream_schema(kept, spec.key)
    schema["title"] = spec.title or spec.name
    if spec.replication_key:
        schema["description"] = f"Incremental on {spec.replication_key}."
    return schema


def discover(portal: Portal, config: Mapping[str, Any]) -> list[tuple[StreamSpec, JsonSchema]]:
    specs = [*stream_specs.FIXED, *wanted_smart_processes(portal.smart_process_types(), config)]
    all_fields = portal.fields_of(specs)
    with_custom = bool(config.get("include_user_fields", True))
    return [(spec, build_schema(spec, all_fields[spec.name], with_custom)) for spec in specs]
