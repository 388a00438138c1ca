"""Process-wide configuration: one ``Config`` instance shared by every thread (not thread-local)."""

from __future__ import annotations

import threading
from typing import Any, Literal
from urllib.parse import urlsplit

from .error import BitrixValidationError
from .log import AbstractLogger, NullLogger

Timeout = float | tuple[float, float]
RateLimit = tuple[float, float]

# (bucket size X, drain Y per portal second), docs limits.md
PLANS: dict[str, RateLimit] = {"standard": (50.0, 2.0), "enterprise": (250.0, 5.0)}


class Config:
    """The SDK's defaults. ``Config()`` always returns the same object; ``configure`` changes it.

    Portal-time values (rate limit drain, operating window, retry delays) are divided by
    ``time_scale`` when the SDK waits: a sandbox running F times faster than real time needs F.
    """

    _instance: Config | None = None
    _instance_lock = threading.Lock()

    default_timeout: Timeout
    default_max_retries: int
    default_initial_retry_delay: float
    default_retry_delay_increment: float
    max_retry_delay: float
    logger: AbstractLogger
    time_scale: float
    rate_limit: RateLimit | Literal[False]
    rate_limit_margin: float
    operating_limit: float | Literal[False]
    operating_window: float
    operating_margin: float
    oauth_server: str

    def __new__(cls) -> Config:
        with cls._instance_lock:
            if cls._instance is None:
                instance = super().__new__(cls)
                instance._lock = threading.RLock()
                instance.reset()
                cls._instance = instance
            return cls._instance

    _lock: threading.RLock

    def reset(self) -> None:
        """Back to the built-in defaults."""
        with self._lock:
            self.default_timeout = (10.0, 70.0)  # connect, read; the cloud stops a request at 60 s
            self.default_max_retries = 5
            self.default_initial_retry_delay = 0.5
            self.default_retry_delay_increment = 0.0
            self.max_retry_delay = 30.0
            self.logger = NullLogger()
            self.time_scale = 1.0
            self.rate_limit = PLANS["standard"]
            self.rate_limit_margin = 2.0
            self.operating_limit = 480.0
            self.operating_window = 600.0
            self.operating_margin = 10.0
            self.oauth_server = "https://oauth.bitrix.info"

    def configure(
        self,
        *,
        default_timeout: Timeout | None = None,
        default_max_retries: int | None = None,
        default_initial_retry_delay: float | None = None,
        default_retry_delay_increment: float | None = None,
        max_retry_delay: float | None = None,
        logger: AbstractLogger | None = None,
        time_scale: float | None = None,
        plan: str | None = None,
        rate_limit: RateLimit | Literal[False] | None = None,
        rate_limit_margin: float | None = None,
        operating_limit: float | Literal[False] | None = None,
        operating_window: float | None = None,
        operating_margin: float | None = None,
        oauth_server: str | None = None,
    ) -> Config:
        """Set the given defaults (None leaves a value as it is). ``plan``: "standard" or "enterprise";
        ``rate_limit=False`` / ``operating_limit=False`` switch the limiter / the pacing off."""
        values: dict[str, Any] = {
            "default_timeout": check_timeout(default_timeout),
            "default_max_retries": _retries(default_max_retries),
            "default_initial_retry_delay": _non_negative(
                "default_initial_retry_delay", default_initial_retry_delay
            ),
            "default_retry_delay_increment": _non_negative(
                "default_retry_delay_increment", default_retry_delay_increment
            ),
            "max_retry_delay": _non_negative("max_retry_delay", max_retry_delay),
            "logger": _logger(logger),
            "time_scale": check_time_scale(time_scale),
            "rate_limit": rate_limit if rate_limit is False else check_rate_limit(rate_limit),
            "rate_limit_margin": _non_negative("rate_limit_margin", rate_limit_margin),
            "operating_limit": operating_limit
            if operating_limit is False
            else _non_negative("operating_limit", operating_limit),
            "operating_window": None
            if operating_window is None
            else _positive("operating_window", operating_window),
            "operating_margin": _non_negative("operating_margin", operating_margin),
            "oauth_server": check_server("oauth_server", oauth_server),
        }
        if plan is not None:
            if not isinstance(plan, str) or plan.lower() not in PLANS:
                raise BitrixValidationError(f"unknown plan {plan!r}; expected one of {sorted(PLANS)}")
            if rate_limit is None:
                values["rate_limit"] = PLANS[plan.lower()]
        with self._lock:
            for name, value in values.items():
                if value is not None:
                    setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        return (
            f"Config(timeout={self.default_timeout!r}, max_retries={self.default_max_retries}, "
            f"time_scale={self.time_scale}, rate_limit={self.rate_limit!r}, "
            f"operating_limit={self.operating_limit!r}/{self.operating_window})"
        )


def _non_negative(name: str, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:  # NaN fails too
        raise BitrixValidationError(f"{name} must be a non-negative number, got {value!r}")
    return value


def check_timeout(value: Any) -> Timeout | None:
    if value is None:
        return None
    if isinstance(value, tuple) and len(value) == 2:
        return (float(_positive("timeout", value[0])), float(_positive("timeout", value[1])))
    return float(_positive("timeout", value))


def check_time_scale(value: Any) -> float | None:
    return None if value is None else float(_positive("time_scale", value))


def check_rate_limit(value: Any) -> RateLimit | None:
    if value is None:
        return None
    if not (isinstance(value, tuple) and len(value) == 2):
        raise BitrixValidationError(f"rate_limit must be (bucket size, drain per second), got {value!r}")
    return (float(_positive("rate_limit size", value[0])), float(_positive("rate_limit drain", value[1])))


def _positive(name: str, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:  # NaN fails too
        raise BitrixValidationError(f"{name} must be a positive number, got {value!r}")
    return value


def _retries(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BitrixValidationError(f"default_max_retries must be a non-negative int, got {value!r}")
    return value


def _logger(value: Any) -> AbstractLogger | None:
    if value is not None and not isinstance(value, AbstractLogger):
        raise BitrixValidationError(
            f"logger must be an AbstractLogger (e.g. StreamLogger()), got {type(value).__name__}"
        )
    return value


def check_server(name: str, value: Any) -> str | None:
    """An OAuth server address: None, or an http(s) URL (its trailing slash dropped)."""
    if value is None:
        return None
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise BitrixValidationError(
            f"{name} must be an http(s) URL such as 'https://oauth.bitrix.info', got {value!r}"
        )
    return str(value).rstrip("/")


__all__ = ["PLANS", "Config", "RateLimit", "Timeout"]
