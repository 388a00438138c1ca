"""Token renewal: refresh on expired_token, retry once, ONE shared refresh for many threads."""

from __future__ import annotations

import threading
import time

import pytest
from transport_support import all_deal_ids, config_fixture, existing_ids, sandbox_fixture, token  # noqa: F401

from bitrix24_core.config import Config
from bitrix24_core.credentials import BitrixApp, BitrixToken
from bitrix24_core.error import BitrixAPIExpiredToken, BitrixOAuthInvalidGrant
from bitrix24_core.events import OAuthTokenRenewedEvent
from bitrix24_sandbox import Sandbox


def test_eight_threads_share_one_refresh(config: Config, sandbox: Sandbox) -> None:
    tok = token(sandbox)
    events: list[OAuthTokenRenewedEvent] = []
    tok.oauth_token_renewed_signal.connect(events.append)
    ids = existing_ids(tok, 8)
    sandbox.expire_tokens()
    sandbox.reset_counters()
    barrier = threading.Barrier(8)
    results: dict[int, str] = {}
    failures: list[BaseException] = []

    def work(n: int) -> None:
        barrier.wait()
        try:
            results[n] = tok.call("crm.deal.get", {"id": ids[n]})["result"]["ID"]
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    counters = sandbox.counters()
    assert failures == []
    assert results == {n: str(ids[n]) for n in range(8)}
    assert counters["token_refreshes"] == 1 and tok.refresh_count == 1
    assert counters["errors"].get("expired_token", 0) >= 1
    assert counters["errors"].get("invalid_grant", 0) == 0
    assert len(events) == 1 and events[0].renewed_oauth_token.access_token == tok.auth_token


def test_repeated_expiry_refreshes_each_time_with_the_rotated_token(config: Config, sandbox: Sandbox) -> None:
    tok = token(sandbox)
    seen_refresh_tokens = {tok.refresh_token}
    ids = existing_ids(tok, 3)
    sandbox.reset_counters()
    for n in range(3):
        sandbox.expire_tokens()
        assert tok.call("crm.deal.get", {"id": ids[n]})["result"]["ID"] == str(ids[n])
        seen_refresh_tokens.add(tok.refresh_token)
    assert tok.refresh_count == 3 and len(seen_refresh_tokens) == 4
    assert sandbox.counters()["token_refreshes"] == 3


def test_injected_expiry_fault_is_healed(config: Config, sandbox: Sandbox) -> None:
    tok = token(sandbox)
    sandbox.queue_faults("expired", method="crm.deal.add")
    new_id = tok.call("crm.deal.add", {"fields": {"TITLE": "after-expired"}})["result"]
    assert int(new_id) > 0 and tok.refresh_count == 1
    found = tok.call("crm.deal.list", {"filter": {"TITLE": "after-expired"}, "select": ["ID"]})
    assert found["total"] == 1  # refused before work, sent again once: exactly one deal


def test_retry_after_refresh_happens_once(config: Config, sandbox: Sandbox) -> None:
    tok = token(sandbox)
    sandbox.queue_faults("expired", "expired", method="crm.deal.get")
    with pytest.raises(BitrixAPIExpiredToken):
        tok.call("crm.deal.get", {"id": 1})
    assert tok.refresh_count == 1


def test_refresh_with_a_dead_refresh_token_raises_invalid_grant(config: Config, sandbox: Sandbox) -> None:
    o = sandbox.oauth
    BitrixApp(o.client_id, o.client_secret, oauth_server=o.server).refresh(o.refresh_token)
    stale = token(sandbox)  # still holds the refresh token that was just used
    sandbox.expire_tokens()
    with pytest.raises(BitrixOAuthInvalidGrant):
        stale.call("crm.deal.get", {"id": 1})


def test_oauth_server_defaults_to_config(config: Config) -> None:
    app = BitrixApp("client", "secret-123456")
    assert app.oauth_server == "https://oauth.bitrix.info"
    config.configure(oauth_server="http://127.0.0.1:1/")
    assert app.oauth_server == "http://127.0.0.1:1"


def test_explicit_refresh(config: Config, sandbox: Sandbox) -> None:
    tok = token(sandbox)
    before = tok.auth_token
    tok.refresh()
    assert tok.auth_token != before and tok.call("crm.deal.get", {"id": 1})["result"]["ID"] == "1"
    assert isinstance(tok, BitrixToken) and tok.expires and tok.expires > 0


def test_persisted_refresh_token_is_the_live_one_when_refreshes_overlap(
    config: Config, sandbox: Sandbox
) -> None:
    """Two refreshes whose events would arrive out of order (the first handler is slow): the token a
    handler persists last must be the live one, else the next run's refresh gets invalid_grant."""
    tok = token(sandbox)
    saved: list[str] = []
    first_handler = threading.Event()

    def persist(event: OAuthTokenRenewedEvent) -> None:
        if not first_handler.is_set():  # the first event's handler is slow: a second refresh overtakes it
            first_handler.set()
            deadline = time.monotonic() + 5
            while tok.refresh_count < 2 and time.monotonic() < deadline:
                time.sleep(0.005)
        saved.append(event.renewed_oauth_token.refresh_token)

    tok.oauth_token_renewed_signal.connect(persist)
    slow = threading.Thread(target=tok.refresh)
    slow.start()
    assert first_handler.wait(5)
    tok.refresh()
    slow.join(10)
    live_last = bool(saved) and saved[-1] == tok.refresh_token  # compared, not printed: tokens are secrets
    assert tok.refresh_count == 2 and live_last, "the refresh token persisted last is a dead one"
    o = sandbox.oauth
    app = BitrixApp(o.client_id, o.client_secret, oauth_server=o.server)
    resumed = BitrixToken(sandbox.base_url, "stale-access-0001", saved[-1], None, app)
    resumed.refresh()  # the persisted token still works
    assert resumed.refresh_count == 1


def test_a_refused_refresh_is_not_repeated_by_every_thread(config: Config, sandbox: Sandbox) -> None:
    o = sandbox.oauth
    BitrixApp(o.client_id, o.client_secret, oauth_server=o.server).refresh(o.refresh_token)
    stale = token(sandbox)  # its refresh token is dead
    sandbox.expire_tokens()
    sandbox.reset_counters()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            stale.call("server.time")
        except BitrixOAuthInvalidGrant as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 6
    assert sandbox.counters()["errors"].get("invalid_grant") == 1  # one request to the OAuth server


def test_token_reads_complete_under_faults_with_expiry(config: Config) -> None:
    config.configure(default_timeout=(2.0, 1.0))
    with Sandbox(seed={"deals": 1500}, speed=1000.0) as sb:
        tok = token(sb)
        expected = all_deal_ids(tok)
        seen = iter(range(10**6))
        sb.set_hook(lambda method: sb.expire_tokens() if next(seen) % 9 == 8 else None)  # every 9th request
        sb.set_faults("503=0.01,500=0.01,html502=0.01,drop=0.01,expired=0.01", seed=11)
        got = all_deal_ids(tok)
        sb.set_hook(None)
        counters = sb.counters()
    assert got == expected and len(expected) == 1500
    assert tok.refresh_count >= 3 and counters["token_refreshes"] == tok.refresh_count
