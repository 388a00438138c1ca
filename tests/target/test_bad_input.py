"""Bad input gets a clear per-record error in the dead-letter file, and the other records proceed."""

from __future__ import annotations

from bitrix24_sandbox import Sandbox
from target_bitrix24.errors import HaltedOnError, TooManyFailuresError

from .conftest import all_rows, record_messages, run_target, schema_message

SCHEMA = {
    "origin_id": {"type": "string"},
    "title": {"type": "string"},
    "opportunity": {"type": ["number", "string", "null"]},
    "closedate": {"type": ["string", "null"]},
}


def titles(sb: Sandbox) -> list[str]:
    return sorted(row["TITLE"] for row in all_rows(sb, "crm.deal.list", {"select": ["ID", "TITLE"]}))


def test_each_bad_record_fails_alone_with_a_clear_error(sandbox: Sandbox, base_config: dict) -> None:
    config = {**base_config, "default_match_field": "ORIGIN_ID", "max_failures": 10}
    schema = schema_message("deals", SCHEMA, ["origin_id"])
    schema["schema"]["properties"]["title"] = {"type": "string", "maxLength": 20}
    good = [{"origin_id": f"g{i}", "title": f"good {i}"} for i in range(3)]
    bad = [
        {"title": "no key at all"},  # the Singer key property is missing
        {"origin_id": "b1", "title": "x" * 30},  # fails the stream's own schema
        {"origin_id": "b2", "title": "t", "opportunity": "a lot"},  # not a number for a double field
        {"origin_id": "b3", "title": "t", "closedate": "someday"},  # not a date
    ]
    messages = [
        schema,
        *record_messages("deals", [good[0], *bad, good[1]]),
        schema_message("mystery_table", {"a": {"type": "string"}}),
        *record_messages("mystery_table", [{"a": "1"}, {"a": "2"}]),
        *record_messages("deals", [good[2]]),
    ]
    run = run_target(config, messages)
    assert run.error is None
    assert titles(sandbox) == ["good 0", "good 1", "good 2"]
    codes = [(d["stream"], d["error_code"]) for d in run.dead]
    assert codes == [
        ("deals", "MISSING_KEY"),
        ("deals", "INVALID_RECORD"),
        ("deals", "WRONG_TYPE"),
        ("deals", "WRONG_TYPE"),
        ("mystery_table", "UNKNOWN_STREAM"),
        ("mystery_table", "UNKNOWN_STREAM"),
    ]
    by_origin = {d["record"].get("origin_id"): d for d in run.dead}
    assert (
        "OPPORTUNITY" in by_origin["b2"]["error_description"]
        and "'a lot'" in by_origin["b2"]["error_description"]
    )
    assert "CLOSEDATE" in by_origin["b3"]["error_description"]
    assert by_origin["b1"]["record"] == bad[1]  # the record as it came in
    assert run.tally("deals")["received"] == 7 and run.tally("mystery_table")["failed"] == 2


def test_unknown_and_read_only_columns_are_dropped_or_fail_when_strict(
    sandbox: Sandbox, base_config: dict
) -> None:
    schema = {"origin_id": {"type": "string"}, "title": {"type": "string"}, "score": {"type": "integer"}}
    schema["date_create"] = {"type": "string"}
    record = {"origin_id": "s1", "title": "t", "score": 5, "date_create": "2020-01-01T00:00:00Z"}
    config = {**base_config, "default_match_field": "ORIGIN_ID"}
    run = run_target(config, [schema_message("deals", schema), *record_messages("deals", [record])])
    assert run.error is None and run.tally("deals")["added"] == 1

    strict = {**config, "strict_fields": True, "max_failures": 5}
    record2 = {"origin_id": "s2", "title": "t2", "date_create": "2020-01-01T00:00:00Z"}
    run = run_target(strict, [schema_message("deals", schema), *record_messages("deals", [record, record2])])
    assert [d["error_code"] for d in run.dead] == ["UNKNOWN_FIELD", "READ_ONLY_FIELD"]
    assert "'score'" in run.dead[0]["error_description"] and "DATE_CREATE" in run.dead[1]["error_description"]
    assert titles(sandbox) == ["t"]


def test_a_command_the_portal_rejects_is_dead_lettered_with_its_code(
    sandbox: Sandbox, base_config: dict
) -> None:
    ids = [sandbox.portal.add("deal", {"TITLE": f"d{i}"}) for i in range(3)]
    doomed = ids[1]

    def delete_between_lookup_and_write(method: str) -> None:
        calls = sandbox.counters()["calls"]
        if method == "batch" and calls.get("crm.deal.list") and not calls.get("crm.deal.update"):
            sandbox.portal.delete("deal", doomed)

    sandbox.set_hook(delete_between_lookup_and_write)
    config = {**base_config, "default_operation": "update", "max_failures": 1}
    records = [{"id": i, "title": f"new {i}"} for i in ids]
    run = run_target(
        config,
        [
            schema_message("deals", {"id": {"type": "integer"}, "title": {"type": "string"}}),
            *record_messages("deals", records),
        ],
    )
    sandbox.set_hook(None)
    assert run.error is None
    assert [(d["record"]["id"], d["error_description"]) for d in run.dead] == [(doomed, "Not found")]
    assert run.tally("deals")["updated"] == 2


def test_halt_on_error_stops_and_still_accounts_for_every_record(sandbox: Sandbox, base_config: dict) -> None:
    config = {**base_config, "default_match_field": "ORIGIN_ID", "halt_on_error": True}
    records = [{"origin_id": "h1", "title": "a"}, {"origin_id": "h2", "title": "b"}, {"title": "no key"}]
    records += [{"origin_id": f"h{i}", "title": "later"} for i in range(3, 6)]
    messages = [schema_message("deals", SCHEMA), *record_messages("deals", records)]
    run = run_target(config, messages)
    assert isinstance(run.error, HaltedOnError)
    assert [d["error_code"] for d in run.dead] == ["MISSING_KEY", "HALTED", "HALTED"]
    tally = run.tally("deals")
    assert tally["received"] == 3 and tally["failed"] == 3  # the run stopped reading at the failure
    assert titles(sandbox) == []


def test_failures_within_max_failures_exit_cleanly_and_beyond_it_do_not(
    sandbox: Sandbox, base_config: dict
) -> None:
    records = [{"origin_id": "m1", "title": "ok"}, {"title": "bad 1"}, {"title": "bad 2"}]
    messages = [schema_message("deals", SCHEMA), *record_messages("deals", records)]
    ok = run_target({**base_config, "default_match_field": "ORIGIN_ID", "max_failures": 2}, messages)
    assert ok.error is None and len(ok.dead) == 2
    over = run_target({**base_config, "default_match_field": "ORIGIN_ID", "max_failures": 1}, messages)
    assert isinstance(over.error, TooManyFailuresError) and "2 records failed" in str(over.error)
