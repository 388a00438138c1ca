"""Each error class from its real trigger against the sandbox; the seed's tree; the code/status mapping."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
from transport_support import config_fixture, free_port, sandbox_fixture, token, webhook  # noqa: F401

from bitrix24_core import error as E
from bitrix24_core.config import Config
from bitrix24_core.credentials import AbstractCredentials, BitrixApp, BitrixToken, BitrixWebhook
from bitrix24_core.transport import CallOptions, PortalTransport, transport_for
from bitrix24_sandbox import Sandbox

NO_RETRY = CallOptions(max_retries=0)

# The seed's tree (b24pysdk-architecture.md): class -> its parents, in order.
SEED_TREE: dict[str, tuple[str, ...]] = {
    "_HTTPResponseOK": ("_HTTPResponse",),
    "_HTTPResponseFound": ("_HTTPResponse",),
    "_HTTPResponseBadRequest": ("_HTTPResponse",),
    "_HTTPResponseUnauthorized": ("_HTTPResponse",),
    "_HTTPResponseForbidden": ("_HTTPResponse",),
    "_HTTPResponseNotFound": ("_HTTPResponse",),
    "_HTTPResponseMethodNotAllowed": ("_HTTPResponse",),
    "_HTTPResponseInternalError": ("_HTTPResponse",),
    "_HTTPResponseServiceUnavailable": ("_HTTPResponse",),
    "BitrixSDKException": ("Exception",),
    "BitrixOAuthException": ("BitrixSDKException",),
    "BitrixRequestError": ("BitrixSDKException",),
    "BitrixOAuthRequestError": ("BitrixRequestError",),
    "BitrixRequestTimeout": ("BitrixRequestError",),
    "BitrixOAuthRequestTimeout": ("BitrixRequestTimeout",),
    "BitrixResponseJSONDecodeError": ("BitrixRequestError", "_HTTPResponse"),
    "BitrixResponse302JSONDecodeError": ("BitrixResponseJSONDecodeError", "_HTTPResponseFound"),
    "BitrixResponse500JSONDecodeError": ("BitrixResponseJSONDecodeError", "_HTTPResponseInternalError"),
    "BitrixAPIError": ("BitrixSDKException", "_HTTPResponse"),
    "BitrixAPIBadRequest": ("BitrixAPIError", "_HTTPResponseBadRequest"),
    "BitrixAPIErrorBatchLengthExceeded": ("BitrixAPIBadRequest",),
    "BitrixAPIInvalidArgValue": ("BitrixAPIBadRequest",),
    "BitrixAPIInvalidRequest": ("BitrixAPIBadRequest",),
    "BitrixOAuthInvalidRequest": ("BitrixAPIInvalidRequest", "BitrixOAuthException"),
    "BitrixOAuthInvalidClient": ("BitrixAPIBadRequest", "BitrixOAuthException"),
    "BitrixOAuthInvalidGrant": ("BitrixAPIBadRequest", "BitrixOAuthException"),
    "BitrixAPIUnauthorized": ("BitrixAPIError", "_HTTPResponseUnauthorized"),
    "BitrixAPIExpiredToken": ("BitrixAPIUnauthorized",),
    "BitrixAPINoAuthFound": ("BitrixAPIUnauthorized",),
    "BitrixAPIErrorOAuth": ("BitrixAPIUnauthorized",),
    "BitrixAPIMethodConfirmWaiting": ("BitrixAPIUnauthorized",),
    "BitrixAPIForbidden": ("BitrixAPIError", "_HTTPResponseForbidden"),
    "BitrixAPIAccessDenied": ("BitrixAPIForbidden",),
    "BitrixAPIAllowedOnlyIntranetUser": ("BitrixAPIForbidden",),
    "BitrixAPIInsufficientScope": ("BitrixAPIForbidden",),
    "BitrixOAuthInvalidScope": ("BitrixAPIForbidden", "BitrixOAuthException"),
    "BitrixOAuthInsufficientScope": ("BitrixAPIForbidden", "BitrixOAuthException"),
    "BitrixAPIInvalidCredentials": ("BitrixAPIForbidden",),
    "BitrixAPIUserAccessError": ("BitrixAPIForbidden",),
    "BitrixAPIMethodConfirmDenied": ("BitrixAPIForbidden",),
    "BitrixAPINotFound": ("BitrixAPIError", "_HTTPResponseNotFound"),
    "BitrixAPIErrorManifestIsNotAvailable": ("BitrixAPINotFound",),
    "BitrixAPIMethodNotAllowed": ("BitrixAPIError", "_HTTPResponseMethodNotAllowed"),
    "BitrixAPIErrorBatchMethodNotAllowed": ("BitrixAPIMethodNotAllowed",),
    "BitrixAPIInternalServerError": ("BitrixAPIError", "_HTTPResponseInternalError"),
    "BitrixAPIErrorUnexpectedAnswer": ("BitrixAPIInternalServerError",),
    "BitrixAPIServiceUnavailable": ("BitrixAPIError", "_HTTPResponseServiceUnavailable"),
    "BitrixAPIOverloadLimit": ("BitrixAPIServiceUnavailable",),
    "BitrixAPIQueryLimitExceeded": ("BitrixAPIServiceUnavailable",),
    "BitrixOauthWrongClient": ("BitrixAPIError", "BitrixOAuthException", "_HTTPResponseOK"),
    "BitrixValidationError": ("BitrixSDKException",),
}


@pytest.mark.parametrize("name", sorted(SEED_TREE))
def test_seed_tree_names_and_parents(name: str) -> None:
    cls = getattr(E, name)
    parents = tuple(base.__name__ for base in cls.__bases__)
    expected = SEED_TREE[name]
    assert parents[: len(expected)] == expected
    # extra bases are only the stdlib's (ValueError for validation errors)
    assert all(p in ("ValueError",) for p in parents[len(expected) :])


def test_mapping_by_code_is_case_insensitive_then_by_status() -> None:
    assert E.api_error_class("QUERY_LIMIT_EXCEEDED", 503) is E.BitrixAPIQueryLimitExceeded
    assert E.api_error_class("Query_Limit_Exceeded", 503) is E.BitrixAPIQueryLimitExceeded
    assert E.api_error_class("OVERLOAD_LIMIT", 503) is E.BitrixAPIOverloadLimit
    assert E.api_error_class("EXPIRED_TOKEN", 401) is E.BitrixAPIExpiredToken
    assert E.api_error_class("SOMETHING_NEW", 403) is E.BitrixAPIForbidden
    assert E.api_error_class("", 400) is E.BitrixAPIBadRequest
    assert E.api_error_class("invalid_grant", 400, oauth=True) is E.BitrixOAuthInvalidGrant
    assert E.api_error_class("invalid_request", 400) is E.BitrixAPIInvalidRequest
    assert E.api_error_class("invalid_request", 400, oauth=True) is E.BitrixOAuthInvalidRequest
    assert E.api_error_class("wrong_client", 200, oauth=True) is E.BitrixOauthWrongClient
    assert E.api_error_class("ERROR_BATCH_LENGTH_EXCEEDED", 0) is E.BitrixAPIErrorBatchLengthExceeded
    assert E.api_error_class("X", 0) is E.BitrixAPIError


def raised(call: Any, *args: Any, **kwargs: Any) -> E.BitrixSDKException:
    with pytest.raises(E.BitrixSDKException) as info:
        call(*args, **kwargs)
    return info.value


def check(exc: E.BitrixSDKException, cls: type, code: str | None, status: int | None) -> None:
    assert type(exc) is cls, repr(exc)
    assert exc.error == code and exc.status_code == status
    if status is not None:
        assert exc.response is not None and exc.response.status_code == status


def test_api_errors_from_real_triggers(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    wrong = BitrixWebhook(sandbox.base_url, "1/notthecode123")
    check(raised(wrong.call, "crm.deal.list"), E.BitrixAPIInvalidCredentials, "INVALID_CREDENTIALS", 401)
    exc = raised(hook.call, "crm.nothing.here")
    check(exc, E.BitrixAPIMethodNotFound, "ERROR_METHOD_NOT_FOUND", 404)
    assert isinstance(exc, E.BitrixAPINotFound) and exc.error_description == "Method not found!"
    narrow = BitrixWebhook(sandbox.create_webhook(scopes=["user"]))
    check(raised(narrow.call, "crm.deal.list"), E.BitrixAPIInsufficientScope, "insufficient_scope", 403)
    exc = raised(hook.call, "crm.deal.get", {"id": 99999})
    check(exc, E.BitrixAPIBadRequest, "", 400)
    assert exc.error_description == "Not found"
    exc = raised(hook.call, "crm.item.list", {})
    check(exc, E.BitrixAPIInvalidArgValue, "INVALID_ARG_VALUE", 400)
    exc = raised(hook.call, "crm.deal.add", {"fields": "not-an-object"})
    check(exc, E.BitrixAPIInvalidArgValue, "INVALID_ARG_VALUE", 400)
    check(raised(hook.call, "department.add", {}), E.BitrixAPIBadRequest, "ERROR_CORE", 400)
    bogus = BitrixToken(sandbox.base_url, "0123456789abcdef0123456789abcdef")
    check(raised(bogus.call, "crm.deal.list"), E.BitrixAPIInvalidToken, "invalid_token", 401)
    sandbox.queue_faults("503")
    exc = raised(hook.call, "crm.deal.list", options=NO_RETRY)
    check(exc, E.BitrixAPIQueryLimitExceeded, "QUERY_LIMIT_EXCEEDED", 503)
    sandbox.queue_faults("500")
    check(raised(hook.call, "crm.deal.list", options=NO_RETRY), E.BitrixAPIInternalServerError,
          "INTERNAL_SERVER_ERROR", 500)  # fmt: skip
    sandbox.queue_faults("html502")
    exc = raised(hook.call, "crm.deal.list", options=NO_RETRY)
    check(exc, E.BitrixResponseJSONDecodeError, None, 502)
    assert "502 Bad Gateway" in str(exc)


def test_expired_token_without_an_app_is_raised(config: Config, sandbox: Sandbox) -> None:
    o = sandbox.oauth
    bare = BitrixToken(sandbox.base_url, o.access_token)
    assert bare.call("crm.deal.get", {"id": 1})["result"]["ID"] == "1"
    sandbox.expire_tokens()
    check(raised(bare.call, "crm.deal.get", {"id": 1}), E.BitrixAPIExpiredToken, "expired_token", 401)


class _NoAuth(AbstractCredentials):
    """Credentials that send no auth at all (the portal's NO_AUTH_FOUND)."""

    def _send(self, transport: PortalTransport, method: str, body: dict[str, Any], options: Any) -> Any:
        return transport.post(f"{self.base_url}/rest/{method}", method, body, options)


def test_no_auth_found(config: Config, sandbox: Sandbox) -> None:
    check(
        raised(_NoAuth(sandbox.base_url).call, "crm.deal.list"), E.BitrixAPINoAuthFound, "NO_AUTH_FOUND", 401
    )


def test_operation_time_limit(config: Config) -> None:
    options = CallOptions(max_retries=0, operating_limit=False, time_scale=400.0)
    with Sandbox(seed={"deals": 120}, speed=400.0, operating_limit=0.1) as sb:
        hook = webhook(sb)
        hook.call("crm.deal.list", {"select": ["ID"]}, options=options)  # 0.09 s
        hook.call("crm.deal.list", {"select": ["ID"]}, options=options)  # 0.18 s: over the limit
        exc = raised(hook.call, "crm.deal.list", {"select": ["ID"]}, options=options)
        check(exc, E.BitrixAPIOperationTimeLimit, "OPERATION_TIME_LIMIT", 429)
        assert isinstance(exc, E.BitrixAPITooManyRequests)
        assert hook.call("server.time", options=options)["result"]  # other methods keep working


def test_batch_command_errors_map_by_code(config: Config, sandbox: Sandbox) -> None:
    cmd = {f"c{i}": "server.time" for i in range(51)}
    cmd["c0"] = "batch?cmd[x]=server.time"
    answer = webhook(sandbox).call("batch", {"cmd": cmd})
    errors = answer["result"]["result_error"]
    built = {
        key: E.api_error(e["error"], e["error_description"], 0, context=key) for key, e in errors.items()
    }
    assert type(built["c0"]) is E.BitrixAPIErrorBatchMethodNotAllowed
    assert type(built["c50"]) is E.BitrixAPIErrorBatchLengthExceeded


def test_redirect_reaches_the_transport_as_302(config: Config, sandbox: Sandbox) -> None:
    old = sandbox.base_url
    new = sandbox.move_domain()
    url = f"{old}/rest/1/whatever/server.time"
    exc = raised(transport_for(old).post, url, "server.time", {})
    assert type(exc) is E.BitrixResponse302JSONDecodeError
    assert exc.status_code == 302 and exc.new_domain == new.split("://")[1]  # type: ignore[attr-defined]


def test_request_errors(config: Config, sandbox: Sandbox) -> None:
    closed = BitrixWebhook(f"http://127.0.0.1:{free_port()}", "1/abcdef123456")
    exc = raised(closed.call, "server.time", options=NO_RETRY)
    check(exc, E.BitrixRequestError, None, None)
    sandbox.queue_faults("slow")
    sandbox.set_faults("slow_delay=1.0")
    exc = raised(webhook(sandbox).call, "server.time", options=CallOptions(max_retries=0, timeout=(2, 0.2)))
    check(exc, E.BitrixRequestTimeout, None, None)
    assert exc.original_error is not None


def test_oauth_errors(config: Config, sandbox: Sandbox) -> None:
    o = sandbox.oauth
    app = BitrixApp(o.client_id, o.client_secret, oauth_server=o.server)
    app.refresh(o.refresh_token)
    exc = raised(app.refresh, o.refresh_token)  # refresh tokens rotate: the used one is dead
    check(exc, E.BitrixOAuthInvalidGrant, "invalid_grant", 400)
    assert isinstance(exc, E.BitrixOAuthException)
    wrong = BitrixApp(o.client_id, "not-the-secret", oauth_server=o.server)
    check(raised(wrong.refresh, o.refresh_token), E.BitrixOAuthInvalidClient, "invalid_client", 401)
    down = BitrixApp(o.client_id, o.client_secret, oauth_server=f"http://127.0.0.1:{free_port()}")
    check(raised(down.refresh, "x" * 10, options=NO_RETRY), E.BitrixOAuthRequestError, None, None)


def test_oauth_timeout(config: Config) -> None:
    """A token endpoint that accepts the connection and never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        app = BitrixApp("client", "secret-value", oauth_server=f"http://127.0.0.1:{port}")
        exc = raised(app.refresh, "x" * 10, options=CallOptions(timeout=(1.0, 0.2), max_retries=0))
    check(exc, E.BitrixOAuthRequestTimeout, None, None)


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("method", ("crm.deal list",)),
        ("method", ("",)),
        ("params", ("crm.deal.list", ["not", "a", "map"])),
    ],
)
def test_validation_before_sending(config: Config, call: str, args: tuple[Any, ...]) -> None:
    hook = BitrixWebhook(f"http://127.0.0.1:{free_port()}", "1/abcdef123456")
    with pytest.raises(E.BitrixValidationError):
        hook.call(*args)
    assert transport_for(hook.base_url).stats()["requests"] == 0


def test_validation_of_arguments() -> None:
    for bad in (lambda: BitrixWebhook("https://portal/no-webhook-here"),
                lambda: BitrixWebhook("portal.bitrix24.com", "code-without-user"),
                lambda: CallOptions(timeout=-1), lambda: CallOptions(max_retries=-2),
                lambda: CallOptions(rate_limit=(50.0, 0.0)), lambda: CallOptions(time_scale=0),
                lambda: CallOptions(operating_limit=-1.0),
                lambda: Config().configure(plan="platinum"),
                lambda: BitrixApp("", "secret"), lambda: BitrixToken("portal", "")):  # fmt: skip
        with pytest.raises(E.BitrixValidationError):
            bad()


def test_errors_are_threadsafe_to_raise_concurrently(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    seen: list[type] = []

    def fail() -> None:
        try:
            hook.call("crm.deal.get", {"id": 99999})
        except E.BitrixAPIError as exc:
            seen.append(type(exc))

    threads = [threading.Thread(target=fail) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [E.BitrixAPIBadRequest] * 6


def test_gateway_timeout_html_504(config: Config, sandbox: Sandbox) -> None:
    """An offset walk of 80 simulated seconds passes the cloud's 60 s request limit: nginx answers 504."""
    hook = webhook(sandbox)
    exc = raised(hook.call, "crm.deal.list", {"start": 40_000_000}, options=CallOptions(max_retries=1))
    check(exc, E.BitrixResponseJSONDecodeError, None, 504)
    assert "504 Gateway Time-out" in str(exc) and exc.outcome_unknown is False
    assert transport_for(hook.base_url).stats()["retries"] == 1  # a read: retried before giving up
