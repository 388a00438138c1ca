"""From settings to bitrix24_core credentials and call options; OAuth refresh tokens kept in a file.

Bitrix24 rotates the refresh token on every renewal (the old one dies), so with `refresh_token_file`
the tap reads the newest token from the file and writes each new one back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from bitrix24_core import BitrixToken, BitrixWebhook, CallOptions
from bitrix24_core import settings as portal_settings
from bitrix24_core.error import BitrixValidationError
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
        token = portal_settings.oauth_token(config, options, CountingToken)
        on_send()
        token.on_send = on_send  # type: ignore[method-assign]
        if not config.get("refresh_token_file"):
            LOGGER.warning(
                "Bitrix24 rotated the OAuth refresh token: the configured refresh_token is used up. "
                "Set refresh_token_file so the tap keeps the new one for the next run."
            )
        return token


def auth_of(config: Mapping[str, Any]) -> Auth:
    if config.get("webhook_url"):
        url = str(config["webhook_url"])
        return Auth(True, url.split("://", 1)[-1].split("/", 1)[0])
    missing = portal_settings.missing_oauth_settings(config)
    if missing and not (config.get("refresh_token_file") and missing == ["refresh_token"]):
        raise SettingError(
            "No credentials: set webhook_url, or domain, client_id, client_secret and refresh_token "
            f"(missing: {', '.join(missing)})."
        )
    return Auth(False, str(config["domain"]))


def call_options(config: Mapping[str, Any]) -> CallOptions:
    try:
        return portal_settings.call_options(config)
    except BitrixValidationError as exc:
        raise SettingError(str(exc)) from None


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
