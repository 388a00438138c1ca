"""The SDK's exception hierarchy (the seed's tree, names and parents kept) and the response mapping.

API errors are found by their ``error`` code (case-insensitive), then by HTTP status. Every message is
masked: webhook codes, tokens and client secrets never appear in ``str()`` or ``repr()``.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from .masking import mask

# --- HTTP status mixins -------------------------------------------------------------------------


class _HTTPResponse:
    """Mixin: the HTTP status this kind of error stands for (``status_code`` holds the real one)."""

    STATUS_CODE: ClassVar[int | None] = None


class _HTTPResponseOK(_HTTPResponse):
    STATUS_CODE = 200


class _HTTPResponseFound(_HTTPResponse):
    STATUS_CODE = 302


class _HTTPResponseBadRequest(_HTTPResponse):
    STATUS_CODE = 400


class _HTTPResponseUnauthorized(_HTTPResponse):
    STATUS_CODE = 401


class _HTTPResponseForbidden(_HTTPResponse):
    STATUS_CODE = 403


class _HTTPResponseNotFound(_HTTPResponse):
    STATUS_CODE = 404


class _HTTPResponseMethodNotAllowed(_HTTPResponse):
    STATUS_CODE = 405


class _HTTPResponseGone(_HTTPResponse):
    STATUS_CODE = 410


class _HTTPResponseTooManyRequests(_HTTPResponse):
    STATUS_CODE = 429


class _HTTPResponseInternalError(_HTTPResponse):
    STATUS_CODE = 500


class _HTTPResponseServiceUnavailable(_HTTPResponse):
    STATUS_CODE = 503


# --- base classes -------------------------------------------------------------------------------


class BitrixSDKException(Exception):
    """Root of every SDK error.

    ``error`` / ``error_description``: the server's code and text (None when there was no answer);
    ``status_code``: the HTTP status; ``response``: the ``requests.Response`` or None;
    ``outcome_unknown``: True when a write was sent and the server may have run it (not retried).
    """

    def __init__(
        self,
        message: str = "",
        *,
        error: str | None = None,
        error_description: str | None = None,
        status_code: int | None = None,
        response: requests.Response | None = None,
        original_error: BaseException | None = None,
        outcome_unknown: bool = False,
    ) -> None:
        self.message = mask(message or error_description or error or type(self).__name__)
        super().__init__(self.message)
        self.error = error
        self.error_description = mask(error_description) if error_description is not None else None
        self.status_code = status_code
        self.response = response
        self.original_error = original_error
        self.outcome_unknown = outcome_unknown

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, status_code={self.status_code!r})"


class BitrixValidationError(BitrixSDKException, ValueError):
    """Bad arguments, found before anything was sent."""


class BitrixOAuthException(BitrixSDKException):
    """Errors of the OAuth token endpoint."""


class BitrixRequestError(BitrixSDKException):
    """The HTTP exchange failed: no usable answer (connection refused or dropped, bad body)."""


class BitrixOAuthRequestError(BitrixRequestError):
    """The OAuth token endpoint could not be reached or dropped the connection."""


class BitrixRequestTimeout(BitrixRequestError):
    """Connect or read timeout."""


class BitrixOAuthRequestTimeout(BitrixRequestTimeout):
    """Timeout talking to the OAuth token endpoint."""


class BitrixResponseJSONDecodeError(BitrixRequestError, _HTTPResponse):
    """The server answered something that is not JSON (an HTML error page, an empty body)."""


class BitrixResponse302JSONDecodeError(BitrixResponseJSONDecodeError, _HTTPResponseFound):
    """A 302 that could not be followed (no Location, or a loop)."""

    @property
    def redirect_url(self) -> str | None:
        return self.response.headers.get("Location") if self.response is not None else None

    @property
    def new_domain(self) -> str | None:
        url = self.redirect_url
        return urlsplit(url).netloc or None if url else None


class BitrixResponse500JSONDecodeError(BitrixResponseJSONDecodeError, _HTTPResponseInternalError):
    """A 500 with an HTML (non-JSON) body."""


class BitrixAPIError(BitrixSDKException, _HTTPResponse):
    """The portal answered with an error envelope."""


# --- 400 ----------------------------------------------------------------------------------------


class BitrixAPIBadRequest(BitrixAPIError, _HTTPResponseBadRequest):
    pass


class BitrixAPIErrorBatchLengthExceeded(BitrixAPIBadRequest):
    pass


class BitrixAPIInvalidArgValue(BitrixAPIBadRequest):
    pass


class BitrixAPIInvalidRequest(BitrixAPIBadRequest):
    pass


class BitrixOAuthInvalidRequest(BitrixAPIInvalidRequest, BitrixOAuthException):
    pass


class BitrixOAuthInvalidClient(BitrixAPIBadRequest, BitrixOAuthException):
    pass


class BitrixOAuthInvalidGrant(BitrixAPIBadRequest, BitrixOAuthException):
    """The refresh token is unknown or already used (they rotate on every refresh)."""


# --- 401 ----------------------------------------------------------------------------------------


class BitrixAPIUnauthorized(BitrixAPIError, _HTTPResponseUnauthorized):
    pass


class BitrixAPIExpiredToken(BitrixAPIUnauthorized):
    pass


class BitrixAPINoAuthFound(BitrixAPIUnauthorized):
    pass


class BitrixAPIErrorOAuth(BitrixAPIUnauthorized):
    pass


class BitrixAPIMethodConfirmWaiting(BitrixAPIUnauthorized):
    pass


class BitrixAPIInvalidToken(BitrixAPIUnauthorized):
    """Not in the seed's tree: ``invalid_token`` (the access token is unknown)."""


