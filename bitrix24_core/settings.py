"""From a flat settings mapping (a Singer tap's or target's config) to call options and credentials.

The names are the ones the tap and the target share: ``webhook_url``; or ``domain``, ``client_id``,
``client_secret``, ``refresh_token`` (``refresh_token_file``), ``oauth_server``; and ``plan``,
``rate_limit_bucket``, ``rate_limit_drain``, ``request_timeout``, ``time_scale``. Bad values raise
``BitrixValidationError`` with one sentence naming the setting.

Bitrix24 rotates the refresh token on every renewal (the old one dies), so with ``refresh_token_file``
the newest token is read from the file and each new one is written back (mode 0600).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from .config import PLANS
from .credentials import BitrixApp, BitrixToken
from .error import BitrixValidationError
from .events import OAuthTokenRenewedEvent
from .transport import CallOptions

OAUTH_SETTINGS = ("domain", "client_id", "client_secret", "refresh_token")
TokenT = TypeVar("TokenT", bound=BitrixToken)


def call_options(settings: Mapping[str, Any]) -> CallOptions:
    """Timeout (connect 10 s, read ``request_timeout``), rate limit (``plan`` or explicit bucket and
    drain) and ``time_scale``."""
    bucket, drain = settings.get("rate_limit_bucket"), settings.get("rate_limit_drain")
    if (bucket is None) != (drain is None):
        raise BitrixValidationError("Give both rate_limit_bucket and rate_limit_drain, or neither.")
    plan = str(settings.get("plan") or "standard").lower()
    if plan not in PLANS:
        raise BitrixValidationError(f"Unknown plan {plan!r}: set plan to one of {', '.join(sorted(PLANS))}.")
    rate = (float(bucket), float(drain)) if bucket is not None and drain is not None else PLANS[plan]
    return CallOptions(
        timeout=(10.0, float(settings.get("request_timeout") or 70)),
        rate_limit=rate,
        time_scale=float(settings.get("time_scale") or 1),
    )


def missing_oauth_settings(settings: Mapping[str, Any]) -> list[str]:
    """The OAuth settings that are not given (empty counts as not given)."""
    return [name for name in OAUTH_SETTINGS if not settings.get(name)]


def oauth_token(
    settings: Mapping[str, Any], options: CallOptions | None, token_class: type[TokenT]
) -> TokenT:
    """Renew the access token now (one request to the OAuth server) and build the credentials.

    The refresh token comes from ``refresh_token_file`` when that file holds one, else from
    ``refresh_token``; with a file, the renewed token and every later one are written to it.
    """
    app = BitrixApp(str(settings["client_id"]), str(settings["client_secret"]), settings.get("oauth_server"))
    token_file = settings.get("refresh_token_file")
    renewed = app.refresh(read_token_file(token_file) or str(settings["refresh_token"]), options)
    token = token_class(
        str(settings["domain"]), renewed.access_token, renewed.refresh_token, renewed.expires, app
    )
    if token_file:
        write_token_file(token_file, renewed.refresh_token)
        token.oauth_token_renewed_signal.connect(lambda event: _save_renewed(token_file, event))
    return token


def read_token_file(path: Any) -> str | None:
    if path and Path(str(path)).exists():
        return Path(str(path)).read_text().strip() or None
    return None


def write_token_file(path: Any, token: str | None) -> None:
    """Replace the file atomically, readable by its owner only (it is a secret)."""
    if not token:
        return
    target = Path(str(path))
    tmp = target.with_suffix(".tmp")
    tmp.write_text(token)
    os.chmod(tmp, 0o600)
    tmp.replace(target)


def _save_renewed(path: Any, event: OAuthTokenRenewedEvent) -> None:
    write_token_file(path, event.renewed_oauth_token.refresh_token)


__all__ = [
    "OAUTH_SETTINGS",
    "call_options",
    "missing_oauth_settings",
    "oauth_token",
    "read_token_file",
    "write_token_file",
]
