"""One road for every HTTP call to a portal: session, leaky bucket, operating-time pacing, retries,
error mapping. Credentials build the URL and body; ``PortalTransport.post`` does the rest."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, Literal

import requests
from requests.adapters import HTTPAdapter

from .config import Config, RateLimit, Timeout, check_rate_limit, check_time_scale, check_timeout
from .encoding import encode_scalar
from .error import (
    BitrixAPIError,
    BitrixAPIInternalServerError,
    BitrixAPIOperationTimeLimit,
    BitrixAPIQueryLimitExceeded,
    BitrixRequestError,
    BitrixRequestTimeout,
    BitrixResponse302JSONDecodeError,
    BitrixSDKException,
    BitrixValidationError,
    decode_error,
    error_from_body,
)
from .limits import LeakyBucket, OperatingBudgets
from .log import AbstractLogger
from .masking import mask
from .retry import backoff_delay, is_read, is_read_batch, normalize_method

# Statuses whose answer means "the server failed"; retried for reads only.
_SERVER_FAULTS = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class CallOptions:
    """Per-call (or per-client) overrides; None takes ``Config()``'s value at call time.

    ``rate_limit``: (bucket size, drain per portal second) or False for no limiter;
    ``operating_limit``: seconds per window or False for no pacing; ``time_scale``: portal seconds
    per real second (a sandbox's speed factor).
    """

    timeout: Timeout | None = None
    max_retries: int | None = None
    initial_retry_delay: float | None = None
    retry_delay_increment: float | None = None
    rate_limit: RateLimit | Literal[False] | None = None
    time_scale: float | None = None
    operating_limit: float | Literal[False] | None = None
    logger: AbstractLogger | None = None

    def __post_init__(self) -> None:
        check_timeout(self.timeout)
        check_time_scale(self.time_scale)
        if self.rate_limit is not False:
            check_rate_limit(self.rate_limit)
        for name in ("max_retries", "initial_retry_delay", "retry_delay_increment", "operating_limit"):
            value = getattr(self, name)
            if value is None or (name == "operating_limit" and value is False):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:  # NaN too
                raise BitrixValidationError(f"{name} must be non-negative, got {value!r}")
        if self.max_retries is not None and not isinstance(self.max_retries, int):
            raise BitrixValidationError(f"max_retries must be an int, got {self.max_retries!r}")

    def merged(self, override: CallOptions | None) -> CallOptions:
        """These options with every non-None value of ``override`` on top."""
        if override is None:
            return self
        changes = {f.name: getattr(override, f.name) for f in fields(override)}
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def resolve(self) -> Resolved:
        config = Config()
        timeout = self.timeout if self.timeout is not None else config.default_timeout
        return Resolved(
            timeout=timeout,
            max_retries=_pick(self.max_retries, config.default_max_retries),
            initial_retry_delay=_pick(self.initial_retry_delay, config.default_initial_retry_delay),
            retry_delay_increment=_pick(self.retry_delay_increment, config.default_retry_delay_increment),
            max_retry_delay=config.max_retry_delay,
            rate_limit=self.rate_limit if self.rate_limit is not None else config.rate_limit,
            rate_limit_margin=config.rate_limit_margin,
            time_scale=_pick(self.time_scale, config.time_scale),
            operating_limit=(
                self.operating_limit if self.operating_limit is not None else config.operating_limit
            ),
            operating_window=config.operating_window,
            operating_margin=config.operating_margin,
            logger=self.logger or config.logger,
        )


def _pick(value: Any, default: Any) -> Any:
    return default if value is None else value


@dataclass(frozen=True)
class Resolved:
    """CallOptions with every default filled in."""

    timeout: Timeout
    max_retries: int
    initial_retry_delay: float
    retry_delay_increment: float
    max_retry_delay: float
    rate_limit: RateLimit | Literal[False]
    rate_limit_margin: float
    time_scale: float
    operating_limit: float | Literal[False]
    operating_window: float
    operating_margin: float
    logger: AbstractLogger

    def backoff(self, attempt: int) -> float:
        """Real seconds to wait before retry number ``attempt + 1``."""
        delay = backoff_delay(
            attempt, self.initial_retry_delay, self.retry_delay_increment, self.max_retry_delay
        )
        return delay / self.time_scale


class _Retry(Exception):
    """Internal: ``error`` may be retried, after ``delay`` real seconds (None: the backoff)."""

    def __init__(self, error: BitrixSDKException, delay: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


_JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def encode_json(body: Mapping[str, Any]) -> bytes:
    """The JSON body of a call. Dates, Decimals, sets and enums are sent as ``encode_query`` sends
    them; anything else that JSON cannot hold is a BitrixValidationError, before anything is sent."""
    try:
        return json.dumps(dict(body), default=_json_default, ensure_ascii=False, allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        raise BitrixValidationError(f"params cannot be sent as JSON: {error}") from None


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return encode_scalar(value)


def batch_command_methods(body: Mapping[str, Any]) -> dict[str, str]:
    """{command key: method} for a batch body (``cmd`` as a map or a list of "method?query")."""
    cmd = body.get("cmd")
    items = cmd.items() if isinstance(cmd, Mapping) else enumerate(cmd) if isinstance(cmd, list) else []
    return {str(key): normalize_method(str(command).split("?", 1)[0]) for key, command in items}


class PortalTransport:
    """Everything shared by the threads talking to one portal: the HTTP session (connection reuse),
    the request-rate bucket and the per-method operating-time budgets."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=64, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers["User-Agent"] = "bitrix24_core/0.1"
        self.bucket = LeakyBucket()
        self.budgets = OperatingBudgets()
        self._stats_lock = threading.Lock()
        self._stats: dict[str, int] = {"requests": 0, "retries": 0}

    def stats(self) -> dict[str, int]:
        """HTTP requests sent and retries made through this transport (all threads)."""
        with self._stats_lock:
            return dict(self._stats)

    def _count(self, key: str) -> None:
        with self._stats_lock:
            self._stats[key] = self._stats.get(key, 0) + 1

    def __repr__(self) -> str:
        return f"PortalTransport({mask(self.base_url)!r})"

    def post(
        self, url: str, method: str, body: Mapping[str, Any], options: CallOptions | None = None
    ) -> dict[str, Any]:
        """POST ``body`` as JSON to ``url`` and return the decoded envelope, or raise the mapped error.

        Retries reads on transient faults; retries writes only when the server provably did not
        run them (rate refusals, connect errors). 302 is raised as BitrixResponse302JSONDecodeError
        for the credentials to follow."""
        opts = (options or CallOptions()).resolve()
        method = normalize_method(method)
        payload = encode_json(body)
        commands = batch_command_methods(body) if method == "batch" else {}
        methods = list(commands.values()) if commands else [method]  # one entry per command
        read = is_read_batch(commands.values()) if method == "batch" else is_read(method)
        attempt = 0
        while True:
            try:
                return self._attempt(url, method, payload, methods, commands, read, opts, attempt)
            except _Retry as retry:
                if attempt >= opts.max_retries:
                    opts.logger.error(f"{method}: giving up after {attempt + 1} attempts: {retry.error!r}")
                    raise retry.error from None
                delay = retry.delay if retry.delay is not None else opts.backoff(attempt)
                opts.logger.warning(
                    f"{method}: {type(retry.error).__name__} ({retry.error}); retry {attempt + 1}/"
                    f"{opts.max_retries} in {delay:.3f}s"
                )
                if delay > 0:
                    time.sleep(delay)
                self._count("retries")
                attempt += 1

    def _attempt(
        self,
        url: str,
        method: str,
        payload: bytes,
        methods: list[str],
        commands: dict[str, str],
        read: bool,
        opts: Resolved,
        attempt: int,
    ) -> dict[str, Any]:
        paced = opts.operating_limit is not False
        if paced:
            waited = self.budgets.admit(
                methods, float(opts.operating_limit), opts.operating_margin, opts.time_scale
            )
            if waited > 0:
                opts.logger.info(f"{method}: waited {waited:.3f}s for the operating-time window")
        try:
            if opts.rate_limit is not False:
                size, drain = opts.rate_limit
                self.bucket.acquire(size, drain, opts.rate_limit_margin, opts.time_scale)
            where = mask(url)  # masked here too: a user's own AbstractLogger may not mask
            opts.logger.debug(f"POST {where} method={method} attempt={attempt + 1} read={read}")
            started = time.monotonic()
            self._count("requests")
            try:
                response = self.session.post(
                    url, data=payload, headers=_JSON_HEADERS, timeout=opts.timeout, allow_redirects=False
                )
            except requests.RequestException as error:
                raise self._transport_error(error, method, read) from None
            opts.logger.debug(
                f"{method}: HTTP {response.status_code} in {time.monotonic() - started:.3f}s ({where})"
            )
            return self._decode(response, method, methods, commands, read, opts)
        finally:
            if paced:
                self.budgets.release(methods)

    def _transport_error(self, error: requests.RequestException, method: str, read: bool) -> Exception:
        unsent = never_sent(error)
        cls = BitrixRequestTimeout if isinstance(error, requests.Timeout) else BitrixRequestError
        kind = "connect" if unsent else "request"
        unknown = not (read or unsent)
        note = "; the write may have run on the server, not retried" if unknown else ""
        exc = cls(
            f"{method}: {kind} failed: {type(error).__name__}: {error}{note}",
            original_error=error,
            outcome_unknown=unknown,
        )
        return _Retry(exc) if (read or unsent) else exc

    def _decode(
        self,
        response: requests.Response,
        method: str,
        methods: list[str],
        commands: dict[str, str],
        read: bool,
        opts: Resolved,
    ) -> dict[str, Any]:
        status = response.status_code
        if status in (301, 302, 307, 308):
            raise decode_error(response, method)
        try:
            body = response.json()
        except ValueError:
            error = decode_error(response, method)
            raise self._fault(error, status, read) from None
        timing = body.get("time") if isinstance(body, dict) else None
        if isinstance(timing, Mapping) and method != "batch":
            self.budgets.observe(method, timing)
        failure = error_from_body(body, response, context=method)
        if failure is None:
            if not isinstance(body, dict):
                raise decode_error(response, method, "answer is not a JSON object")
            if "result" not in body:  # every Bitrix success envelope has one; None here would read as data
                raise decode_error(response, method, "answer has neither 'result' nor 'error'")
            if method == "batch":
                self._observe_batch(body, commands, opts)
            return body
        raise self._classify(failure, method, methods, timing, read, opts)

    def _fault(self, error: BitrixSDKException, status: int, read: bool) -> Exception:
        """A server fault: retried for reads; for writes raised, flagged as outcome unknown."""
        if status not in _SERVER_FAULTS:
            return error
        if read:
            return _Retry(error)
        error.outcome_unknown = True
        return error

    def _classify(
        self,
        error: BitrixAPIError,
        method: str,
        methods: list[str],
        timing: Any,
        read: bool,
        opts: Resolved,
    ) -> Exception:
        if isinstance(error, BitrixAPIQueryLimitExceeded):
            if opts.rate_limit is not False:
                self.bucket.saturate(opts.rate_limit[0], opts.rate_limit[1], opts.time_scale)
            return _Retry(error)  # refused before execution
        if isinstance(error, BitrixAPIOperationTimeLimit):
            return _Retry(error, self._hold(methods, timing, opts))  # refused before execution
        if isinstance(error, BitrixAPIInternalServerError) or error.status_code in _SERVER_FAULTS:
            if error.status_code == 503 and not isinstance(error, BitrixAPIInternalServerError):
                return error  # OVERLOAD_LIMIT and other deliberate 503s: retrying will not help
            return self._fault(error, error.status_code or 500, read)
        return error

    def _hold(self, methods: list[str], timing: Any, opts: Resolved) -> float:
        """After a 429: real seconds to wait before retrying (0 when the pacing will do the wait)."""
        limit = float(opts.operating_limit) if opts.operating_limit is not False else 0.0
        # No reset time known: the window drops its oldest one-minute bucket within a tenth of it.
        fallback = opts.operating_window / 10
        until = self.budgets.until_reset(methods, opts.time_scale)
        for name in methods:
            self.budgets.blocked(name, limit, timing, fallback, opts.time_scale)
        if opts.operating_limit is not False:
            return 0.0
        return (until if until else fallback / opts.time_scale) + 0.001

    def _observe_batch(self, body: Mapping[str, Any], commands: dict[str, str], opts: Resolved) -> None:
        """Charge each batch command's time to its own method; a command refused with
        OPERATION_TIME_LIMIT holds its method as a top-level 429 would."""
        result = body.get("result")
        if not isinstance(result, Mapping):
            return
        for key, timing in _keyed(result.get("result_time")):
            name = commands.get(key)
            if name and isinstance(timing, Mapping):
                self.budgets.observe(name, timing)
        for key, error in _keyed(result.get("result_error")):
            name = commands.get(key)
            code = str(error.get("error", "")).upper() if isinstance(error, Mapping) else ""
            if name and code == "OPERATION_TIME_LIMIT" and opts.operating_limit is not False:
                self._hold([name], None, opts)


def _keyed(section: Any) -> list[tuple[str, Any]]:
    """A batch result section (a map, or a list when the commands were a list) as (key, value) pairs."""
    if isinstance(section, Mapping):
        return [(str(key), value) for key, value in section.items()]
    if isinstance(section, list):
        return [(str(index), value) for index, value in enumerate(section)]
    return []


def never_sent(error: BaseException) -> bool:
    """True when the failure happened before the request reached the server (connect phase)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    pending: list[Any] = [error]
    while pending:
        item = pending.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        name = type(item).__name__
        if name in ("NewConnectionError", "ConnectTimeoutError", "NameResolutionError"):
            return True
        if isinstance(item, BaseException):
            pending.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    return False


_transports: dict[str, PortalTransport] = {}
_transports_lock = threading.Lock()


def transport_for(base_url: str) -> PortalTransport:
    """The one transport of a portal in this process (same session, bucket and budgets everywhere)."""
    key = base_url.rstrip("/").lower()
    with _transports_lock:
        transport = _transports.get(key)
        if transport is None:
            transport = _transports[key] = PortalTransport(base_url.rstrip("/"))
        return transport


def move_transport(old_base_url: str, new_base_url: str) -> None:
    """The portal moved: its new address shares the old one's bucket and budgets (same portal)."""
    old_key, new_key = old_base_url.rstrip("/").lower(), new_base_url.rstrip("/").lower()
    with _transports_lock:
        if old_key in _transports and new_key not in _transports:
            _transports[new_key] = _transports[old_key]


__all__ = [
    "BitrixResponse302JSONDecodeError",
    "CallOptions",
    "PortalTransport",
    "Resolved",
    "batch_command_methods",
    "encode_json",
    "move_transport",
    "never_sent",
    "transport_for",
]
