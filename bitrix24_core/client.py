"""``Client``: the SDK's entry point. Scopes (``client.crm.deal.list(...)``) come from the entities
table; ``client.call("any.method", params)`` reaches every other method; batches go through
``call_batch`` / ``call_batches``. The client's keyword overrides travel with every request as
``CallOptions`` (so they reach worker threads too: nothing is thread-local)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from .batch import BitrixAPIBatchesRequest, BitrixAPIBatchRequest, Methods
from .config import PLANS, RateLimit, Timeout
from .credentials import AbstractCredentials, check_method
from .error import BitrixValidationError
from .log import AbstractLogger
from .requests import BitrixAPIRequest
from .scopes import Scope
from .transport import CallOptions


class Client:
    """``Client(BitrixWebhook(url))`` or ``Client(BitrixToken(...), timeout=30, time_scale=1000)``.

    ``plan``: "standard" (bucket 50, drain 2/s) or "enterprise" (250, 5/s), a preset for
    ``rate_limit``; ``time_scale``: the sandbox's speed factor (portal seconds per real second).
    """

    def __init__(
        self,
        bitrix_token: AbstractCredentials,
        *,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        initial_retry_delay: float | None = None,
        retry_delay_increment: float | None = None,
        rate_limit: RateLimit | Literal[False] | None = None,
        plan: str | None = None,
        time_scale: float | None = None,
        operating_limit: float | Literal[False] | None = None,
        logger: AbstractLogger | None = None,
    ) -> None:
        if not isinstance(bitrix_token, AbstractCredentials):
            raise BitrixValidationError(
                f"Client needs credentials (BitrixWebhook or BitrixToken), got {type(bitrix_token).__name__}"
            )
        if plan is not None:
            if plan.lower() not in PLANS:
                raise BitrixValidationError(f"unknown plan {plan!r}; expected one of {sorted(PLANS)}")
            if rate_limit is None:
                rate_limit = PLANS[plan.lower()]
        self._credentials = bitrix_token
        self._options = CallOptions(
            timeout=timeout,
            max_retries=max_retries,
            initial_retry_delay=initial_retry_delay,
            retry_delay_increment=retry_delay_increment,
            rate_limit=rate_limit,
            time_scale=time_scale,
            operating_limit=operating_limit,
            logger=logger,
        )

    @property
    def credentials(self) -> AbstractCredentials:
        return self._credentials

    @property
    def options(self) -> CallOptions:
        return self._options

    # --- scopes (the tree under each comes from entities.py) ---
    @property
    def crm(self) -> Any:
        return Scope(self, "crm")

    @property
    def user(self) -> Any:
        return Scope(self, "user")

    @property
    def department(self) -> Any:
        return Scope(self, "department")

    @property
    def socialnetwork(self) -> Any:
        return Scope(self, "socialnetwork")

    @property
    def app(self) -> Any:
        return Scope(self, "app")

    @property
    def access(self) -> Any:
        return Scope(self, "access")

    @property
    def feature(self) -> Any:
        return Scope(self, "feature")

    @property
    def method(self) -> Any:
        return Scope(self, "method")

    @property
    def profile(self) -> Any:
        return Scope(self, "profile")

    @property
    def scope(self) -> Any:
        return Scope(self, "scope")

    @property
    def server(self) -> Any:
        return Scope(self, "server")

    # --- any method, batches ---
    def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, timeout: Timeout | None = None
    ) -> BitrixAPIRequest:
        """A lazy request for any REST method (``.result`` sends it)."""
        check_method(method)  # a bad name fails here, not as an AttributeError when sent
        if params is not None and not isinstance(params, Mapping):
            raise BitrixValidationError(f"params must be a mapping, got {type(params).__name__}")
        return BitrixAPIRequest(self._credentials, method, params, options=self._with(timeout))

    def call_batch(
        self, methods: Methods, halt: bool = False, ignore_size_limit: bool = False
    ) -> BitrixAPIBatchRequest:
        """Up to 50 lazy requests in one ``batch`` call (more only with ``ignore_size_limit=True``,
        then split into several calls). ``.result.result`` is keyed like ``methods``."""
        return BitrixAPIBatchRequest(
            self._credentials, methods, halt=halt, ignore_size_limit=ignore_size_limit, options=self._options
        )

    def call_batches(
        self, methods: Methods, halt: bool = False, *, parallel: int = 1
    ) -> BitrixAPIBatchesRequest:
        """Any number of lazy requests in batches of 50; ``parallel=K`` sends K batches at a time.
        ``.result.result_error`` holds every failed command across all batches."""
        return BitrixAPIBatchesRequest(
            self._credentials, methods, halt=halt, parallel=parallel, options=self._options
        )

    def _with(self, timeout: Timeout | None) -> CallOptions:
        return self._options if timeout is None else self._options.merged(CallOptions(timeout=timeout))

    def __repr__(self) -> str:
        return f"Client({self._credentials!r})"


__all__ = ["Client"]
