"""Values in the portal's shapes: Y/N flags, dates, multi-fields, multiple fields; read back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from bitrix24_sandbox import Sandbox
from target_bitrix24.convert import FieldMeta, RecordConverter, convert_value
from target_bitrix24.errors import RecordError

from .conftest import record_messages, run_target, schema_message


def test_values_land_in_the_portal_in_its_shapes(sandbox: Sandbox, base_config: dict) -> None:
    config = {**base_config, "default_match_field": "ORIGIN_ID"}
    schema = {
        "origin_id": {"type": "string"},
        "name": {"type": "string"},
        "opened": {"type": "boolean"},
        "uf_crm_vip": {"type": "boolean"},
        "birthdate": {"type": "string", "format": "date"},
        "uf_crm_next_call": {"type": "string", "format": "date-time"},
        "uf_crm_tags": {"type": "string"},
        "company_ids": {"type": "array", "items": {"type": "integer"}},
        "phone": {"type": "string"},
        "email": {"type": "array"},
    }
    company = sandbox.portal.add("company", {"TITLE": "Acme"})
    record = {
        "origin_id": "v1",
        "name": "Vera",
        "opened": False,
        "uf_crm_vip": True,
        "birthdate": "1990-05-17",
        "uf_crm_next_call": "2025-01-02T03:04:05",  # naive: taken as UTC
        "uf_crm_tags": '["red", "blue"]',  # a JSON text column from a warehouse
        "company_ids": [company],
        "phone": "+49 30 1234",
        "email": [{"VALUE": "v@x.io", "VALUE_TYPE": "HOME", "ID": "77"}],
    }
    run = run_target(config, [schema_message("contacts", schema), *record_messages("contacts", [record])])
    assert run.error is None and run.dead == [], run.dead
    select = ["*", "UF_*", "PHONE", "EMAIL"]
    row = sandbox.portal.dispatch(
        "crm.contact.list", {"filter": {"ORIGIN_ID": "v1"}, "select": select}
    ).result[0]
    links = sandbox.portal.dispatch("crm.contact.company.items.get", {"id": row["ID"]}).result
    assert row["OPENED"] == "N"
    assert row["UF_CRM_VIP"] in ("Y", "1", True)
    assert row["BIRTHDATE"].startswith("1990-05-17")
    assert dt.datetime.fromisoformat(row["UF_CRM_NEXT_CALL"]) == dt.datetime(
        2025, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc
    )
    assert row["UF_CRM_TAGS"] == ["red", "blue"]
    assert [str(link["COMPANY_ID"]) for link in links] == [str(company)]
    assert [(p["VALUE"], p["VALUE_TYPE"]) for p in row["PHONE"]] == [("+49 30 1234", "WORK")]
    assert [(e["VALUE"], e["VALUE_TYPE"]) for e in row["EMAIL"]] == [("v@x.io", "HOME")]
    assert row["EMAIL"][0]["ID"] != "77"  # a foreign value ID is never sent


@pytest.mark.parametrize(
    ("meta", "value", "expected"),
    [
        (FieldMeta("F", "boolean"), True, "Y"),
        (FieldMeta("F", "boolean"), "false", "N"),
        (FieldMeta("F", "boolean"), 1, "Y"),
        (FieldMeta("F", "char"), False, "N"),
        (FieldMeta("F", "char"), "Y", "Y"),
        (FieldMeta("F", "integer"), "42", 42),
        (FieldMeta("F", "user"), 7.0, 7),
        (FieldMeta("F", "double"), Decimal("12.50"), 12.5),
        (FieldMeta("F", "double"), "3", 3),
        (FieldMeta("F", "date"), "2024-02-29T23:00:00+00:00", "2024-02-29"),
        (FieldMeta("F", "date"), dt.date(2024, 1, 5), "2024-01-05"),
        (FieldMeta("F", "datetime"), "2024-01-05T10:00:00Z", "2024-01-05T10:00:00+00:00"),
        (FieldMeta("F", "datetime"), dt.datetime(2024, 1, 5, 10), "2024-01-05T10:00:00+00:00"),
        (FieldMeta("F", "string"), 15, "15"),
        (FieldMeta("F", "integer", multiple=True), "[1, 2]", [1, 2]),
        (FieldMeta("F", "integer", multiple=True), 3, [3]),
        (FieldMeta("PHONE", "crm_multifield", multiple=True), "+1", [{"VALUE": "+1", "VALUE_TYPE": "WORK"}]),
        (FieldMeta("F", "money"), "100|USD", "100|USD"),
        (FieldMeta("F", "integer"), "", ""),
        (FieldMeta("F", "date"), "", ""),
        (FieldMeta("F", "integer", multiple=True), "", []),
    ],
)
def test_convert_value(meta: FieldMeta, value: object, expected: object) -> None:
    assert convert_value(meta, value) == expected


@pytest.mark.parametrize(
    ("meta", "value"),
    [
        (FieldMeta("F", "boolean"), "maybe"),
        (FieldMeta("F", "integer"), "4.5"),
        (FieldMeta("F", "integer"), True),
        (FieldMeta("F", "double"), "n/a"),
        (FieldMeta("F", "date"), "soon"),
        (FieldMeta("F", "datetime"), "2024-13-01"),
        (FieldMeta("F", "string"), {"a": 1}),
        (FieldMeta("PHONE", "crm_multifield", multiple=True), [{"NUMBER": "+1"}]),
    ],
)
def test_convert_value_rejects_wrong_types(meta: FieldMeta, value: object) -> None:
    with pytest.raises(RecordError) as caught:
        convert_value(meta, value)
    assert (
        caught.value.code == "WRONG_TYPE"
        and "F" in caught.value.description
        or "PHONE" in caught.value.description
    )


def test_column_names_match_portal_fields_ignoring_case_and_underscores() -> None:
    fields = {name: FieldMeta(name) for name in ("ID", "TITLE", "ASSIGNED_BY_ID", "UF_CRM_1721244707107")}
    warnings: list[str] = []
    converter = RecordConverter(fields, "ID", warn=warnings.append)
    converted = converter.convert(
        {
            "id": "5",
            "Title": "t",
            "assignedById": 3,
            "uf_crm_1721244707107": "x",
            "junk": 1,
            "_sdc_batched_at": "z",
        }
    )
    assert converted.record_id == 5
    assert converted.fields == {"TITLE": "t", "ASSIGNED_BY_ID": "3", "UF_CRM_1721244707107": "x"}
    assert warnings == ["columns dropped: 'junk' is not a field of this entity"]
    converter.convert({"junk": 2, "more": 3})
    assert warnings[1:] == ["columns dropped: 'more' is not a field of this entity"]  # each column once


def test_money_from_the_tap_shape_and_file_fields_dropped() -> None:
    assert convert_value(FieldMeta("F", "money"), {"amount": 54137.0, "currency": "EUR"}) == "54137.00|EUR"
    assert (
        convert_value(FieldMeta("F", "money"), {"amount": Decimal("10.5"), "currency": "USD"}) == "10.50|USD"
    )
    fields = {"ID": FieldMeta("ID", "integer", read_only=True), "LOGO": FieldMeta("LOGO", "file")}
    warnings: list[str] = []
    converted = RecordConverter(fields, "ID", warn=warnings.append).convert({"LOGO": {"id": 1}})
    assert converted.fields == {} and warnings == ["columns dropped: 'LOGO' maps to the file field LOGO"]
