"""Limits over real HTTP, on the virtual clock: the leaky bucket, operating time, the 60 s request limit."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from bitrix24_sandbox import Sandbox

QUERY_LIMIT = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}


def statuses(session: requests.Session, url: str, n: int) -> list[int]:
    return [session.get(url).status_code for _ in range(n)]


@pytest.mark.parametrize(("plan", "size"), [("standard", 50), ("enterprise", 250)])
def test_bucket_refuses_past_its_size(plan: str, size: int) -> None:
    # speed 0.01: the bucket drains 2 (or 5) per portal second = almost nothing in real time;
    # (cost factor ~0: the calls themselves take no portal time, else each would sleep for seconds)
    with Sandbox(speed=0.01, plan=plan, cost_factor=1e-6) as sb, requests.Session() as http:
        got = statuses(http, sb.webhook_url + "scope", size + 5)
        assert got == [200] * size + [503] * 5
        refused = http.get(sb.webhook_url + "scope")
        assert refused.json() == QUERY_LIMIT
        assert sb.counters()["refusals"] == {"QUERY_LIMIT_EXCEEDED": 6}


def test_bucket_drains_on_the_virtual_clock() -> None:
    with Sandbox(speed=0.01, plan="standard", cost_factor=1e-6) as sb, requests.Session() as http:
        assert statuses(http, sb.webhook_url + "scope", 51)[-1] == 503
        sb.clock.advance(5.0)  # drains 2 per second: room for 10 more
        assert statuses(http, sb.webhook_url + "scope", 11) == [200] * 10 + [503]


def test_unlimited_plan_has_no_bucket() -> None:
    with Sandbox(speed=0.01, plan="unlimited", cost_factor=1e-6) as sb, requests.Session() as http:
        assert set(statuses(http, sb.webhook_url + "scope", 300)) == {200}


def test_batch_counts_as_one_request_and_refusal_comes_before_work() -> None:
    with Sandbox(speed=0.01, plan="standard", cost_factor=1e-6) as sb, requests.Session() as http:
        assert set(statuses(http, sb.webhook_url + "scope", 49)) == {200}
        cmd = {f"s{i}": "scope" for i in range(50)}
        whole = http.post(sb.webhook_url + "batch", json={"cmd": cmd})
        assert whole.status_code == 200 and len(whole.json()["result"]["result"]) == 50
        refused = http.post(sb.webhook_url + "crm.deal.add", json={"fields": {"TITLE": "never"}})
        assert refused.status_code == 503
        counters = sb.counters()
        assert counters["requests"] == 51 and counters["commands"] == 99
        assert "crm.deal.add" not in counters["calls"]
        assert sb.portal.dispatch("crm.deal.list", {}).total == 0  # the refused add never ran


def list_deals(http: requests.Session, sb: Sandbox) -> requests.Response:
    return http.post(sb.webhook_url + "crm.deal.list", json={"select": ["ID"]})


def operating_sandbox() -> Sandbox:
    # crm.deal.list on an empty portal costs ~0.025 s; scaled so that one call costs ~0.4 s
    sb = Sandbox(speed=1000.0, plan="unlimited", operating_limit=1.0)
    sb.set_cost_factor(16.0)
    return sb


def test_operating_time_blocks_the_next_call_of_that_method_only() -> None:
    with operating_sandbox() as sb, requests.Session() as http:
        used: list[float] = []
        for _ in range(3):
            answer = list_deals(http, sb)
            assert answer.status_code == 200
            used.append(answer.json()["time"]["operating"])
        assert used[0] < used[1] < used[2] and used[2] > 1.0
        first_time = answer.json()["time"]
        blocked = list_deals(http, sb)
        assert blocked.status_code == 429
        assert blocked.json()["error"] == "OPERATION_TIME_LIMIT"
        assert http.get(sb.webhook_url + "crm.deal.fields").status_code == 200  # other methods work
        assert sb.counters()["refusals"] == {"OPERATION_TIME_LIMIT": 1}
        assert sb.counters()["errors"] == {"OPERATION_TIME_LIMIT": 1}
        sb.clock.advance(first_time["operating_reset_at"] - sb.clock.now() + 1)
        assert list_deals(http, sb).status_code == 200


def test_operating_reset_at_is_when_the_oldest_bucket_leaves_the_window() -> None:
    with operating_sandbox() as sb, requests.Session() as http:
        t = list_deals(http, sb).json()["time"]
        minute_start = int(t["finish"] // 60 * 60)
        assert t["operating_reset_at"] == minute_start + 600
        assert t["processing"] == pytest.approx(t["operating"], rel=1e-3)


def test_batch_commands_charge_their_own_methods() -> None:
    with operating_sandbox() as sb, requests.Session() as http:
        cmd = {f"l{i}": "crm.deal.list?select[]=ID" for i in range(3)} | {"f": "crm.deal.fields"}
        body: dict[str, Any] = http.post(sb.webhook_url + "batch", json={"cmd": cmd}).json()
        times = body["result"]["result_time"]
        assert times["l2"]["operating"] > 1.0 > times["l0"]["operating"]
        assert body["time"]["operating"] == 0.0
        assert list_deals(http, sb).status_code == 429
        again = http.post(sb.webhook_url + "batch", json={"cmd": cmd}).json()["result"]
        assert {k: v["error"] for k, v in again["result_error"].items()} == {
            "l0": "OPERATION_TIME_LIMIT",
            "l1": "OPERATION_TIME_LIMIT",
            "l2": "OPERATION_TIME_LIMIT",
        }
        assert "f" in again["result"]
        assert "batch" not in sb.counters()["server_time"]


def test_simulated_cost_is_really_slept_scaled_by_speed() -> None:
    with Sandbox(speed=10.0, plan="unlimited") as sb, requests.Session() as http:
        sb.set_cost_factor(40.0)  # ~1 portal second per list call -> ~0.1 s real
        began = time.monotonic()
        answer = list_deals(http, sb)
        elapsed = time.monotonic() - began
        processing = answer.json()["time"]["processing"]
        assert processing > 0.9
        assert processing / 10.0 <= elapsed < processing / 10.0 + 0.5
        assert sb.counters()["server_time"]["crm.deal.list"] == pytest.approx(processing, rel=1e-3)


def test_request_past_60_seconds_gets_the_front_ends_504() -> None:
    with Sandbox(speed=1000.0, plan="unlimited") as sb, requests.Session() as http:
        sb.set_cost_factor(3000.0)  # crm.deal.add ~0.05 s -> ~150 s of portal time
        began = time.monotonic()
        answer = http.post(sb.webhook_url + "crm.deal.add", json={"fields": {"TITLE": "slow"}})
        assert answer.status_code == 504
        assert answer.headers["Content-Type"].startswith("text/html")
        assert "504 Gateway Time-out" in answer.text
        assert time.monotonic() - began < 1.0  # 60 portal seconds = 0.06 s here
        sb.set_cost_factor(1.0)
        listed = list_deals(http, sb).json()
        assert listed["total"] == 1  # the work was done; only the answer was lost
        counters = sb.counters()
        assert counters["errors"]["GATEWAY_TIMEOUT"] == 1
        assert counters["server_time"]["crm.deal.add"] > 60


def test_batch_past_60_seconds_stops_at_the_command_that_crossed() -> None:
    with Sandbox(speed=1000.0, plan="unlimited") as sb, requests.Session() as http:
        sb.set_cost_factor(25.0 / 0.0515)  # each crm.deal.add ~25 portal seconds
        cmd = [f"crm.deal.add?fields[TITLE]=b{i}" for i in range(5)]
        answer = http.post(sb.webhook_url + "batch", json={"cmd": cmd})
        assert answer.status_code == 504
        sb.set_cost_factor(1.0)
        assert list_deals(http, sb).json()["total"] == 3  # 25 + 25 + 25 > 60: the third ran, then stop
        assert sb.counters()["calls"]["crm.deal.add"] == 3


def test_plan_can_change_at_runtime() -> None:
    with Sandbox(speed=0.01, plan="unlimited", cost_factor=1e-6) as sb, requests.Session() as http:
        sb.set_plan("standard")
        assert statuses(http, sb.webhook_url + "scope", 51)[-1] == 503
        sb.set_plan("enterprise")
        assert set(statuses(http, sb.webhook_url + "scope", 250)) == {200}
