"""Masking of secrets (webhook codes, tokens, client secrets) in every text the SDK emits.

Credentials register their secrets here when created; ``mask`` replaces every registered secret and
every secret-shaped URL part, so messages, reprs and log lines never carry them.
"""

from __future__ import annotations

import re
import threading

MASK = "***"

_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Secret-shaped parts of URLs, query strings and JSON bodies, masked even when never registered.
_SHAPES = [
    (re.compile(r"(/rest/\d+/)([^/?#\s\"']+)"), r"\1" + MASK),
    (
        re.compile(
            r"((?:auth|access_token|refresh_token|client_secret|AUTH_ID|REFRESH_ID)\"?\s*[=:]\s*\"?)"
            r"([^&\s\"',}]+)",
            re.IGNORECASE,
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"(Bearer\s+)(\S+)", re.IGNORECASE), r"\1" + MASK),
]


def register_secret(secret: str | None) -> None:
    """Remember ``secret`` so that ``mask`` hides it wherever it appears (short values are ignored)."""
    global _pattern
    if not secret or len(secret) < 4:
        return
    with _lock:
        if secret in _secrets:
            return
        _secrets.add(secret)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def mask(text: object) -> str:
    """``str(text)`` with every registered secret and secret-shaped URL part replaced by ``***``."""
    result = str(text)
    pattern = _pattern
    if pattern is not None:
        result = pattern.sub(MASK, result)
    for shape, replacement in _SHAPES:
        result = shape.sub(replacement, result)
    return result


def hint(secret: str | None) -> str:
    """What a repr shows for a secret: only whether there is one."""
    if not secret:
        return repr(secret)
    return f"'{MASK}'"
