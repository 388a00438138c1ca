"""PHP bracket-notation query strings (``filter[>ID]=10&select[0]=ID``), as PHP's ``parse_str`` reads them.

Used for the ``"method?query"`` commands inside ``batch``; normal calls send JSON bodies.

Value rules (chosen to match PHP's ``http_build_query``, which Bitrix's own SDKs use):
- ``True`` -> ``1``, ``False`` -> ``0`` (PHP's truthiness; Bitrix ``Y``/``N`` flags must be sent as
  the strings ``"Y"``/``"N"``, exactly as in JSON calls);
- ``None`` -> empty string (``key=``), and so does an empty list or dict: dropping it, as PHP does,
  could silently widen a filter;
- lists -> indexed keys ``key[0]``, ``key[1]`` (round-trips lists of dicts such as multi-fields);
- ``datetime`` / ``date`` / ``time`` -> ISO 8601 (an aware datetime keeps its offset);
- ``Decimal`` -> its exact decimal text; ``float`` -> ``repr``; ``Enum`` -> its value.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from .error import BitrixValidationError

# Brackets, "$" and the filter prefixes <>@! stay readable (parse_str and every server decode them
# either way), so batch references such as $result[cmd0][49][ID] keep their usual look.
_SAFE_KEY = "[]$<>@!"
_SAFE_VALUE = "[]$"


def encode_query(params: Mapping[str, Any]) -> str:
    """Encode ``params`` as a PHP bracket-notation query string (no leading ``?``)."""
    if not isinstance(params, Mapping):
        raise BitrixValidationError(f"params must be a mapping, got {type(params).__name__}")
    return "&".join(
        f"{quote(key, safe=_SAFE_KEY)}={quote(value, safe=_SAFE_VALUE)}"
        for key, value in _pairs(params, prefix="")
    )


def encode_scalar(value: Any) -> str:
    """The text one scalar value is sent as."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, enum.Enum):
        return encode_scalar(value.value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise BitrixValidationError(f"cannot send a non-finite Decimal: {value}")
        return format(value, "f")
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise BitrixValidationError(f"cannot send a non-finite float: {value}")
        return repr(value)
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, bytes):
        raise BitrixValidationError("bytes are not a valid query value; decode them first")
    raise BitrixValidationError(f"cannot encode a {type(value).__name__} in a query string")


def _pairs(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    items: list[tuple[str, Any]]
    if isinstance(value, Mapping):
        items = [(str(key), item) for key, item in value.items()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        items = [(str(index), item) for index, item in enumerate(value)]
    else:
        yield prefix, encode_scalar(value)
        return
    if not items and prefix:
        yield prefix, ""
    for key, item in items:
        if not prefix and not key:
            raise BitrixValidationError("empty top-level parameter name")
        yield from _pairs(item, f"{prefix}[{key}]" if prefix else key)


__all__ = ["encode_query", "encode_scalar"]
