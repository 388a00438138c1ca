"""Webhook addresses, portal domain change (302) and the per-instance signals."""

from __future__ import annotations

import threading

import pytest
from transport_support import config_fixture, existing_ids, sandbox_fixture, token, webhook  # noqa: F401

from bitrix24_core.config import Config
from bitrix24_core.credentials import BitrixToken, BitrixWebhook
from bitrix24_core.error import BitrixValidationError
from bitrix24_core.events import OAuthTokenRenewedEvent, PortalDomainChangedEvent
from bitrix24_core.transport import transport_for
from bitrix24_sandbox import Sandbox


@pytest.mark.parametrize(
    ("args", "base_url", "user_id", "code"),
    [
        (("https://b24-x.bitrix24.com/rest/1/abc123def/",), "https://b24-x.bitrix24.com", 1, "abc123def"),
        (("https://b24-x.bitrix24.com/rest/7/abc123def",), "https://b24-x.bitrix24.com", 7, "abc123def"),
        (("b24-x.bitrix24.com", "1/abc123def"), "https://b24-x.bitrix24.com", 1, "abc123def"),
        (("http://127.0.0.1:8123", "3/abc123def/"), "http://127.0.0.1:8123", 3, "abc123def"),
        (("http://127.0.0.1:8123/rest/1/abc123def/",), "http://127.0.0.1:8123", 1, "abc123def"),
    ],
)
def test_webhook_forms(args: tuple[str, ...], base_url: str, user_id: int, code: str) -> None:
    hook = BitrixWebhook(*args)
    assert (hook.base_url, hook.user_id, hook.code) == (base_url, user_id, code)
    assert hook.domain == base_url.split("://")[1]
    assert hook.webhook_url == f"{base_url}/rest/{user_id}/{code}/"


@pytest.mark.parametrize(
    "args",
    [
        (123,),
        (None,),
        ("b24-x.bitrix24.com", 5),
        ("https://b24-x.bitrix24.com/rest/1/abc123def?x=1",),
        ("https://b24-x.bitrix24.com/rest/1/abc123def/#top",),
        ("b24-x.bitrix24.com", "1/abc123def?x=1"),
    ],
)
def test_bad_webhook_arguments_are_validation_errors(args: tuple[object, ...]) -> None:
    # Not a TypeError/AttributeError from deep inside, and no query glued into the code (and every path).
    with pytest.raises(BitrixValidationError, match="webhook|portal address"):
        BitrixWebhook(*args)  # type: ignore[arg-type]


def test_token_with_a_non_string_domain_is_a_validation_error() -> None:
    with pytest.raises(BitrixValidationError, match="portal address must be a string"):
        BitrixToken(42, "tok-123456")  # type: ignore[arg-type]


def test_token_keeps_http_scheme_and_defaults_to_https() -> None:
    assert BitrixToken("http://127.0.0.1:9000", "tok-123456").base_url == "http://127.0.0.1:9000"
    assert BitrixToken("portal.bitrix24.de", "tok-123456").base_url == "https://portal.bitrix24.de"


def test_signals_are_per_instance_and_exist_after_init() -> None:
    a, b = BitrixToken("p1.bitrix24.com", "tok-aaaaaa"), BitrixToken("p2.bitrix24.com", "tok-bbbbbb")
    a.oauth_token_renewed_signal.connect(print)
    assert len(a.oauth_token_renewed_signal) == 1 and len(b.oauth_token_renewed_signal) == 0
    assert a.portal_domain_changed_signal is not b.portal_domain_changed_signal


def test_domain_change_is_followed_and_announced_once(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    deal_id = existing_ids(hook, 3)[-1]
    events: list[PortalDomainChangedEvent] = []
    hook.portal_domain_changed_signal.connect(events.append)
    old_domain = hook.domain
    old_transport = transport_for(hook.base_url)
    new_base = sandbox.move_domain()
    answers: list[str] = []

    def read() -> None:
        answers.append(hook.call("crm.deal.get", {"id": deal_id})["result"]["ID"])

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [str(deal_id)] * 4
    assert hook.base_url == new_base and hook.domain == new_base.split("://")[1]
    assert [(e.old_domain, e.new_domain) for e in events] == [(old_domain, hook.domain)]
    assert transport_for(new_base) is old_transport  # same portal: same bucket and budgets


def test_write_after_domain_change_runs_once(config: Config, sandbox: Sandbox) -> None:
    tok = token(sandbox)
    moved: list[PortalDomainChangedEvent] = []
    tok.portal_domain_changed_signal.connect(moved.append)
    sandbox.move_domain()
    new_id = tok.call("crm.deal.add", {"fields": {"TITLE": "moved-add"}})["result"]
    assert int(new_id) > 0 and len(moved) == 1
    found = tok.call("crm.deal.list", {"filter": {"TITLE": "moved-add"}, "select": ["ID"]})
    assert found["total"] == 1


class PersistingToken(BitrixToken):
    """The seed's example: a subclass that stores renewed tokens."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.saved: list[tuple[str, str]] = []
        self.oauth_token_renewed_signal.connect(self.oauth_token_renewed_handler)
        self.portal_domain_changed_signal.connect(self.portal_domain_changed_handler)

    def oauth_token_renewed_handler(self, event: OAuthTokenRenewedEvent) -> None:
        self.saved.append((event.renewed_oauth_token.access_token, event.renewed_oauth_token.refresh_token))

    def portal_domain_changed_handler(self, event: PortalDomainChangedEvent) -> None:
        self.saved.append((event.old_domain, event.new_domain))


def test_subclass_persists_renewed_tokens(config: Config, sandbox: Sandbox) -> None:
    tok = token(sandbox, PersistingToken)
    assert isinstance(tok, PersistingToken)
    deal_id = existing_ids(tok, 2)[-1]
    sandbox.expire_tokens()
    assert tok.call("crm.deal.get", {"id": deal_id})["result"]["ID"] == str(deal_id)
    assert tok.saved == [(tok.auth_token, tok.refresh_token)]
    assert tok.auth_token != sandbox.oauth.access_token
