"""Which entity, operation and match key a stream is written with."""

from __future__ import annotations

import pytest

from target_bitrix24.errors import TargetConfigError
from target_bitrix24.routing import StreamRoute, resolve_route


@pytest.mark.parametrize(
    ("stream", "config", "expected"),
    [
        ("deals", {}, StreamRoute("deals", "crm.deal", "upsert", "ID")),
        (
            "public-contacts",
            {"default_match_field": "ORIGIN_ID"},
            StreamRoute("public-contacts", "crm.contact", "upsert", "ORIGIN_ID"),
        ),
        ("smart_process_1038", {}, StreamRoute("smart_process_1038", "crm.item", "upsert", "ID", 1038)),
        ("invoices", {}, StreamRoute("invoices", "crm.item", "upsert", "ID", 31)),
        (
            "public-scores",
            {"streams": {"scores": {"entity": "lead", "operation": "update"}}},
            StreamRoute("public-scores", "crm.lead", "update", "ID"),
        ),
        (
            "orders",
            {"streams": {"orders": {"entity_type_id": 180, "match_field": "xmlId"}}},
            StreamRoute("orders", "crm.item", "upsert", "xmlId", 180),
        ),
        ("x", {"streams": {"x": "crm.item:130"}}, StreamRoute("x", "crm.item", "upsert", "ID", 130)),
        (
            "notes",
            {"streams": {"notes": {"entity": "deal", "operation": "add", "match_field": ""}}},
            StreamRoute("notes", "crm.deal", "add", None),
        ),
    ],
)
def test_routes(stream: str, config: dict, expected: StreamRoute) -> None:
    assert resolve_route(stream, config) == expected


def test_unknown_stream_has_no_route_and_bad_settings_say_why() -> None:
    assert resolve_route("mystery", {}) is None
    with pytest.raises(TargetConfigError, match="operation 'merge'"):
        resolve_route("deals", {"default_operation": "merge"})
    with pytest.raises(TargetConfigError, match="entity_type_id"):
        resolve_route("x", {"streams": {"x": {"entity": "crm.item"}}})


def test_id_is_used_only_when_matching_by_id_and_not_adding() -> None:
    assert StreamRoute("s", "crm.deal", "update", "ID").uses_id
    assert not StreamRoute("s", "crm.deal", "add", "ID").uses_id
    assert not StreamRoute("s", "crm.deal", "upsert", "ORIGIN_ID").uses_id
