"""Writes under injected faults, including answers lost after the write was done ("slow" and "drop"):
the portal must end in exactly the expected state, with zero duplicates and zero lost updates."""

from __future__ import annotations

from collections import Counter

import pytest

from bitrix24_sandbox import Sandbox

from .conftest import all_rows, record_messages, run_target, schema_message

SCHEMA = {"origin_id": {"type": "string"}, "title": {"type": "string"}, "opportunity": {"type": "number"}}
# A "slow" answer is held 2.5 s; the target gives up waiting after 1.5 s, the write having been done.
TIMEOUTS = {"request_timeout": 1.5}
SLOW = "slow_delay=2.5"


def deal_state(sb: Sandbox) -> dict[str, list[dict]]:
    rows = all_rows(sb, "crm.deal.list", {"select": ["ID", "ORIGIN_ID", "TITLE", "OPPORTUNITY"]})
    state: dict[str, list[dict]] = {}
    for row in rows:
        state.setdefault(row["ORIGIN_ID"], []).append(row)
    return state


@pytest.mark.parametrize("fault", ["drop", "slow", "500", "html502", "503"])
def test_add_whose_answer_is_lost_is_resolved_by_lookup_not_resent(
    sandbox: Sandbox, base_config: dict, fault: str
) -> None:
    sandbox.set_faults(SLOW)  # no random faults, only the slow fault's delay
    sandbox.queue_faults(fault, method="batch")  # the first write batch: its 50 adds run, the answer is lost
    config = {**base_config, **TIMEOUTS, "default_operation": "add", "default_match_field": "ORIGIN_ID"}
    records = [{"origin_id": f"f{i}", "title": f"t{i}", "opportunity": i} for i in range(70)]
    run = run_target(config, [schema_message("deals", SCHEMA), *record_messages("deals", records)])

    assert run.error is None and run.dead == []
    assert run.tally("deals")["added"] == 70
    state = deal_state(sandbox)
    assert sorted(state) == sorted(f"f{i}" for i in range(70))
    assert all(len(rows) == 1 for rows in state.values())  # zero duplicates
    assert sandbox.counters()["calls"]["crm.deal.add"] == 70  # no add ran twice


def test_add_without_match_key_and_lost_answer_is_dead_lettered_as_unknown(
    sandbox: Sandbox, base_config: dict
) -> None:
    sandbox.queue_faults("drop", method="batch")
    config = {**base_config, "default_operation": "add", "default_match_field": "", "max_failures": 100}
    records = [{"title": f"t{i}"} for i in range(60)]
    run = run_target(
        config, [schema_message("deals", {"title": {"type": "string"}}), *record_messages("deals", records)]
    )
    assert run.error is None
    tally = run.tally("deals")
    assert (tally["added"], tally["failed"]) == (10, 50)
    assert {d["error_code"] for d in run.dead} == {"OUTCOME_UNKNOWN"} and len(run.dead) == 50
    assert "match_field" in run.dead[0]["error_description"]
    assert len(all_rows(sandbox, "crm.deal.list", {"select": ["ID"]})) == 60  # never sent twice


def test_resent_update_does_not_duplicate_multifield_values(sandbox: Sandbox, base_config: dict) -> None:
    contact = sandbox.portal.add("contact", {"NAME": "Ann", "ORIGIN_ID": "c1"})
    sandbox.set_faults(SLOW)
    sandbox.queue_faults("slow", method="batch")
    config = {**base_config, **TIMEOUTS, "default_match_field": "ORIGIN_ID"}
    schema = {"origin_id": {"type": "string"}, "phone": {"type": "array"}, "email": {"type": "string"}}
    record = {
        "origin_id": "c1",
        "phone": ["+100", {"VALUE": "+200", "VALUE_TYPE": "MOBILE"}],
        "email": "a@x.io",
    }
    messages = [schema_message("contacts", schema), *record_messages("contacts", [record])]
    sandbox.set_hook(None)
    run = run_target(config, messages)
    assert run.error is None and run.tally("contacts")["updated"] == 1
    run = run_target(config, messages)  # and once more: still nothing duplicated
    assert run.error is None
    row = sandbox.portal.dispatch("crm.contact.get", {"id": contact}).result
    assert sorted((p["VALUE"], p["VALUE_TYPE"]) for p in row["PHONE"]) == [
        ("+100", "WORK"),
        ("+200", "MOBILE"),
    ]
    assert [e["VALUE"] for e in row["EMAIL"]] == ["a@x.io"]


