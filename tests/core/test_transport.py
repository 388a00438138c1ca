"""Transport against the sandbox over real HTTP: session reuse, retries, write safety, timeouts."""

from __future__ import annotations

import threading
import time

import pytest
from transport_support import SPEED, all_deal_ids, config_fixture, free_port, sandbox_fixture, webhook  # noqa: F401

from bitrix24_core.config import Config
from bitrix24_core.credentials import BitrixWebhook
from bitrix24_core.error import (
    BitrixAPIInternalServerError,
    BitrixRequestError,
    BitrixRequestTimeout,
    BitrixResponseJSONDecodeError,
)
from bitrix24_core.transport import CallOptions, transport_for
from bitrix24_sandbox import Sandbox


def deal_count(sb: Sandbox, title: str) -> int:
    found = webhook(sb).call("crm.deal.list", {"filter": {"TITLE": title}, "select": ["ID"]})
    return int(found["total"])


def test_call_returns_envelope_and_reuses_one_connection(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    for _ in range(5):
        answer = hook.call("crm.deal.list", {"select": ["ID"], "order": {"ID": "ASC"}})
        assert len(answer["result"]) == 50 and answer["total"] == 120 and answer["next"] == 50
    transport = transport_for(hook.base_url)
    assert transport is transport_for(sandbox.base_url + "/")
    pools = transport.session.get_adapter(hook.base_url).poolmanager.pools
    assert len(pools) == 1
    pool = pools[next(iter(pools.keys()))]
    assert pool.num_connections == 1 and pool.num_requests >= 5
    assert transport.stats()["requests"] >= 5


def test_reads_complete_under_five_percent_faults(config: Config) -> None:
    config.configure(default_timeout=(2.0, 0.5), default_initial_retry_delay=1.0)
    with Sandbox(seed={"deals": 3000}, speed=SPEED) as sb:
        expected = all_deal_ids(webhook(sb))
        assert len(expected) == 3000
        sb.reset_counters()
        sb.set_faults("503=0.01,500=0.01,html502=0.01,drop=0.01,slow=0.01,slow_delay=0.8", seed=7)
        results: list[list[int]] = []

        def read() -> None:
            results.append(all_deal_ids(BitrixWebhook(sb.webhook_url)))

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        faults = sb.counters()["faults"]
    assert results == [expected] * 4
    assert sum(faults.values()) >= 4, faults  # ~12 expected: the faults really struck and were retried


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("500", BitrixAPIInternalServerError),
        ("html502", BitrixResponseJSONDecodeError),
        ("drop", BitrixRequestError),
    ],
)
def test_write_is_not_retried_after_the_server_may_have_run_it(
    config: Config, sandbox: Sandbox, fault: str, error: type[Exception]
) -> None:
    hook = webhook(sandbox)
    sandbox.queue_faults(fault, method="crm.deal.add")
    with pytest.raises(error) as raised:
        hook.call("crm.deal.add", {"fields": {"TITLE": f"after-{fault}"}})
    assert raised.value.outcome_unknown is True  # type: ignore[attr-defined]
    assert deal_count(sandbox, f"after-{fault}") == 1  # it ran once; a blind retry would make two


def test_write_read_timeout_is_raised_not_retried(config: Config, sandbox: Sandbox) -> None:
    sandbox.set_faults("slow=1.0,slow_delay=1.0")
    hook = webhook(sandbox)
    with pytest.raises(BitrixRequestTimeout) as raised:
        hook.call("crm.deal.add", {"fields": {"TITLE": "slow-add"}}, options=CallOptions(timeout=(2.0, 0.3)))
    assert raised.value.outcome_unknown is True
    sandbox.set_faults(None)
    assert deal_count(sandbox, "slow-add") == 1


def test_write_refused_before_execution_is_retried(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    sandbox.queue_faults("503", "503", method="crm.deal.add")
    answer = hook.call("crm.deal.add", {"fields": {"TITLE": "after-503"}})
    assert int(answer["result"]) > 0
    assert deal_count(sandbox, "after-503") == 1
    assert sandbox.counters()["faults"] == {"503": 2}


def test_read_retried_after_faults_returns_the_data(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    sandbox.queue_faults("500", "html502", "drop", "503", method="crm.deal.get")
    answer = hook.call("crm.deal.get", {"id": 7})
    assert answer["result"]["ID"] == "7"
    assert transport_for(hook.base_url).stats()["retries"] == 4


def test_read_gives_up_after_max_retries(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    sandbox.queue_faults("500", "500", "500", method="crm.deal.get")
    with pytest.raises(BitrixAPIInternalServerError) as raised:
        hook.call("crm.deal.get", {"id": 7}, options=CallOptions(max_retries=2))
    assert raised.value.status_code == 500 and raised.value.outcome_unknown is False


def test_connect_error_is_retried_even_for_writes(config: Config) -> None:
    config.configure(default_initial_retry_delay=10.0)  # 10 portal s = 10 ms real per retry
    hook = BitrixWebhook(f"http://127.0.0.1:{free_port()}", "1/abcdef123456")
    started = time.monotonic()
    with pytest.raises(BitrixRequestError) as raised:
        hook.call("crm.deal.add", {"fields": {"TITLE": "x"}}, options=CallOptions(max_retries=3))
    assert "connect failed" in str(raised.value) and raised.value.outcome_unknown is False
    assert transport_for(hook.base_url).stats() == {"requests": 4, "retries": 3}
    assert time.monotonic() - started < 5


def test_time_scale_divides_retry_waits(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    sandbox.queue_faults("503", "503", method="crm.deal.get")
    options = CallOptions(initial_retry_delay=10.0, time_scale=100.0)  # 10 and 20 portal s, jittered
    started = time.monotonic()
    hook.call("crm.deal.get", {"id": 1}, options=options)
    elapsed = time.monotonic() - started
    assert 0.15 <= elapsed < 2.0  # at least (10*0.5 + 20*0.5) / 100 s, far below the 15 s unscaled
