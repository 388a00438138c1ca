"""Which calls may be sent again, and how long to wait before doing so."""

from __future__ import annotations

import random
from collections.abc import Iterable

# Idempotent methods (safe to repeat after an ambiguous failure). ".get" is read-only everywhere
# except event.offline.get, which clears the queue it returns by default.
_READ_SUFFIXES = (".list", ".get", ".fields", ".search", ".current", ".count")
_READ_METHODS = frozenset(
    {"server.time", "profile", "scope", "methods", "method.get", "app.info", "user.admin", "user.access"}
)
_NOT_READS = frozenset({"event.offline.get"})


def normalize_method(method: str) -> str:
    """Lower case, no ``.json`` suffix, no surrounding slashes or spaces."""
    name = method.strip().strip("/").lower()
    return name[:-5] if name.endswith(".json") else name


def is_read(method: str) -> bool:
    """True for methods that change nothing on the portal (batch: see ``is_read_batch``)."""
    name = normalize_method(method)
    if name in _NOT_READS:
        return False
    return name in _READ_METHODS or name.endswith(_READ_SUFFIXES)


def is_read_batch(command_methods: Iterable[str]) -> bool:
    """A batch is a read when every command in it is."""
    methods = list(command_methods)
    return bool(methods) and all(
        is_read(method) and normalize_method(method) != "batch" for method in methods
    )


def backoff_delay(attempt: int, initial: float, increment: float, cap: float) -> float:
    """Exponential backoff with jitter, in portal seconds: ``initial * 2**attempt + increment * attempt``,
    capped, then scaled by a random factor in [0.5, 1] so that threads do not retry in step."""
    base = min(cap, initial * (2**attempt) + increment * attempt)
    return base * random.uniform(0.5, 1.0)


__all__ = ["backoff_delay", "is_read", "is_read_batch", "normalize_method"]
