"""Events and per-instance signals: token renewal and portal domain change."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from .credentials import RenewedOAuthToken

E = TypeVar("E")


class BaseBitrixEvent:
    """Common parent of the SDK's events."""


@dataclass(frozen=True, eq=False)
class OAuthTokenRenewedEvent(BaseBitrixEvent):
    """Emitted after a refresh: ``renewed_oauth_token`` holds the new access and refresh tokens."""

    renewed_oauth_token: RenewedOAuthToken


@dataclass(frozen=True, eq=False)
class PortalDomainChangedEvent(BaseBitrixEvent):
    """Emitted when the portal answered 302 to a new address and the credentials moved there."""

    old_domain: str
    new_domain: str


class Signal(Generic[E]):
    """A list of handlers called with one event. Handlers run in the thread that emits.

    A handler that raises does not stop the others; the first error is re-raised after all ran,
    so a failing persistence hook is never silently lost.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._handlers: list[Callable[[E], object]] = []
        self._lock = threading.Lock()

    def connect(self, handler: Callable[[E], object]) -> Callable[[E], object]:
        with self._lock:
            if handler not in self._handlers:
                self._handlers.append(handler)
        return handler

    def disconnect(self, handler: Callable[[E], object]) -> None:
        with self._lock:
            if handler in self._handlers:
                self._handlers.remove(handler)

    def emit(self, event: E) -> None:
        with self._lock:
            handlers = list(self._handlers)
        first_error: BaseException | None = None
        for handler in handlers:
            try:
                handler(event)
            except Exception as error:  # noqa: BLE001 - every handler must run
                first_error = first_error or error
        if first_error is not None:
            raise first_error

    def __len__(self) -> int:
        return len(self._handlers)

    def __repr__(self) -> str:
        return f"Signal({self.name!r}, handlers={len(self._handlers)})"


__all__ = ["BaseBitrixEvent", "OAuthTokenRenewedEvent", "PortalDomainChangedEvent", "Signal"]
