"""Errors the tap reports in one sentence that names the setting to fix (never a secret)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from bitrix24_core.error import (
    BitrixAPIAccessDenied,
    BitrixAPIError,
    BitrixAPIInsufficientScope,
    BitrixAPIInvalidCredentials,
    BitrixAPIInvalidToken,
    BitrixAPIMethodNotFound,
    BitrixAPINoAuthFound,
    BitrixOAuthException,
    BitrixOAuthInvalidClient,
    BitrixOAuthInvalidGrant,
    BitrixRequestError,
    BitrixRequestTimeout,
    BitrixResponseJSONDecodeError,
    BitrixValidationError,
)


class SettingError(Exception):
    """The portal refused or could not be reached because of a setting; the text says which."""


class Auth:
    """How the tap authenticates, for messages: 'webhook_url' or the OAuth settings."""

    def __init__(self, webhook: bool, domain: str) -> None:
        self.webhook = webhook
        self.domain = domain

    @property
    def address_setting(self) -> str:
        return "webhook_url" if self.webhook else "domain"

    @property
    def secret_setting(self) -> str:
        return "webhook_url (its code)" if self.webhook else "refresh_token"


def explain(error: Exception, auth: Auth, what: str, scope: str = "") -> SettingError | None:
    """One sentence for errors caused by settings; None for other errors (they propagate as they are)."""
    where = auth.domain
    if isinstance(error, BitrixValidationError):
        return SettingError(f"The connection settings are invalid ({error}): fix {auth.address_setting}.")
    if isinstance(error, BitrixRequestTimeout):
        return SettingError(
            f"The portal {where} did not answer in time while {what}: check {auth.address_setting} "
            "or raise request_timeout."
        )
    if isinstance(error, BitrixResponseJSONDecodeError):
        return SettingError(
            f"The address {where} does not answer like a Bitrix24 portal while {what}: "
            f"fix {auth.address_setting}."
        )
    if isinstance(error, BitrixRequestError):
        return SettingError(f"Cannot reach the portal {where} while {what}: fix {auth.address_setting}.")
    if isinstance(error, BitrixOAuthInvalidClient):
        return SettingError("The OAuth server rejected the application: fix client_id and client_secret.")
    if isinstance(error, BitrixOAuthInvalidGrant):
        return SettingError(
            "The OAuth server rejected the refresh token (expired or used): set refresh_token."
        )
    if isinstance(error, BitrixOAuthException):
        return SettingError(f"OAuth failed ({error.error}): check client_id, client_secret and oauth_server.")
    if isinstance(error, BitrixAPIInsufficientScope):
        holder = "webhook (webhook_url)" if auth.webhook else "application (client_id)"
        needed = f"the {scope} scope" if scope else "the scope"
        return SettingError(
            f"The {holder} lacks {needed} needed for {what}: "
            f"add {needed} to it in Bitrix24, or deselect that stream."
        )
    if isinstance(error, (BitrixAPIInvalidCredentials, BitrixAPINoAuthFound, BitrixAPIInvalidToken)):
        return SettingError(f"The portal {where} rejected the credentials: fix {auth.secret_setting}.")
    if isinstance(error, BitrixAPIAccessDenied):
        return SettingError(
            f"The portal {where} denied access while {what} (REST needs a commercial plan and a user "
            f"with rights): check {auth.address_setting}."
        )
    if isinstance(error, BitrixAPIMethodNotFound) and auth.webhook:
        return SettingError(
            f"The portal {where} does not know the method used for {what}: "
            "webhook_url must look like https://<portal>/rest/<user id>/<code>/."
        )
    return None


@contextmanager
def reporting(auth: Auth, what: str, scope: str = "") -> Iterator[None]:
    """Turn setting-caused core errors into SettingError; anything else propagates unchanged."""
    try:
        yield
    except (BitrixAPIError, BitrixRequestError, BitrixValidationError, BitrixOAuthException) as error:
        explained = explain(error, auth, what, scope)
        if explained is None:
            raise
        raise explained from None
