"""Credentials: how a call is addressed and authorised (webhook or OAuth token), domain moves and
token renewal. ``call`` is the one entry point the API plane uses."""

from __future__ import annotations

import re
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from .config import Config, check_server
from .error import (
    BitrixAPIExpiredToken,
    BitrixOAuthException,
    BitrixOAuthRequestError,
    BitrixOAuthRequestTimeout,
    BitrixResponse302JSONDecodeError,
    BitrixValidationError,
    decode_error,
    error_from_body,
)
from .events import OAuthTokenRenewedEvent, PortalDomainChangedEvent, Signal
from .masking import hint, mask, register_secret
from .retry import normalize_method
from .transport import CallOptions, PortalTransport, move_transport, never_sent, transport_for

_METHOD = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")
MAX_REDIRECTS = 3


def split_base_url(address: str) -> tuple[str, str]:
    """(base_url, domain) from "portal.bitrix24.com", "https://portal/..." or "http://127.0.0.1:PORT".
    A missing scheme means https; a given scheme is kept."""
    if not isinstance(address, str):
        raise BitrixValidationError(f"portal address must be a string, got {type(address).__name__}")
    text = address.strip()
    if not text:
        raise BitrixValidationError("empty portal address")
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BitrixValidationError(f"not a portal address: {mask(address)!r}")
    return f"{parts.scheme}://{parts.netloc}", parts.netloc


def check_method(method: str) -> str:
    if not isinstance(method, str):
        raise BitrixValidationError(f"method must be a string, got {type(method).__name__}")
    name = normalize_method(method)
    if not _METHOD.match(name):
        raise BitrixValidationError(f"not a REST method name: {method!r}")
    return name


class AbstractCredentials(ABC):
    """Where and as whom calls go. Signals are per instance and exist right after ``__init__``."""

    domain: str
    base_url: str

    def __init__(self, address: str) -> None:
        self.base_url, self.domain = split_base_url(address)
        self._address_lock = threading.Lock()
        self.oauth_token_renewed_signal: Signal[OAuthTokenRenewedEvent] = Signal("oauth_token_renewed")
        self.portal_domain_changed_signal: Signal[PortalDomainChangedEvent] = Signal("portal_domain_changed")

    def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, options: CallOptions | None = None
    ) -> dict[str, Any]:
        """Call a REST method and return the decoded JSON envelope (``result``, ``time``, ...)."""
        name = check_method(method)
        if params is not None and not isinstance(params, Mapping):
            raise BitrixValidationError(f"params must be a mapping, got {type(params).__name__}")
        body = dict(params or {})
        for hop in range(MAX_REDIRECTS + 1):
            try:
                return self._send(transport_for(self.base_url), name, body, options)
            except BitrixResponse302JSONDecodeError as redirect:
                if hop == MAX_REDIRECTS or not self._follow(redirect):
                    raise
        raise AssertionError("unreachable")

    @abstractmethod
    def _send(
        self, transport: PortalTransport, method: str, body: dict[str, Any], options: CallOptions | None
    ) -> dict[str, Any]: ...

    def _follow(self, redirect: BitrixResponse302JSONDecodeError) -> bool:
        """Move to the address a 302 points to (the portal was renamed) and announce it once.
        The redirected call was not run, so sending it again is safe even for writes."""
        location = redirect.redirect_url
        if not location or "://" not in location:
            return False
        new_base, new_domain = split_base_url(location)
        with self._address_lock:
            if new_domain == self.domain:
                self.base_url = new_base  # another thread already moved us: just send again
                return True
            old_domain, old_base = self.domain, self.base_url
            self.base_url, self.domain = new_base, new_domain
            move_transport(old_base, new_base)
        Config().logger.warning(f"portal moved: {old_domain} -> {new_domain}")
        self.portal_domain_changed_signal.emit(PortalDomainChangedEvent(old_domain, new_domain))
        return True


