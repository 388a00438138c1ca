"""Every Bitrix24 field type -> a precise JSON Schema, and raw wire values converted to match it."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import jsonschema
import pytest
import requests
from tap_support import discover, portal_ids, run_tap, select, tap_config

from bitrix24_sandbox import Sandbox
from tap_bitrix24.records import RecordConverter, ValueConversionError
from tap_bitrix24.schema import field_schema

ENUM_META = {"items": [{"ID": "40", "VALUE": "North"}, {"ID": "41", "VALUE": "South"}]}
PHONE = {"ID": "2", "VALUE_TYPE": "WORK", "VALUE": "+495890022579", "TYPE_ID": "PHONE"}

# (Bitrix type, extra metadata, raw value as the portal sends it, expected JSON type, expected value)
CASES: list[tuple[str, dict[str, Any], Any, str, Any]] = [
    ("integer", {}, "42", "integer", 42),
    ("int", {}, 7, "integer", 7),
    ("user", {}, "3", "integer", 3),
    ("employee", {}, "3", "integer", 3),
    ("crm_company", {}, "0", "integer", 0),
    ("crm_contact", {}, "12", "integer", 12),
    ("crm_lead", {}, None, "integer", None),
    ("crm_deal", {}, "", "integer", None),
    ("crm_category", {}, "1", "integer", 1),
    ("crm_enum_ownertype", {}, "2", "integer", 2),
    ("crm_enum_activitytype", {}, "4", "integer", 4),
    ("location", {}, "15", "integer", 15),
    ("iblock_section", {}, "8", "integer", 8),
    ("iblock_element", {}, "9", "integer", 9),
    ("double", {}, "89981.85", "number", Decimal("89981.85")),
    ("double", {}, 126.29, "number", Decimal("126.29")),
    ("char", {}, "Y", "boolean", True),
    ("char", {}, "N", "boolean", False),
    ("boolean", {}, "1", "boolean", True),
    ("boolean", {}, "0", "boolean", False),
    ("boolean", {}, "Y", "boolean", True),
    ("boolean", {}, True, "boolean", True),
    ("date", {}, "2024-04-08T00:00:00+03:00", "string", "2024-04-08"),
    ("date", {}, "08.04.2024", "string", "2024-04-08"),
    ("datetime", {}, "2024-09-17T08:32:49+03:00", "string", "2024-09-17T08:32:49+03:00"),
    ("datetime", {}, "17.09.2024 08:32:49", "string", "2024-09-17T08:32:49+00:00"),
    ("datetime", {}, "", "string", None),
    ("money", {}, "64850.00|USD", "object", {"amount": Decimal("64850.00"), "currency": "USD"}),
    ("money", {}, "", "object", None),
    ("enumeration", ENUM_META, "41", "integer", 41),
    ("crm_multifield", {"isMultiple": True}, [PHONE], "array", [{**PHONE, "ID": 2}]),
    (
        "file",
        {},
        {"id": 5, "showUrl": "/s", "downloadUrl": "/d"},
        "object",
        {"id": 5, "showUrl": "/s", "downloadUrl": "/d"},
    ),
    ("file", {}, "12", "object", {"id": 12}),
    ("diskfile", {"isMultiple": True}, ["1", "2"], "array", [{"id": 1}, {"id": 2}]),
    ("string", {}, "text", "string", "text"),
    ("text", {}, "long text", "string", "long text"),
    ("url", {}, "https://example.com", "string", "https://example.com"),
    ("crm_status", {}, "WON", "string", "WON"),
    ("crm_currency", {}, "USD", "string", "USD"),
    ("crm_entity", {}, "D_12", "string", "D_12"),
    ("crm", {}, "C_3", "string", "C_3"),
    ("address", {}, "Main st 1|52.5;13.4", "string", "Main st 1|52.5;13.4"),
    ("object", {}, {"a": 1}, "object", {"a": 1}),
    ("object", {}, [], "object", {}),
    ("crm_activity_binding", {"isMultiple": True}, [{"OWNER_ID": "5"}], "array", [{"OWNER_ID": "5"}]),
    (
        "crm_activity_communication",
        {"isMultiple": True},
        [{"ID": "2", "TYPE": "PHONE", "VALUE": "+49", "ENTITY_ID": "5", "ENTITY_TYPE_ID": "2"}],
        "array",
        [{"ID": 2, "TYPE": "PHONE", "VALUE": "+49", "ENTITY_ID": 5, "ENTITY_TYPE_ID": 2}],
    ),
    ("string", {"isMultiple": True}, [], "array", []),
    ("string", {"isMultiple": True}, ["a", "b"], "array", ["a", "b"]),
    ("integer", {"isMultiple": True}, ["1", "2"], "array", [1, 2]),
]


def _json_ready(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize(("bitrix_type", "meta", "raw", "json_type", "expected"), CASES)
def test_every_field_type_maps_and_converts(
    bitrix_type: str, meta: dict[str, Any], raw: Any, json_type: str, expected: Any
) -> None:
    prop = field_schema("F", {"type": bitrix_type, "title": "F", **meta})
    kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    assert json_type in kinds and "null" in kinds
    schema = {"type": "object", "properties": {"F": prop}}
    converted = RecordConverter(schema)({"F": raw})
    assert converted == {"F": expected}
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert not list(validator.iter_errors(_json_ready(converted)))


def test_schema_details() -> None:
    enum = field_schema(
        "UF_CRM_REGION", {"type": "enumeration", "isDynamic": True, "listLabel": "Region", **ENUM_META}
    )
    assert enum["enum"] == [40, 41, None]
    assert (
        enum["title"] == "Region"
        and "40=North" in enum["description"]
        and "custom field" in enum["description"]
    )
    assert field_schema("DATE_MODIFY", {"type": "datetime"})["format"] == "date-time"
    assert field_schema("BEGINDATE", {"type": "date"})["format"] == "date"
    assert field_schema("ID", {"type": "integer"}, key=True)["type"] == "integer"  # keys are never null


def test_unknown_type_becomes_a_string_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        prop = field_schema("UF_CRM_NEW", {"type": "brand_new_type", "title": "New"})
    assert prop["type"] == ["string", "null"]
    assert any("brand_new_type" in r.getMessage() for r in caplog.records)
    schema = {"type": "object", "properties": {"UF_CRM_NEW": prop}}
    assert RecordConverter(schema)({"UF_CRM_NEW": {"x": 1}}) == {"UF_CRM_NEW": '{"x": 1}'}


def test_a_value_that_does_not_fit_names_the_field() -> None:
    schema = {
        "type": "object",
        "properties": {"PROBABILITY": field_schema("PROBABILITY", {"type": "integer"})},
    }
    with pytest.raises(ValueConversionError, match="PROBABILITY"):
        RecordConverter(schema)({"PROBABILITY": "forty"})


def test_records_from_the_sandbox_are_typed() -> None:
    """Raw wire values (strings, Y/N, money strings) come out typed, custom fields included."""
    with Sandbox(seed={"deals": 40, "contacts": 20, "items": 10}, speed=1000) as sb:
        config = tap_config(sb)
        run = run_tap(config, catalog=select(discover(config), ["deals", "contacts", "smart_process_128"]))
        deal_id = portal_ids(sb)[0]
        wire = requests.post(sb.webhook_url + "crm.deal.get", json={"id": deal_id}, timeout=30).json()[
            "result"
        ]
        deal = next(r for r in run.records("deals") if r["ID"] == deal_id)
        assert isinstance(wire["ID"], str) and deal["ID"] == int(wire["ID"])
        assert deal["OPPORTUNITY"] == pytest.approx(float(wire["OPPORTUNITY"]))
        assert deal["CLOSED"] is (wire["CLOSED"] == "Y")
        assert deal["DATE_MODIFY"] == wire["DATE_MODIFY"]
        amount, _, currency = str(wire["UF_CRM_BUDGET"]).partition("|")
        assert deal["UF_CRM_BUDGET"] == {"amount": pytest.approx(float(amount)), "currency": currency}
        assert deal["UF_CRM_VIP"] is (wire["UF_CRM_VIP"] in ("1", "Y"))
        schema = run.schema("deals")["properties"]
        assert deal["UF_CRM_REGION"] in schema["UF_CRM_REGION"]["enum"]
        phones = [p for r in run.records("contacts") for p in (r.get("PHONE") or [])]
        assert phones and all(isinstance(p["ID"], int) and p["TYPE_ID"] == "PHONE" for p in phones)
        items = run.records("smart_process_128")
        assert items and all(isinstance(i["opened"], bool) for i in items)