# --- 403 ----------------------------------------------------------------------------------------


class BitrixAPIForbidden(BitrixAPIError, _HTTPResponseForbidden):
    pass


class BitrixAPIAccessDenied(BitrixAPIForbidden):
    pass


class BitrixAPIAllowedOnlyIntranetUser(BitrixAPIForbidden):
    pass


class BitrixAPIInsufficientScope(BitrixAPIForbidden):
    pass


class BitrixOAuthInvalidScope(BitrixAPIForbidden, BitrixOAuthException):
    pass


class BitrixOAuthInsufficientScope(BitrixAPIForbidden, BitrixOAuthException):
    pass


class BitrixAPIInvalidCredentials(BitrixAPIForbidden):
    """Wrong webhook code (the server answers 401, the docs say 403)."""


class BitrixAPIUserAccessError(BitrixAPIForbidden):
    pass


class BitrixAPIMethodConfirmDenied(BitrixAPIForbidden):
    pass


class BitrixAPIWrongAuthType(BitrixAPIForbidden):
    """Not in the seed's tree: ``WRONG_AUTH_TYPE``."""


# --- 404, 405, 410, 429 -------------------------------------------------------------------------


class BitrixAPINotFound(BitrixAPIError, _HTTPResponseNotFound):
    pass


class BitrixAPIErrorManifestIsNotAvailable(BitrixAPINotFound):
    pass


class BitrixAPIMethodNotFound(BitrixAPINotFound):
    """Not in the seed's tree: ``ERROR_METHOD_NOT_FOUND``."""


class BitrixAPIMethodNotAllowed(BitrixAPIError, _HTTPResponseMethodNotAllowed):
    pass


class BitrixAPIErrorBatchMethodNotAllowed(BitrixAPIMethodNotAllowed):
    pass


class BitrixAPIGone(BitrixAPIError, _HTTPResponseGone):
    """Not in the seed's tree."""


class BitrixAPIPortalDeleted(BitrixAPIGone):
    """Not in the seed's tree: ``PORTAL_DELETED``."""


class BitrixAPITooManyRequests(BitrixAPIError, _HTTPResponseTooManyRequests):
    """Not in the seed's tree: HTTP 429."""


class BitrixAPIOperationTimeLimit(BitrixAPITooManyRequests):
    """Not in the seed's tree: ``OPERATION_TIME_LIMIT``, the method's operating-time budget is spent."""


# --- 500, 503, OAuth 200 ------------------------------------------------------------------------


class BitrixAPIInternalServerError(BitrixAPIError, _HTTPResponseInternalError):
    pass


class BitrixAPIErrorUnexpectedAnswer(BitrixAPIInternalServerError):
    pass


class BitrixAPIServiceUnavailable(BitrixAPIError, _HTTPResponseServiceUnavailable):
    pass


class BitrixAPIOverloadLimit(BitrixAPIServiceUnavailable):
    pass


class BitrixAPIQueryLimitExceeded(BitrixAPIServiceUnavailable):
    pass


class BitrixOauthWrongClient(BitrixAPIError, BitrixOAuthException, _HTTPResponseOK):
    """The OAuth server answered 200 with ``wrong_client``."""


# --- mapping ------------------------------------------------------------------------------------

