"""Who may call: webhooks, OAuth apps, access tokens on the virtual clock, rotating refresh tokens."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .wire import WireError

ACCESS_TTL = 3600.0  # access token life, portal seconds
REFRESH_TTL = 180 * 86400.0  # refresh token life
ALL_SCOPES = ("crm", "department", "user")  # what an unrestricted webhook or app may call


@dataclass(frozen=True)
class Caller:
    """The identity a REST call runs as: a webhook or an OAuth app's token."""

    kind: str  # "webhook" | "oauth"
    user_id: int
    scopes: frozenset[str] | None  # None = every scope
    client_id: str | None = None
    token: str | None = field(default=None, repr=False)

    def allows(self, scope: str | None) -> bool:
        return scope is None or self.scopes is None or scope in self.scopes


@dataclass
class Webhook:
    user_id: int
    code: str
    scopes: frozenset[str] | None

    def __repr__(self) -> str:  # the code is a secret
        return f"Webhook(user_id={self.user_id}, scopes={sorted(self.scopes) if self.scopes else None})"


@dataclass
class App:
    client_id: str
    client_secret: str = field(repr=False)
    scopes: frozenset[str] | None


@dataclass
class _Token:
    client_id: str
    user_id: int
    scopes: frozenset[str] | None
    expires: float


@dataclass(frozen=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires: int
    user_id: int
    scope: str


def _scopes(scopes: Iterable[str] | None) -> frozenset[str] | None:
    return None if scopes is None else frozenset(s.strip().lower() for s in scopes if s.strip())


class AuthRegistry:
    """Webhooks, apps and tokens of one portal. Token lifetimes run on the portal clock."""

    def __init__(self, now: Callable[[], float], member_id: str | None = None) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._webhooks: dict[str, Webhook] = {}
        self._apps: dict[str, App] = {}
        self._access: dict[str, _Token] = {}
        self._refresh: dict[str, _Token] = {}
        self.member_id = member_id or secrets.token_hex(16)

    # --- webhooks ---
    def add_webhook(self, user_id: int = 1, scopes: Iterable[str] | None = None) -> Webhook:
        hook = Webhook(user_id=user_id, code=secrets.token_hex(8), scopes=_scopes(scopes))
        with self._lock:
            self._webhooks[hook.code] = hook
        return hook

    def webhook_caller(self, user_id: str, code: str) -> Caller:
        with self._lock:
            hook = self._webhooks.get(code)
        if hook is None or str(hook.user_id) != user_id:
            raise WireError("INVALID_CREDENTIALS", 401)
        return Caller("webhook", hook.user_id, hook.scopes)

    # --- apps and tokens ---
    def add_app(self, scopes: Iterable[str] | None = None) -> App:
        app = App(
            client_id=f"local.{secrets.token_hex(7)}.{secrets.token_hex(4)}",
            client_secret=secrets.token_urlsafe(36),
            scopes=_scopes(scopes),
        )
        with self._lock:
            self._apps[app.client_id] = app
        return app

    def issue(
        self,
        client_id: str,
        user_id: int = 1,
        scopes: Iterable[str] | None = None,
        expires_in: float = ACCESS_TTL,
    ) -> TokenPair:
        """A fresh access/refresh pair for an app (scopes default to the app's)."""
        with self._lock:
            app = self._apps[client_id]
            granted = app.scopes if scopes is None else _scopes(scopes)
            return self._issue(app.client_id, user_id, granted, expires_in)

    def _issue(
        self, client_id: str, user_id: int, scopes: frozenset[str] | None, expires_in: float
    ) -> TokenPair:
        now = self._now()
        access, refresh = secrets.token_hex(32), secrets.token_hex(32)
        self._access[access] = _Token(client_id, user_id, scopes, now + expires_in)
        self._refresh[refresh] = _Token(client_id, user_id, scopes, now + REFRESH_TTL)
        scope = ",".join(sorted(scopes)) if scopes is not None else ",".join(ALL_SCOPES)
        return TokenPair(access, refresh, int(now + expires_in), user_id, scope)

    def token_caller(self, token: str) -> Caller:
        with self._lock:
            record = self._access.get(token)
        if record is None:
            raise WireError("invalid_token", 401)
        if self._now() >= record.expires:
            raise WireError("expired_token", 401)
        return Caller("oauth", record.user_id, record.scopes, record.client_id, token)

    def expire(self, token: str | None = None) -> None:
        """Expire one access token now, or all of them."""
        now = self._now()
        with self._lock:
            targets = [token] if token is not None else list(self._access)
            for key in targets:
                if key in self._access:
                    self._access[key].expires = now

    def refresh(self, params: dict[str, Any]) -> TokenPair:
        """grant_type=refresh_token. The used refresh token dies (rotation). Raises WireError."""
        grant = params.get("grant_type")
        client_id, secret = params.get("client_id"), params.get("client_secret")
        token = params.get("refresh_token")
        if not grant or not client_id or not secret:
            raise WireError("invalid_request", 400, "Missing grant_type, client_id or client_secret")
        if grant != "refresh_token":
            raise WireError("invalid_request", 400, "Unsupported grant_type")
        with self._lock:
            app = self._apps.get(str(client_id))
            if app is None or not secrets.compare_digest(app.client_secret, str(secret)):
                raise WireError("invalid_client", 401, "Invalid client_id or client_secret")
            record = self._refresh.get(str(token or ""))
            if record is None or record.client_id != app.client_id or self._now() >= record.expires:
                raise WireError("invalid_grant", 400, "Invalid refresh token")
            del self._refresh[str(token)]
            return self._issue(app.client_id, record.user_id, record.scopes, ACCESS_TTL)
