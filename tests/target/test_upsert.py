"""Adds, updates and upserts against the sandbox over HTTP: the portal ends in exactly the expected state."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bitrix24_sandbox import Sandbox
from target_bitrix24.errors import TooManyFailuresError

from .conftest import all_rows, record_messages, run_target, schema_message

DEAL_SCHEMA = {
    "origin_id": {"type": "string"},
    "title": {"type": ["string", "null"]},
    "opportunity": {"type": ["number", "null"]},
    "uf_crm_vip": {"type": ["boolean", "null"]},
}


def deals(sb: Sandbox) -> list[dict]:
    return all_rows(
        sb, "crm.deal.list", {"select": ["ID", "ORIGIN_ID", "TITLE", "OPPORTUNITY", "UF_CRM_VIP"]}
    )


def test_upsert_adds_then_updates_by_origin_id_without_duplicates(
    sandbox: Sandbox, base_config: dict
) -> None:
    config = {**base_config, "default_match_field": "ORIGIN_ID"}
    first = [
        {"origin_id": f"wh-{i}", "title": f"Deal {i}", "opportunity": i * 10, "uf_crm_vip": i % 2 == 0}
        for i in range(120)
    ]
    run = run_target(
        config, [schema_message("deals", DEAL_SCHEMA, ["origin_id"]), *record_messages("deals", first)]
    )
    assert run.error is None
    assert run.tally("deals")["added"] == 120 and run.tally("deals")["failed"] == 0

    sandbox.reset_counters()
    second = [
        {"origin_id": f"wh-{i}", "title": f"Deal {i} v2"} for i in range(0, 150, 2)
    ]  # 60 updates, 15 adds
    run = run_target(
        config, [schema_message("deals", DEAL_SCHEMA, ["origin_id"]), *record_messages("deals", second)]
    )
    assert run.error is None
    tally = run.tally("deals")
    assert (tally["updated"], tally["added"], tally["failed"]) == (60, 15, 0)
    # 1 fields call, 1 lookup request (2 list commands), 2 write batches of 50 commands
    assert sandbox.counters()["requests"] == 4

    rows = deals(sandbox)
    by_origin = Counter(row["ORIGIN_ID"] for row in rows)
    assert len(rows) == 135 and max(by_origin.values()) == 1
    titles = {row["ORIGIN_ID"]: row["TITLE"] for row in rows}
    assert titles["wh-4"] == "Deal 4 v2" and titles["wh-5"] == "Deal 5" and titles["wh-148"] == "Deal 148 v2"
    values = {row["ORIGIN_ID"]: row for row in rows}
    assert float(values["wh-5"]["OPPORTUNITY"]) == 50.0  # untouched by the partial update


def test_duplicate_keys_in_one_batch_are_merged_into_one_write(sandbox: Sandbox, base_config: dict) -> None:
    config = {**base_config, "default_match_field": "ORIGIN_ID"}
    records = [
        {"origin_id": "k1", "title": "first", "opportunity": 1},
        {"origin_id": "k1", "title": "second"},
        {"origin_id": "k2", "title": "only"},
    ]
    run = run_target(config, [schema_message("deals", DEAL_SCHEMA), *record_messages("deals", records)])
    assert run.error is None
    assert run.tally("deals")["added"] == 3 and run.tally("deals")["merged"] == 1
    rows = {row["ORIGIN_ID"]: row for row in deals(sandbox)}
    assert len(rows) == 2
    assert rows["k1"]["TITLE"] == "second" and float(rows["k1"]["OPPORTUNITY"]) == 1.0


def test_update_by_id_and_not_found(sandbox: Sandbox, base_config: dict) -> None:
    ids = [sandbox.portal.add("deal", {"TITLE": f"seed {i}"}) for i in range(3)]
    config = {**base_config, "default_operation": "update", "max_failures": 1}
    schema = {"id": {"type": "integer"}, "title": {"type": "string"}, "stage_id": {"type": "string"}}
    records = [
        {"id": ids[0], "title": "renamed"},
        {"id": ids[2], "title": "also"},
        {"id": 999999, "title": "ghost"},
    ]
    run = run_target(config, [schema_message("deals", schema, ["id"]), *record_messages("deals", records)])
    assert run.error is None  # one failure is allowed
    assert run.tally("deals")["updated"] == 2 and run.tally("deals")["failed"] == 1
    assert [d["error_code"] for d in run.dead] == ["NOT_FOUND"]
    assert run.dead[0]["record"] == {"id": 999999, "title": "ghost"} and run.dead[0]["stream"] == "deals"
    titles = [row["TITLE"] for row in deals(sandbox)]
    assert titles == ["renamed", "seed 1", "also"]


def test_add_operation_and_upsert_by_id(sandbox: Sandbox, base_config: dict) -> None:
    existing = sandbox.portal.add("lead", {"TITLE": "old"})
    config = {**base_config, "streams": {"public-people": {"entity": "crm.lead", "operation": "upsert"}}}
    schema = {"id": {"type": ["integer", "null"]}, "title": {"type": "string"}}
    records = [{"id": existing, "title": "changed"}, {"id": None, "title": "new lead"}]
    run = run_target(
        config, [schema_message("public-people", schema), *record_messages("public-people", records)]
    )
    assert run.error is None
    assert (run.tally("public-people")["updated"], run.tally("public-people")["added"]) == (1, 1)
    assert sorted(r["TITLE"] for r in all_rows(sandbox, "crm.lead.list", {"select": ["ID", "TITLE"]})) == [
        "changed",
        "new lead",
    ]

    config = {**base_config, "streams": {"leads": {"operation": "add", "match_field": "ORIGIN_ID"}}}
    records2 = [{"origin_id": "a", "title": "x"}, {"origin_id": "a", "title": "y"}]
    run = run_target(config, [schema_message("leads", DEAL_SCHEMA), *record_messages("leads", records2)])
    assert run.error is None and run.tally("leads")["added"] == 2  # add means add: no merging
    assert len(all_rows(sandbox, "crm.lead.list", {"select": ["ID"]})) == 4


def test_smart_process_items_upsert_by_xml_id(sandbox: Sandbox, base_config: dict) -> None:
    sandbox.portal.seed({"items": 1})  # creates the smart-process types 128 and 130
    before = len(all_rows(sandbox, "crm.item.list", {"entityTypeId": 128, "select": ["id"]}, key="id"))
    config = {**base_config, "default_match_field": "xmlId"}
    schema = {"xml_id": {"type": "string"}, "title": {"type": "string"}, "opportunity": {"type": "number"}}
    records = [{"xml_id": f"x{i}", "title": f"item {i}", "opportunity": i} for i in range(60)]
    messages = [schema_message("smart_process_128", schema), *record_messages("smart_process_128", records)]
    assert run_target(config, messages).error is None
    records = [{"xml_id": f"x{i}", "title": f"item {i}!"} for i in range(0, 70, 10)]
    run = run_target(
        config, [schema_message("smart_process_128", schema), *record_messages("smart_process_128", records)]
    )
    assert run.error is None
    assert (run.tally("smart_process_128")["updated"], run.tally("smart_process_128")["added"]) == (6, 1)
    rows = all_rows(
        sandbox, "crm.item.list", {"entityTypeId": 128, "select": ["id", "xmlId", "title"]}, key="id"
    )
    mine = {row["xmlId"]: row["title"] for row in rows if row.get("xmlId")}
    assert len(rows) == before + 61 and len(mine) == 61
    assert mine["x10"] == "item 10!" and mine["x11"] == "item 11" and mine["x60"] == "item 60!"


def test_dry_run_writes_nothing_and_says_what_it_would_do(sandbox: Sandbox, base_config: dict) -> None:
    sandbox.portal.add("deal", {"TITLE": "there", "ORIGIN_ID": "d1"})
    config = {**base_config, "default_match_field": "ORIGIN_ID", "dry_run": True}
    records = [{"origin_id": "d1", "title": "changed"}, {"origin_id": "d2", "title": "new"}]
    run = run_target(config, [schema_message("deals", DEAL_SCHEMA), *record_messages("deals", records)])
    assert run.error is None
    assert (run.tally("deals")["would_update"], run.tally("deals")["would_add"]) == (1, 1)
    assert [(r["ORIGIN_ID"], r["TITLE"]) for r in deals(sandbox)] == [("d1", "there")]
    assert sandbox.counters()["calls"].get("crm.deal.add", 0) == 0


def test_too_many_failures_gives_an_error_after_every_record_is_accounted(
    sandbox: Sandbox, base_config: dict
) -> None:
    config = {**base_config, "default_match_field": "ORIGIN_ID"}
    records: list[dict[str, Any]] = [
        {"origin_id": "ok1", "title": "a"},
        {"title": "no key"},
        {"origin_id": "ok2"},
    ]
    run = run_target(config, [schema_message("deals", DEAL_SCHEMA), *record_messages("deals", records)])
    assert isinstance(run.error, TooManyFailuresError)
    assert "1 records failed" in str(run.error)
    assert [d["error_code"] for d in run.dead] == ["MISSING_KEY"]
    assert sorted(r["ORIGIN_ID"] for r in deals(sandbox)) == ["ok1", "ok2"]


def test_upsert_by_an_integer_user_field(sandbox: Sandbox, base_config: dict) -> None:
    sandbox.portal.add("company", {"TITLE": "old name", "UF_CRM_1721244707107": 501})
    config = {**base_config, "streams": {"companies": {"match_field": "UF_CRM_1721244707107"}}}
    schema = {"erp_id": {"type": "integer"}, "title": {"type": "string"}}
    records = [{"erp_id": 501, "title": "new name"}, {"erp_id": 502, "title": "another"}]
    messages = [
        schema_message("companies", schema),
        *record_messages("companies", records),
    ]
    config["stream_maps"] = {"companies": {"UF_CRM_1721244707107": "erp_id", "erp_id": None}}
    run = run_target(config, messages)
    assert run.error is None, run.dead
    assert (run.tally("companies")["updated"], run.tally("companies")["added"]) == (1, 1)
    rows = all_rows(sandbox, "crm.company.list", {"select": ["ID", "TITLE", "UF_CRM_1721244707107"]})
    assert sorted((str(r["UF_CRM_1721244707107"]), r["TITLE"]) for r in rows) == [
        ("501", "new name"),
        ("502", "another"),
    ]
