"""The leaky bucket and the operating-time pacing against the sandbox's own limits (virtual time)."""

from __future__ import annotations

import threading
import time

import pytest
from transport_support import config_fixture  # noqa: F401

from bitrix24_core.config import Config
from bitrix24_core.credentials import BitrixWebhook
from bitrix24_core.error import BitrixAPIOperationTimeLimit
from bitrix24_core.transport import CallOptions, transport_for
from bitrix24_sandbox import Sandbox


def hammer(url: str, threads: int, calls: int, options: CallOptions) -> list[BaseException]:
    """``threads`` threads each read a page of deals ``calls`` times; returns the errors raised."""
    errors: list[BaseException] = []

    def work() -> None:
        hook = BitrixWebhook(url)
        for _ in range(calls):
            try:
                page = hook.call("crm.deal.list", {"select": ["ID"], "start": -1}, options=options)
                assert len(page["result"]) == 30
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return errors


@pytest.mark.parametrize(("plan", "speed", "calls"), [("standard", 10.0, 12), ("enterprise", 4.0, 40)])
def test_no_query_limit_exceeded_at_plan_limits(config: Config, plan: str, speed: float, calls: int) -> None:
    """8 threads send more than the bucket holds, faster than it drains: the limiter paces them."""
    config.configure(plan=plan, time_scale=speed)
    size = 50 if plan == "standard" else 250
    with Sandbox(seed={"deals": 30}, speed=speed, plan=plan) as sb:
        started = time.monotonic()
        errors = hammer(sb.webhook_url, 8, calls, CallOptions())
        elapsed = time.monotonic() - started
        counters = sb.counters()
    assert errors == []
    assert counters["requests"] == 8 * calls
    assert counters["refusals"].get("QUERY_LIMIT_EXCEEDED", 0) == 0
    drain = 2.0 if plan == "standard" else 5.0
    # The bucket really had to hold requests back: above size-margin it drains at `drain`/portal s.
    assert elapsed >= (8 * calls - size) / drain / speed * 0.8


def test_without_the_limiter_the_same_load_is_refused(config: Config) -> None:
    """Control for the test above: the load does exceed the portal's bucket."""
    with Sandbox(seed={"deals": 30}, speed=10.0, plan="standard") as sb:
        errors = hammer(sb.webhook_url, 8, 12, CallOptions(rate_limit=False, max_retries=0))
        refused = sb.counters()["refusals"].get("QUERY_LIMIT_EXCEEDED", 0)
    assert refused > 0 and len(errors) == refused


def list_deals(hook: BitrixWebhook, calls: int, options: CallOptions) -> None:
    for _ in range(calls):
        answer = hook.call("crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}}, options=options)
        assert len(answer["result"]) == 50


# crm.deal.list with a COUNT over 120 deals costs 0.09 portal s; a 0.5 s budget per 600 s window holds
# 6 such calls. At speed 400 the window is 1.5 real s, far longer than the calls take.
SLOW = 400.0
PACED = CallOptions(time_scale=SLOW, operating_limit=0.5)


def test_operating_time_is_paced_below_the_limit(config: Config) -> None:
    config.configure(operating_margin=0.05)
    with Sandbox(seed={"deals": 120}, speed=SLOW, operating_limit=0.5) as sb:
        hook = BitrixWebhook(sb.webhook_url)
        started = time.monotonic()
        list_deals(hook, 14, PACED)
        elapsed = time.monotonic() - started
        counters = sb.counters()
    assert counters["refusals"].get("OPERATION_TIME_LIMIT", 0) == 0
    assert counters["calls"]["crm.deal.list"] == 14
    assert counters["server_time"]["crm.deal.list"] > 1.0  # two windows' budget: the client waited
    assert elapsed >= 60 / SLOW  # at least one minute bucket drained, in real seconds


def test_without_pacing_the_portal_answers_429_and_the_client_waits(config: Config) -> None:
    unpaced = CallOptions(time_scale=SLOW, operating_limit=False)
    with Sandbox(seed={"deals": 120}, speed=SLOW, operating_limit=0.5) as sb:
        hook = BitrixWebhook(sb.webhook_url)
        with pytest.raises(BitrixAPIOperationTimeLimit) as raised:
            list_deals(hook, 14, CallOptions(time_scale=SLOW, operating_limit=False, max_retries=0))
        assert raised.value.status_code == 429
        # with retries the 429 is waited out (until operating_reset_at) and the reads complete
        list_deals(hook, 8, unpaced)
        assert sb.counters()["refusals"]["OPERATION_TIME_LIMIT"] >= 2


def test_batch_commands_are_charged_to_their_own_method(config: Config) -> None:
    config.configure(operating_margin=0.05)
    with Sandbox(seed={"deals": 120, "contacts": 60}, speed=SLOW, operating_limit=0.5) as sb:
        hook = BitrixWebhook(sb.webhook_url)
        cmd = {f"d{i}": "crm.deal.list?select[0]=ID&order[ID]=ASC" for i in range(3)}
        cmd["c"] = "crm.contact.list?select[0]=ID"
        for _ in range(5):
            answer = hook.call("batch", {"halt": 0, "cmd": cmd}, options=PACED)
            assert answer["result"]["result_error"] == []
            assert len(answer["result"]["result"]["d2"]) == 50
        budgets = transport_for(hook.base_url).budgets.snapshot()
        counters = sb.counters()
    assert counters["refusals"].get("OPERATION_TIME_LIMIT", 0) == 0
    assert counters["errors"] == {}
    assert counters["server_time"]["crm.deal.list"] > 1.0
    assert set(budgets) >= {"crm.deal.list", "crm.contact.list"}
    assert budgets["crm.deal.list"]["cost"] > 0