class BitrixWebhook(AbstractCredentials):
    """An inbound webhook: ``BitrixWebhook("https://portal/rest/1/code/")`` or
    ``BitrixWebhook("portal.bitrix24.com", "1/code")``."""

    def __init__(self, domain: str, webhook_token: str | None = None) -> None:
        if not isinstance(domain, str) or not isinstance(webhook_token, (str, type(None))):
            raise BitrixValidationError(
                "BitrixWebhook takes a webhook URL string (https://portal/rest/USER_ID/CODE/) or a "
                f"portal address and 'USER_ID/CODE' strings, got {type(domain).__name__}"
                + (f", {type(webhook_token).__name__}" if webhook_token is not None else "")
            )
        if webhook_token is None:
            domain, webhook_token = _split_webhook_url(domain)
        # A code never holds "?" or "#": a URL with a query would otherwise glue it into every call's path.
        match = re.fullmatch(r"/*(\d+)/([^/\s?#]+)/*", webhook_token.strip())
        if not match:
            raise BitrixValidationError("webhook token must look like 'USER_ID/CODE'")
        self.user_id = int(match.group(1))
        self.code = match.group(2)
        register_secret(self.code)
        super().__init__(domain)

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/rest/{self.user_id}/{self.code}/"

    def _send(
        self, transport: PortalTransport, method: str, body: dict[str, Any], options: CallOptions | None
    ) -> dict[str, Any]:
        return transport.post(f"{self.webhook_url}{method}", method, body, options)

    def __repr__(self) -> str:
        return f"BitrixWebhook(domain={self.domain!r}, user_id={self.user_id}, code={hint(self.code)})"


def _split_webhook_url(url: str) -> tuple[str, str]:
    match = re.fullmatch(r"\s*((?:https?://)?[^/\s?#]+)/rest/(\d+/[^/\s?#]+)/?\s*", url)
    if not match:
        raise BitrixValidationError(
            f"not a webhook URL (expected https://portal/rest/USER_ID/CODE/): {mask(url)!r}"
        )
    return match.group(1), match.group(2)


@dataclass(frozen=True)
class RenewedOAuthToken:
    """What the OAuth server answered to a refresh. ``refresh_token`` replaces the old one, which is dead."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires: int | None = None
    expires_in: int | None = None
    domain: str | None = None
    client_endpoint: str | None = None
    server_endpoint: str | None = None
    member_id: str | None = field(default=None, repr=False)
    scope: str | None = None
    user_id: int | None = None
    status: str | None = None

    @classmethod
    def from_answer(cls, answer: Mapping[str, Any]) -> RenewedOAuthToken:
        if not answer.get("access_token") or not answer.get("refresh_token"):
            raise BitrixValidationError("OAuth answer without access_token / refresh_token")
        register_secret(str(answer["access_token"]))
        register_secret(str(answer["refresh_token"]))
        return cls(
            access_token=str(answer["access_token"]),
            refresh_token=str(answer["refresh_token"]),
            expires=_int(answer.get("expires")),
            expires_in=_int(answer.get("expires_in")),
            domain=_str(answer.get("domain")),
            client_endpoint=_str(answer.get("client_endpoint")),
            server_endpoint=_str(answer.get("server_endpoint")),
            member_id=_str(answer.get("member_id")),
            scope=_str(answer.get("scope")),
            user_id=_int(answer.get("user_id")),
            status=_str(answer.get("status")),
        )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


class BitrixApp:
    """An OAuth application. ``oauth_server`` defaults to ``Config().oauth_server``
    (https://oauth.bitrix.info); a sandbox serves ``/oauth/token/`` on its own port."""

    def __init__(self, client_id: str, client_secret: str, oauth_server: str | None = None) -> None:
        if (
            not isinstance(client_id, str)
            or not isinstance(client_secret, str)
            or not client_id
            or not client_secret
        ):
            raise BitrixValidationError("client_id and client_secret are required (non-empty strings)")
        self.client_id = client_id
        self.client_secret = client_secret
        register_secret(client_secret)
        self._oauth_server = check_server("oauth_server", oauth_server or None)  # "" = Config's
        self._session = requests.Session()

    @property
    def oauth_server(self) -> str:
        return self._oauth_server or Config().oauth_server

    def refresh(self, refresh_token: str, options: CallOptions | None = None) -> RenewedOAuthToken:
        """Trade ``refresh_token`` (single use) for new tokens. A failure after the request was sent
        is not retried: the server may already have rotated the token."""
        opts = (options or CallOptions()).resolve()
        url = f"{self.oauth_server}/oauth/token/"
        query = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": refresh_token,
        }
        for attempt in range(opts.max_retries + 1):
            try:
                response = self._session.get(url, params=query, timeout=opts.timeout, allow_redirects=False)
                break
            except requests.RequestException as error:
                timeout = isinstance(error, requests.Timeout)
                cls = BitrixOAuthRequestTimeout if timeout else BitrixOAuthRequestError
                exc = cls(f"OAuth refresh failed: {type(error).__name__}: {error}", original_error=error)
                if not never_sent(error) or attempt >= opts.max_retries:  # sent: token may be rotated
                    raise exc from None
                opts.logger.warning(f"OAuth refresh: {exc}; retrying")
                time.sleep(opts.backoff(attempt))
        try:
            answer = response.json()
        except ValueError:
            raise decode_error(response, "oauth/token") from None
        failure = error_from_body(answer, response, oauth=True, context="oauth/token")
        if failure is None and isinstance(answer, dict) and answer.get("error"):
            failure = error_from_body({"error": answer["error"], **answer}, response, oauth=True)
        if failure is not None:
            raise failure
        if not isinstance(answer, dict) or not answer.get("access_token") or not answer.get("refresh_token"):
            raise decode_error(response, "oauth/token", "answer is not a token pair")
        opts.logger.info("OAuth token renewed")
        return RenewedOAuthToken.from_answer(answer)

    def __repr__(self) -> str:
        return f"BitrixApp(client_id={self.client_id!r}, client_secret={hint(self.client_secret)})"


