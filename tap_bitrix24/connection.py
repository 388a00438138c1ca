"""From settings to bitrix24_core credentials and call options; OAuth refresh tokens kept in a file.

Bitrix24 rotates the refresh token on every renewal (the old one dies), so with `refresh_token_file`
the tap reads the newest token from the file and writes each new one back.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bitrix24_core import BitrixApp, BitrixToken, BitrixWebhook, CallOptions
from bitrix24_core.config import PLANS
from bitrix24_core.events import OAuthTokenRenewedEvent
from bitrix24_core.transport import PortalTransport

from .errors import Auth, SettingError, reporting

LOGGER = logging.getLogger("tap-bitrix24")


def connect(
    config: Mapping[str, Any], auth: Auth, options: CallOptions, on_send: Callable[[], None]
) -> CountingWebhook | CountingToken:
    """Credentials for the settings; OAuth renews the access token now (one counted request)."""
    with reporting(auth, "connecting"):
        if config.get("webhook_url"):
            hook = CountingWebhook(str(config["webhook_url"]))
            hook.on_send = on_send  # type: ignore[method-assign]
            return hook
        app = BitrixApp(str(config["client_id"]), str(config["client_secret"]), config.get("oauth_server"))
        token_file = config.get("refresh_token_file")
        renewed = app.refresh(_read_token_file(token_file) or str(config["refresh_token"]), options)
        on_send()
        token = CountingToken(
            str(config["domain"]), renewed.access_token, renewed.refresh_token, renewed.expires, app
        )
        token.on_send = on_send  # type: ignore[method-assign]
        if not token_file:
            LOGGER.warning(
                "Bitrix24 rotated the OAuth refresh token: the configured refresh_token is used up. "
                "Set refresh_token_file so the tap keeps the new one for the next run."
            )
            return token
        _write_token_file(token_file, renewed.refresh_token)
        token.oauth_token_renewed_signal.connect(lambda event: _save_renewed(token_file, event))
        return token


def auth_of(config: Mapping[str, Any]) -> Auth:
    if config.get("webhook_url"):
        url = str(config["webhook_url"])
        return Auth(True, url.split("://", 1)[-1].split("/", 1)[0])
    missing = [k for k in ("domain", "client_id", "client_secret", "refresh_token") if not config.get(k)]
    if missing and not (config.get("refresh_token_file") and missing == ["refresh_token"]):
        raise SettingError(
            "No credentials: set webhook_url, or domain, client_id, client_secret and refresh_token "
            f"(missing: {', '.join(missing)})."
        )
    return Auth(False, str(config["domain"]))


def call_options(config: Mapping[str, Any]) -> CallOptions:
    bucket, drain = config.get("rate_limit_bucket"), config.get("rate_limit_drain")
    if (bucket is None) != (drain is None):
        raise SettingError("Give both rate_limit_bucket and rate_limit_drain, or neither.")
    plan = str(config.get("plan") or "standard").lower()
    if plan not in PLANS:
        raise SettingError(f"Unknown plan {plan!r}: set plan to one of {', '.join(sorted(PLANS))}.")
    rate = (float(bucket), float(drain)) if bucket is not None and drain is not None else PLANS[plan]
    return CallOptions(
        timeout=(10.0, float(config.get("request_timeout") or 70)),
        rate_limit=rate,
        time_scale=float(config.get("time_scale") or 1),
    )


class CountingWebhook(BitrixWebhook):
    """A webhook that counts the HTTP calls it sends, for the per-stream progress log."""

    on_send: Callable[[], None] = staticmethod(lambda: None)

    def _send(
        self, transport: PortalTransport, method: str, body: dict[str, Any], options: CallOptions | None
    ) -> dict[str, Any]:
        self.on_send()
        return super()._send(transport, method, body, options)


class CountingToken(BitrixToken):
    """An OAuth token that counts the HTTP calls it sends."""

    on_send: Callable[[], None] = staticmethod(lambda: None)

    def _send(
        self, transport: PortalTransport, method: str, body: dict[str, Any], options: CallOptions | None
    ) -> dict[str, Any]:
        self.on_send()
        return super()._send(transport, method, body, options)


def _read_token_file(path: Any) -> str | None:
    if path and Path(str(path)).exists():
        return Path(str(path)).read_text().strip() or None
    return None


def _write_token_file(path: Any, token: str | None) -> None:
    if not token:
        return
    target = Path(str(path))
    tmp = target.with_suffix(".tmp")
    tmp.write_text(token)
    os.chmod(tmp, 0o600)
    tmp.replace(target)


def _save_renewed(path: Any, event: OAuthTokenRenewedEvent) -> None:
    _write_token_file(path, event.renewed_oauth_token.refresh_token)
