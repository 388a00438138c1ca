"""Faults on demand over real HTTP: which strike before the work, which after, and determinism."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from bitrix24_sandbox import Sandbox
from bitrix24_sandbox.faults import FaultSpec


@pytest.fixture()
def sb() -> Iterator[Sandbox]:
    with Sandbox(speed=1000.0, plan="unlimited") as sandbox:
        yield sandbox


def add_deal(sb: Sandbox, timeout: float = 10.0) -> requests.Response:
    return requests.post(sb.webhook_url + "crm.deal.add", json={"fields": {"TITLE": "x"}}, timeout=timeout)


def deals(sb: Sandbox) -> int:
    total = sb.portal.dispatch("crm.deal.list", {}).total
    assert total is not None
    return total


def test_503_is_refused_before_the_work(sb: Sandbox) -> None:
    sb.queue_faults("503")
    answer = add_deal(sb)
    assert answer.status_code == 503 and answer.json()["error"] == "QUERY_LIMIT_EXCEEDED"
    assert deals(sb) == 0
    assert add_deal(sb).status_code == 200 and deals(sb) == 1


def test_500_and_html_502_strike_after_the_work(sb: Sandbox) -> None:
    sb.queue_faults("500", "html502")
    first = add_deal(sb)
    assert first.status_code == 500
    assert first.json() == {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal server error"}
    second = add_deal(sb)
    assert second.status_code == 502 and second.headers["Content-Type"].startswith("text/html")
    assert "502 Bad Gateway" in second.text
    assert deals(sb) == 2  # both adds ran: a client must not blindly retry writes after these


def test_dropped_connection_after_the_work(sb: Sandbox) -> None:
    sb.queue_faults("drop")
    with requests.Session() as http:
        with pytest.raises(requests.ConnectionError):
            http.post(sb.webhook_url + "crm.deal.add", json={"fields": {"TITLE": "x"}}, timeout=5)
        assert http.get(sb.webhook_url + "scope", timeout=5).status_code == 200
    assert deals(sb) == 1


def test_slow_answer_outlives_the_client_timeout(sb: Sandbox) -> None:
    sb.set_faults("slow_delay=0.6")
    sb.queue_faults("slow")
    with pytest.raises(requests.ReadTimeout):
        add_deal(sb, timeout=0.2)
    assert deals(sb) == 1  # the write happened; only the answer was late
    assert add_deal(sb, timeout=5).status_code == 200


def test_expired_token_fault_expires_the_token(sb: Sandbox) -> None:
    creds = sb.issue_token()
    url = f"{sb.base_url}/rest/crm.deal.list"
    sb.queue_faults("expired")
    first = requests.post(url, json={"auth": creds.access_token})
    assert first.status_code == 401 and first.json()["error"] == "expired_token"
    assert requests.post(url, json={"auth": creds.access_token}).json()["error"] == "expired_token"
    fresh = requests.get(
        f"{sb.base_url}/oauth/token/",
        params={
            "grant_type": "refresh_token",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
        },
    ).json()
    assert requests.post(url, json={"auth": fresh["access_token"]}).status_code == 200


def test_expired_fault_does_not_touch_webhooks(sb: Sandbox) -> None:
    sb.queue_faults("expired")
    assert requests.get(sb.webhook_url + "scope").status_code == 200
    assert sb.counters()["faults"] == {}  # drawn, but it does not apply to a webhook


def test_queued_fault_can_target_one_method(sb: Sandbox) -> None:
    sb.queue_faults("500", method="crm.deal.add")
    assert requests.get(sb.webhook_url + "scope").status_code == 200
    assert add_deal(sb).status_code == 500
    assert add_deal(sb).status_code == 200
    assert sb.counters()["faults"] == {"500": 1}


def run_statuses(spec: str, seed: int, n: int = 80) -> list[int]:
    with Sandbox(speed=1000.0, plan="unlimited", faults=spec, fault_seed=seed) as sandbox:
        with requests.Session() as http:
            return [http.get(sandbox.webhook_url + "scope").status_code for _ in range(n)]


def test_shares_are_deterministic_with_a_seed() -> None:
    spec = "503=0.3,500=0.2,html502=0.1"
    first, again, other = run_statuses(spec, 7), run_statuses(spec, 7), run_statuses(spec, 8)
    assert first == again and first != other
    assert set(first) == {200, 500, 502, 503}
    assert 10 <= first.count(503) <= 40 and 5 <= first.count(200) <= 50


def test_set_faults_at_runtime_and_off_again(sb: Sandbox) -> None:
    sb.set_faults("500=1.0", seed=3)
    assert requests.get(sb.webhook_url + "scope").status_code == 500
    sb.set_faults(None)
    assert requests.get(sb.webhook_url + "scope").status_code == 200


def test_fault_spec_errors_are_specific() -> None:
    assert FaultSpec.parse("503=0.1, slow=0.2 ,slow_delay=2").shares == {"503": 0.1, "slow": 0.2}
    for bad in ("teapot=0.1", "503", "503=x", "503=0.7,500=0.7"):
        with pytest.raises(ValueError):
            FaultSpec.parse(bad)


def test_hook_changes_records_while_a_client_pages(sb: Sandbox) -> None:
    for i in range(60):
        sb.portal.add("deal", {"TITLE": f"D{i}"})
    calls: list[str] = []

    def between(method: str) -> None:
        calls.append(method)
        if method == "crm.deal.list" and len(calls) == 2:
            sb.portal.delete("deal", 1)  # deleted between page 1 and page 2: page 2 shifts by one

    sb.set_hook(between)
    body = {"order": {"ID": "ASC"}, "select": ["ID"]}
    page1 = requests.post(sb.webhook_url + "crm.deal.list", json=body).json()
    page2 = requests.post(sb.webhook_url + "crm.deal.list", json=body | {"start": 50}).json()
    sb.set_hook(None)
    assert page1["total"] == 60 and page2["total"] == 59
    assert page2["result"][0]["ID"] == "52"  # ID 51 slid onto page 1 and was never seen
