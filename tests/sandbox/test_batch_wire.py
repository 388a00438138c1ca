"""`batch` over real HTTP: command forms, references, per-command errors, limits, empty maps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from bitrix24_sandbox import Sandbox
from bitrix24_sandbox.batch import BatchState, substitute


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(speed=1000.0, plan="unlimited") as sandbox:
        for i in range(1, 121):
            sandbox.portal.add("deal", {"TITLE": f"Deal {i}"})
        yield sandbox


def batch(sb: Sandbox, cmd: Any, halt: int = 0) -> dict[str, Any]:
    answer = requests.post(sb.webhook_url + "batch", json={"halt": halt, "cmd": cmd})
    assert answer.status_code == 200, answer.text
    return answer.json()


def title_of(sb: Sandbox, deal_id: Any) -> str:
    return requests.get(sb.webhook_url + f"crm.deal.get?id={deal_id}").json()["result"]["TITLE"]


def test_map_of_commands_with_bracket_params_and_references(sb: Sandbox) -> None:
    body = batch(
        sb,
        {
            "page": "crm.deal.list?filter[>ID]=5&select[]=ID&select[]=TITLE&order[ID]=ASC",
            "one": "crm.deal.get?id=$result[page][2][ID]",
        },
    )
    result = body["result"]
    assert [r["ID"] for r in result["result"]["page"][:3]] == ["6", "7", "8"]
    assert result["result"]["one"]["TITLE"] == "Deal 8"
    assert result["result_total"] == {"page": 115} and result["result_next"] == {"page": 50}
    assert result["result_error"] == []
    assert set(result["result_time"]) == {"page", "one"}
    assert {"operating", "operating_reset_at", "date_start"} <= set(result["result_time"]["one"])
    assert set(body["time"]) >= {"start", "finish", "duration", "processing", "date_start", "date_finish"}


def test_list_of_commands_answers_lists(sb: Sandbox) -> None:
    result = batch(sb, ["crm.deal.get?id=1", "crm.deal.get?id=2"])["result"]
    assert [r["TITLE"] for r in result["result"]] == ["Deal 1", "Deal 2"]
    assert result["result_error"] == [] and result["result_total"] == [] and result["result_next"] == []


def test_list_with_a_failed_command_keys_by_index(sb: Sandbox) -> None:
    result = batch(sb, ["crm.deal.get?id=1", "crm.deal.get?id=999999", "crm.deal.get?id=3"])["result"]
    assert set(result["result"]) == {"0", "2"}
    assert result["result_error"] == {"1": {"error": "", "error_description": "Not found"}}


def test_form_encoded_batch_with_double_encoded_commands(sb: Sandbox) -> None:
    inner = "crm.deal.list?" + urlencode([("filter[>ID]", 100), ("select[]", "ID"), ("order[ID]", "ASC")])
    form = urlencode([("halt", 0), ("cmd[tail]", inner)])
    answer = requests.post(
        sb.webhook_url + "batch", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    rows = answer.json()["result"]["result"]["tail"]
    assert [r["ID"] for r in rows] == [str(i) for i in range(101, 121)]


def test_chained_fast_export_reads_pages_in_one_call(sb: Sandbox) -> None:
    head = "crm.deal.list?order[ID]=ASC&select[]=ID&start=-1"
    cmd = {"p0": head + "&filter[>ID]=0"}
    for k in range(1, 3):
        cmd[f"p{k}"] = head + f"&filter[>ID]=$result[p{k - 1}][49][ID]&filter[%3C%3DID]=120"
    result = batch(sb, cmd)["result"]["result"]
    ids = [int(r["ID"]) for k in range(3) for r in result[f"p{k}"]]
    assert ids == list(range(1, 121)) and len(result["p2"]) == 20


def test_reference_past_a_short_page_resolves_to_the_deepest_node(sb: Sandbox) -> None:
    # As the real server: a missing key stops the walk, and what was reached so far is used.
    result = batch(
        sb,
        {
            "short": "crm.deal.list?filter[>ID]=110&select[]=ID&order[ID]=ASC",  # 10 rows
            "added": "crm.deal.add?fields[TITLE]=Deal 121",
            "past_end": "crm.deal.add?fields[TITLE]=x$result[short][49][ID]",  # the whole page: "Array"
            "in_row": "crm.deal.add?fields[TITLE]=y$result[short][3][NOPE]",  # the row: "Array"
            "scalar": "crm.deal.add?fields[TITLE]=z$result[added][0][ID]",  # the new ID itself
            "exact": "crm.deal.get?id=$result[added]",
        },
    )["result"]
    assert result["result_error"] == []
    added = result["result"]["added"]
    assert title_of(sb, result["result"]["past_end"]) == "xArray"
    assert title_of(sb, result["result"]["in_row"]) == "yArray"
    assert title_of(sb, result["result"]["scalar"]) == f"z{added}"
    assert result["result"]["exact"]["TITLE"] == "Deal 121"


def test_next_total_time_and_error_references(sb: Sandbox) -> None:
    result = batch(
        sb,
        {
            "page": "crm.deal.list?order[ID]=ASC&select[]=ID&filter[%3C%3DID]=120",
            "missing": "crm.deal.get?id=999999",
            "by_next": "crm.deal.get?id=$next[page]",
            "by_total": "crm.deal.get?id=$total[page]",
            "note": "crm.deal.add?fields[TITLE]=$error[missing][error_description]"
            " at $time[page][date_start]",
        },
    )["result"]
    assert result["result"]["by_next"]["ID"] == "50"
    assert result["result"]["by_total"]["ID"] == "120"
    note = title_of(sb, result["result"]["note"])
    assert note.startswith("Not found at ") and note.endswith("+03:00")


def test_halt_stops_after_the_first_error(sb: Sandbox) -> None:
    cmd = {"a": "crm.deal.get?id=1", "bad": "crm.deal.get?id=999999", "c": "crm.deal.get?id=3"}
    going_on = batch(sb, cmd, halt=0)["result"]
    assert set(going_on["result"]) == {"a", "c"} and set(going_on["result_error"]) == {"bad"}
    halted = batch(sb, cmd, halt=1)["result"]
    assert set(halted["result"]) == {"a"} and set(halted["result_error"]) == {"bad"}
    assert set(halted["result_time"]) == {"a"}


def test_more_than_50_commands_fail_individually(sb: Sandbox) -> None:
    cmd = {f"c{i}": f"crm.deal.get?id={i + 1}" for i in range(55)}
    result = batch(sb, cmd)["result"]
    assert len(result["result"]) == 50 and "c49" in result["result"]
    assert set(result["result_error"]) == {f"c{i}" for i in range(50, 55)}
    assert result["result_error"]["c52"] == {
        "error": "ERROR_BATCH_LENGTH_EXCEEDED",
        "error_description": "Max batch length exceeded",
    }


def test_no_batch_inside_batch_and_unknown_methods(sb: Sandbox) -> None:
    result = batch(sb, {"inner": "batch?cmd[x]=crm.deal.get%3Fid%3D1", "nope": "crm.nothing", "ok": "scope"})
    errors = result["result"]["result_error"]
    assert errors["inner"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
    assert errors["nope"] == {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}
    assert "crm" in result["result"]["result"]["ok"]


def test_empty_or_missing_cmd_answers_empty_maps(sb: Sandbox) -> None:
    result = batch(sb, {})["result"]
    assert result == {
        "result": [],
        "result_error": [],
        "result_total": [],
        "result_next": [],
        "result_time": [],
    }


def test_substitution_of_whole_and_embedded_references() -> None:
    state = BatchState(result={"p": [{"ID": "7", "TAGS": ["a"]}]}, result_total={"p": 1})
    params = {
        "filter": {">ID": "$result[p][0][ID]"},
        "tags": "$result[p][0][TAGS]",
        "text": "n=$total[p]; m=$result[q][0]",
        "plain": "$5 fee",
    }
    assert substitute(params, state) == {
        "filter": {">ID": "7"},
        "tags": ["a"],
        "text": "n=1; m=Array",
        "plain": "$5 fee",
    }
