"""No webhook code, token or client secret in any log line, exception text or repr."""

from __future__ import annotations

import io
import threading

import pytest
from transport_support import (  # noqa: F401
    config_fixture,
    existing_ids,
    free_port,
    log_buffer_fixture,
    sandbox_fixture,
    token,
)

from bitrix24_core.config import Config
from bitrix24_core.credentials import BitrixApp, BitrixToken, BitrixWebhook
from bitrix24_core.error import BitrixSDKException
from bitrix24_core.log import AbstractLogger
from bitrix24_core.masking import mask
from bitrix24_core.transport import CallOptions, transport_for
from bitrix24_sandbox import Sandbox


def failures(call: object, *args: object, **kwargs: object) -> list[BitrixSDKException]:
    try:
        call(*args, **kwargs)  # type: ignore[operator]
    except BitrixSDKException as exc:
        return [exc]
    return []


def assert_clean(texts: list[str], secrets: list[str]) -> None:
    blob = "\n".join(texts)
    for secret in secrets:
        assert secret not in blob, f"secret leaked: {secret[:3]}..."


def test_no_secret_in_logs_errors_or_reprs(config: Config, log_buffer: io.StringIO, sandbox: Sandbox) -> None:
    o = sandbox.oauth
    hook = BitrixWebhook(sandbox.webhook_url)
    wrong = BitrixWebhook(sandbox.base_url, "1/wrongcode987654")
    tok = token(sandbox)
    bad_app = BitrixApp(o.client_id, "bad-secret-000111", oauth_server=o.server)
    bad_tok = BitrixToken(sandbox.base_url, "badtoken0123456789", "badrefresh0123456789", 0, bad_app)
    offline = BitrixWebhook(f"http://127.0.0.1:{free_port()}", "1/offlinecode5555")
    errors: list[BitrixSDKException] = []
    errors += failures(wrong.call, "crm.deal.list")
    errors += failures(hook.call, "crm.no.such.method", {"auth": "x"})
    sandbox.queue_faults("500", "html502", "drop", "503", "500", "500", method="crm.deal.list")
    errors += failures(hook.call, "crm.deal.list", options=CallOptions(max_retries=5))
    errors += failures(hook.call, "crm.deal.add", {"fields": {"TITLE": "x"}})  # 500 after the work
    errors += failures(offline.call, "server.time", options=CallOptions(max_retries=1))
    sandbox.expire_tokens()
    tok.call("crm.deal.get", {"id": existing_ids(tok, 1)[0]})  # renews: new secrets logged nowhere
    errors += failures(bad_tok.call, "crm.deal.list")
    sandbox.expire_tokens()
    errors += failures(token(sandbox).call, "crm.deal.list")  # its refresh token was used above
    errors += failures(bad_app.refresh, o.refresh_token)
    assert len(errors) >= 7
    secrets = [
        hook.code, wrong.code, offline.code, o.client_secret, o.access_token, o.refresh_token,
        tok.auth_token, tok.refresh_token or "", "badtoken0123456789", "badrefresh0123456789",
        "bad-secret-000111",
    ]  # fmt: skip
    texts = [log_buffer.getvalue()]
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    texts += [str(e.error_description) for e in errors]
    texts += [repr(c) for c in (hook, wrong, tok, bad_tok, bad_app, offline, transport_for(hook.base_url))]
    assert "crm.deal.list" in texts[0] and "retry" in texts[0]  # the log did record the calls
    assert_clean(texts, secrets)
    try:
        from bitrix24_core import Client  # the API plane's client, when it is there

        texts.append(repr(Client(hook)))
        texts.append(repr(Client(tok)))
    except (ImportError, TypeError):
        pass
    assert_clean(texts, secrets)


def test_concurrent_refresh_logs_no_token(config: Config, log_buffer: io.StringIO, sandbox: Sandbox) -> None:
    tok = token(sandbox)
    sandbox.expire_tokens()
    threads = [threading.Thread(target=tok.call, args=("server.time",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert "OAuth token renewed" in log_buffer.getvalue()
    assert_clean([log_buffer.getvalue(), repr(tok)], [tok.auth_token, tok.refresh_token or ""])


@pytest.mark.parametrize(
    "text",
    [
        "https://p.bitrix24.com/rest/1/unregisteredcode1/crm.deal.list",
        "auth=unregisteredtoken2&x=1",
        '{"refresh_token": "unregisteredtoken3"}',
        "client_secret=unregisteredsecret4",
        "Authorization: Bearer unregisteredtoken5",
    ],
)
def test_mask_hides_secret_shaped_parts_never_registered(text: str) -> None:
    masked = mask(text)
    assert "unregistered" not in masked and "***" in masked


class RawLogger(AbstractLogger):
    """A user's own logger that masks nothing: the SDK must not hand it secrets."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, level: int, message: str, context: dict[str, object] | None = None) -> None:
        self.lines.append(f"{level} {message} {context or ''}")


def test_a_non_masking_logger_receives_no_secret(config: Config, sandbox: Sandbox) -> None:
    raw = RawLogger()
    config.configure(logger=raw)
    hook = BitrixWebhook(sandbox.webhook_url)
    tok = token(sandbox)
    sandbox.queue_faults("500", "drop", method="crm.deal.list")
    hook.call("crm.deal.list", {"select": ["ID"]})
    sandbox.expire_tokens()
    tok.call("crm.deal.list", {"select": ["ID"]})
    failures(BitrixWebhook(sandbox.base_url, "1/wrongcode24680").call, "server.time")
    assert len(raw.lines) >= 8
    assert_clean(raw.lines, [hook.code, "wrongcode24680", tok.auth_token, tok.refresh_token or ""])
