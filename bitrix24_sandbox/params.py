"""Reading wire parameters the way the server does: names case-insensitive, ids from strings."""

from __future__ import annotations

from typing import Any

from .errors import PortalError
from .values import to_int


def param(params: dict[str, Any], name: str, default: Any = None) -> Any:
    if name in params:
        return params[name]
    low = name.lower()
    for k, v in params.items():
        if str(k).lower() == low:
            return v
    return default


def int_param(params: dict[str, Any], name: str) -> int | None:
    v = param(params, name)
    if v is None or v == "" or isinstance(v, (dict, list, bool)):
        return None
    try:
        return to_int(v)
    except ValueError:
        return None


def require_id(params: dict[str, Any], name: str = "id") -> int:
    """Legacy methods answer a missing or bad ID with an empty code and this text."""
    rid = int_param(params, name)
    if rid is None or rid <= 0:
        raise PortalError("", "ID is not defined or invalid.")
    return rid


def obj_param(params: dict[str, Any], name: str) -> dict[str, Any]:
    """An object parameter (fields, filter, order); absent or empty is {}, anything else is refused."""
    v = param(params, name)
    if v is None or v == "" or v == []:
        return {}
    if not isinstance(v, dict):
        raise PortalError("INVALID_ARG_VALUE", f"Parameter '{name}' must be an object")
    return v