@pytest.mark.parametrize("fault_seed", [1, 5])  # seeds whose draws include every kind of fault
def test_five_percent_faults_leave_exactly_the_expected_state(
    sandbox: Sandbox, base_config: dict, fault_seed: int
) -> None:
    """5,000 upserts (2,000 of them to records already on the portal) through 5% faults of every kind."""
    for i in range(2000):
        sandbox.portal.add("deal", {"ORIGIN_ID": f"u{i}", "TITLE": "before", "OPPORTUNITY": 1})
    sandbox.set_faults(f"503=0.015,500=0.01,html502=0.005,drop=0.01,slow=0.01,{SLOW}", seed=fault_seed)
    sandbox.reset_counters()
    config = {**base_config, **TIMEOUTS, "default_match_field": "ORIGIN_ID", "batch_size_rows": 500}
    records = [{"origin_id": f"u{i}", "title": f"after {i}", "opportunity": i} for i in range(5000)]
    run = run_target(config, [schema_message("deals", SCHEMA), *record_messages("deals", records)])
    sandbox.set_faults(None)

    counters = sandbox.counters()
    lost_after_write = sum(counters["faults"].get(kind, 0) for kind in ("500", "html502", "drop", "slow"))
    assert lost_after_write >= 2, counters["faults"]  # the faults did strike
    tally = run.tally("deals")
    assert len(run.dead) == tally["failed"]  # every failure is in the dead-letter file
    assert run.error is None and tally["failed"] == 0, run.dead[:3]
    assert (tally["updated"], tally["added"]) == (2000, 3000)

    state = deal_state(sandbox)
    assert Counter(len(rows) for rows in state.values()) == Counter({1: 5000})  # zero duplicates
    for i in range(5000):  # zero lost updates
        row = state[f"u{i}"][0]
        assert (row["TITLE"], float(row["OPPORTUNITY"])) == (f"after {i}", float(i))


def test_oauth_token_expiring_mid_run_is_renewed_and_kept(
    sandbox: Sandbox, base_config: dict, tmp_path
) -> None:
    oauth = sandbox.oauth
    token_file = tmp_path / "refresh_token"
    config = {
        **{k: v for k, v in base_config.items() if k != "webhook_url"},
        "domain": sandbox.base_url,
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
        "refresh_token": oauth.refresh_token,
        "oauth_server": oauth.server,
        "refresh_token_file": str(token_file),
        "default_match_field": "ORIGIN_ID",
    }
    records = [{"origin_id": f"o{i}", "title": f"t{i}", "opportunity": i} for i in range(120)]
    messages = [schema_message("deals", SCHEMA), *record_messages("deals", records)]
    sandbox.queue_faults("expired", method="batch")  # the access token dies before the first batch runs
    run = run_target(config, messages)
    assert run.error is None and run.tally("deals")["added"] == 120
    assert sandbox.counters()["token_refreshes"] >= 2  # at start, and after the expiry
    kept = token_file.read_text()
    assert kept and kept != oauth.refresh_token  # rotated; the configured one is spent

    run = run_target(config, messages)  # a second run starts from the kept token
    assert run.error is None and run.tally("deals")["updated"] == 120
    assert sum(len(rows) for rows in deal_state(sandbox).values()) == 120


def test_refusals_beyond_the_cores_retries_are_sent_again_once(sandbox: Sandbox, base_config: dict) -> None:
    """Seven 503 QUERY_LIMIT_EXCEEDED answers in a row outlast the core's retries; nothing ran, so the
    target sends the batch again (no lookup needed to know that), and every add runs exactly once."""
    sandbox.queue_faults(*["503"] * 7, method="batch")
    config = {**base_config, "default_operation": "add", "default_match_field": "ORIGIN_ID"}
    records = [{"origin_id": f"r{i}", "title": f"t{i}", "opportunity": i} for i in range(70)]
    run = run_target(config, [schema_message("deals", SCHEMA), *record_messages("deals", records)])
    assert run.error is None and run.dead == []
    assert run.tally("deals")["added"] == 70 and run.tally("deals")["retries"] >= 50
    assert sandbox.counters()["calls"]["crm.deal.add"] == 70
    assert sum(len(rows) for rows in deal_state(sandbox).values()) == 70