class BitrixToken(AbstractCredentials):
    """An OAuth access token of an app. On ``expired_token`` it refreshes through ``bitrix_app`` and
    repeats the call once; threads that hit the expiry together share ONE refresh (refresh tokens
    rotate, a used one is dead). Subclass and connect ``oauth_token_renewed_signal`` to persist."""

    def __init__(
        self,
        domain: str,
        auth_token: str,
        refresh_token: str | None = None,
        expires: int | None = None,
        bitrix_app: BitrixApp | None = None,
    ) -> None:
        if not auth_token:
            raise BitrixValidationError("auth_token is required")
        self.auth_token = auth_token
        self.refresh_token = refresh_token
        self.expires = expires
        self.bitrix_app = bitrix_app
        self._refresh_lock = threading.Lock()
        self._announce_lock = threading.RLock()  # re-entrant: a handler may call (and refresh) again
        self._announced = 0  # the refresh number whose event went out last
        self._refusal: tuple[str, BitrixOAuthException] | None = None
        self.refresh_count = 0
        register_secret(auth_token)
        register_secret(refresh_token)
        super().__init__(domain)

    def _send(
        self, transport: PortalTransport, method: str, body: dict[str, Any], options: CallOptions | None
    ) -> dict[str, Any]:
        url = f"{self.base_url}/rest/{method}"
        token = self.auth_token
        try:
            return transport.post(url, method, {**body, "auth": token}, options)
        except BitrixAPIExpiredToken:
            if self.bitrix_app is None or not self.refresh_token:
                raise
            self._renew(token, options)
        return transport.post(url, method, {**body, "auth": self.auth_token}, options)

    def refresh(self, options: CallOptions | None = None) -> None:
        """Renew the tokens now."""
        self._renew(self.auth_token, options)

    def _renew(self, expired: str, options: CallOptions | None) -> None:
        """Refresh unless another thread already replaced ``expired``; emit the event after."""
        with self._refresh_lock:
            if self.auth_token != expired:
                return  # someone else refreshed while we waited
            if self._refusal is not None and self._refusal[0] == self.refresh_token:
                raise self._refusal[1]  # the OAuth server already refused this refresh token
            if self.bitrix_app is None or not self.refresh_token:
                raise BitrixValidationError("cannot refresh: no bitrix_app or refresh_token")
            try:
                renewed = self.bitrix_app.refresh(self.refresh_token, options)
            except BitrixOAuthException as refusal:
                self._refusal = (self.refresh_token, refusal)
                raise
            self.auth_token = renewed.access_token
            self.refresh_token = renewed.refresh_token
            self.expires = renewed.expires
            self.refresh_count += 1
            number = self.refresh_count
        self._announce(number, OAuthTokenRenewedEvent(renewed))

    def _announce(self, number: int, event: OAuthTokenRenewedEvent) -> None:
        """Emit in refresh order, outside the refresh lock. An event overtaken by a later refresh is not
        sent: its refresh token is already dead, and a handler persisting it last would lose the session."""
        with self._announce_lock:
            if number < self._announced:
                return
            self._announced = number
            self.oauth_token_renewed_signal.emit(event)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(domain={self.domain!r}, auth_token={hint(self.auth_token)}, "
            f"refresh_token={hint(self.refresh_token)}, expires={self.expires!r}, "
            f"bitrix_app={self.bitrix_app!r})"
        )


__all__ = [
    "AbstractCredentials",
    "BitrixApp",
    "BitrixToken",
    "BitrixWebhook",
    "RenewedOAuthToken",
    "split_base_url",
]