API_ERRORS_BY_CODE: dict[str, type[BitrixAPIError]] = {
    "internal_server_error": BitrixAPIInternalServerError,
    "error_unexpected_answer": BitrixAPIErrorUnexpectedAnswer,
    "query_limit_exceeded": BitrixAPIQueryLimitExceeded,
    "overload_limit": BitrixAPIOverloadLimit,
    "operation_time_limit": BitrixAPIOperationTimeLimit,
    "error_batch_method_not_allowed": BitrixAPIErrorBatchMethodNotAllowed,
    "error_batch_length_exceeded": BitrixAPIErrorBatchLengthExceeded,
    "no_auth_found": BitrixAPINoAuthFound,
    "expired_token": BitrixAPIExpiredToken,
    "invalid_token": BitrixAPIInvalidToken,
    "error_oauth": BitrixAPIErrorOAuth,
    "method_confirm_waiting": BitrixAPIMethodConfirmWaiting,
    "invalid_credentials": BitrixAPIInvalidCredentials,
    "insufficient_scope": BitrixAPIInsufficientScope,
    "access_denied": BitrixAPIAccessDenied,
    "user_access_error": BitrixAPIUserAccessError,
    "allowed_only_intranet_user": BitrixAPIAllowedOnlyIntranetUser,
    "method_confirm_denied": BitrixAPIMethodConfirmDenied,
    "wrong_auth_type": BitrixAPIWrongAuthType,
    "error_method_not_found": BitrixAPIMethodNotFound,
    "error_manifest_is_not_available": BitrixAPIErrorManifestIsNotAvailable,
    "invalid_request": BitrixAPIInvalidRequest,
    "invalid_arg_value": BitrixAPIInvalidArgValue,
    "portal_deleted": BitrixAPIPortalDeleted,
}

OAUTH_ERRORS_BY_CODE: dict[str, type[BitrixAPIError]] = {
    "invalid_request": BitrixOAuthInvalidRequest,
    "invalid_client": BitrixOAuthInvalidClient,
    "invalid_grant": BitrixOAuthInvalidGrant,
    "invalid_scope": BitrixOAuthInvalidScope,
    "insufficient_scope": BitrixOAuthInsufficientScope,
    "wrong_client": BitrixOauthWrongClient,
}

API_ERRORS_BY_STATUS: dict[int, type[BitrixAPIError]] = {
    400: BitrixAPIBadRequest,
    401: BitrixAPIUnauthorized,
    403: BitrixAPIForbidden,
    404: BitrixAPINotFound,
    405: BitrixAPIMethodNotAllowed,
    410: BitrixAPIGone,
    429: BitrixAPITooManyRequests,
    500: BitrixAPIInternalServerError,
    503: BitrixAPIServiceUnavailable,
}


def api_error_class(code: str | None, status: int, *, oauth: bool = False) -> type[BitrixAPIError]:
    """The class for an error envelope: by code (case-insensitive), then by HTTP status."""
    key = (code or "").strip().lower()
    if oauth and key in OAUTH_ERRORS_BY_CODE:
        return OAUTH_ERRORS_BY_CODE[key]
    if key in API_ERRORS_BY_CODE:
        return API_ERRORS_BY_CODE[key]
    return API_ERRORS_BY_STATUS.get(status, BitrixAPIError)


def api_error(
    code: str | None,
    description: str | None,
    status: int,
    response: requests.Response | None = None,
    *,
    oauth: bool = False,
    context: str = "",
) -> BitrixAPIError:
    """Build the error for one error envelope (also used for a failed command inside a batch)."""
    cls = api_error_class(code, status, oauth=oauth)
    where = f" ({context})" if context else ""
    message = f"{code or '<empty code>'}: {description or ''}{where} [HTTP {status}]"
    return cls(message, error=code, error_description=description, status_code=status, response=response)


def decode_error(
    response: requests.Response, context: str = "", problem: str = "answer is not JSON"
) -> BitrixResponseJSONDecodeError:
    """The error for an answer whose body is not JSON (or not an envelope), by status."""
    status = response.status_code
    cls: type[BitrixResponseJSONDecodeError] = BitrixResponseJSONDecodeError
    if status in (301, 302, 303, 307, 308):
        cls = BitrixResponse302JSONDecodeError
    elif status == 500:
        cls = BitrixResponse500JSONDecodeError
    snippet = " ".join(response.text[:120].split())
    where = f" ({context})" if context else ""
    message = f"HTTP {status}: {problem}{where}: {snippet!r}"
    return cls(message, status_code=status, response=response)


def error_from_body(
    body: Any, response: requests.Response, *, oauth: bool = False, context: str = ""
) -> BitrixAPIError | None:
    """The error an envelope stands for, or None for a success."""
    status = response.status_code
    is_error = isinstance(body, dict) and "error" in body and "result" not in body
    if not is_error and status < 400:
        return None
    code = body.get("error") if isinstance(body, dict) else None
    description = body.get("error_description") if isinstance(body, dict) else None
    return api_error(
        str(code) if code is not None else None,
        str(description) if description is not None else None,
        status,
        response,
        oauth=oauth,
        context=context,
    )
