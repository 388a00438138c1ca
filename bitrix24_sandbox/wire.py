"""Wire formats: PHP bracket query decoding, JSON envelopes, error bodies, PHP-style values."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from .clock import iso_date

# Canonical descriptions of the system errors (docs _includes/system-errors.md).
ERROR_TEXTS: dict[str, str] = {
    "INTERNAL_SERVER_ERROR": "Internal server error",
    "QUERY_LIMIT_EXCEEDED": "Too many requests",
    "OPERATION_TIME_LIMIT": "Method is blocked due to operation time limit.",
    "ERROR_BATCH_METHOD_NOT_ALLOWED": "Method is not allowed for batch usage",
    "ERROR_BATCH_LENGTH_EXCEEDED": "Max batch length exceeded",
    "NO_AUTH_FOUND": "Wrong authorization data",
    "INVALID_CREDENTIALS": "Invalid request credentials",
    "ERROR_METHOD_NOT_FOUND": "Method not found!",
    "expired_token": "The access token provided has expired.",
    "invalid_token": "The access token provided is invalid.",
    "insufficient_scope": "The request requires higher privileges than provided by the webhook token",
}


class WireError(Exception):
    """An error answered as {"error", "error_description"} with an HTTP status."""

    def __init__(self, code: str, status: int, description: str | None = None) -> None:
        self.code = code
        self.status = status
        self.description = ERROR_TEXTS.get(code, code) if description is None else description
        super().__init__(f"{code} ({status}): {self.description}")

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.description}


# --- PHP bracket notation ------------------------------------------------------------------------------

_KEY_RE = re.compile(r"\[([^\]]*)\]")


def split_key(name: str) -> list[str | None]:
    """`fields[PHONE][0][VALUE]` -> ["fields", "PHONE", "0", "VALUE"]; `select[]` -> ["select", None].

    As PHP: the base name ends at the first "["; each "[...]" segment is a key ("" = append); text after
    an unclosed "[" stays part of the last key.
    """
    pos = name.find("[")
    if pos <= 0:
        return [name]
    parts: list[str | None] = [name[:pos]]
    while pos < len(name) and name[pos] == "[":
        match = _KEY_RE.match(name, pos)
        if match is None:
            break
        parts.append(match.group(1) or None)
        pos = match.end()
    return parts


def _insert(root: dict[str, Any], path: list[str | None], value: str) -> None:
    node: dict[str, Any] = root
    for depth, key in enumerate(path):
        last = depth == len(path) - 1
        if key is None:  # "[]": next integer key, as PHP
            ints = [int(k) for k in node if k.lstrip("-").isdigit()]
            key = str(max(ints) + 1 if ints else 0)
        if last:
            node[key] = value
            return
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child


def listify(value: Any) -> Any:
    """Turn maps whose keys are exactly "0".."n-1" in order into lists (what PHP's json_encode does)."""
    if isinstance(value, dict):
        converted = {k: listify(v) for k, v in value.items()}
        if converted and list(converted) == [str(i) for i in range(len(converted))]:
            return list(converted.values())
        return converted
    if isinstance(value, list):
        return [listify(v) for v in value]
    return value


def parse_query(query: str) -> dict[str, Any]:
    """Decode a PHP bracket query string (`filter[>ID]=10&select[]=ID`) into nested dicts and lists.

    Values stay strings, as sent. Keys are case-sensitive.
    """
    root: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name:
            _insert(root, split_key(name), value)
    return {key: listify(value) for key, value in root.items()}  # the top level stays a map


def parse_body(body: bytes, content_type: str) -> dict[str, Any]:
    """Decode a request body: JSON object or form-urlencoded PHP brackets. Raises WireError."""
    if not body.strip():
        return {}
    ctype = content_type.split(";")[0].strip().lower()
    text = body.decode("utf-8", errors="replace")
    if ctype == "application/json" or (
        ctype not in ("application/x-www-form-urlencoded",) and _looks_json(text)
    ):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise WireError("INVALID_REQUEST", 400, f"Invalid JSON body: {exc.msg}") from None
        if not isinstance(data, dict):
            raise WireError("INVALID_REQUEST", 400, "JSON body must be an object")
        return data
    return parse_query(text)


def _looks_json(text: str) -> bool:
    return text.lstrip().startswith("{")


def php_truthy(value: Any) -> bool:
    """PHP's truthiness: "", "0", 0, [], null and false are false."""
    if isinstance(value, str):
        return value not in ("", "0")
    return bool(value)


def php_string(value: Any) -> str:
    """How PHP turns a value into text when it is pasted into a longer string."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, (dict, list)):
        return "Array"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def php_map(mapping: dict[str, Any]) -> Any:
    """A PHP associative array on the wire: empty -> [], keys "0".."n-1" -> a JSON list."""
    if not mapping:
        return []
    if list(mapping) == [str(i) for i in range(len(mapping))]:
        return list(mapping.values())
    return mapping


# --- envelopes -----------------------------------------------------------------------------------------


def time_block(
    start: float,
    finish: float,
    processing: float,
    tz_offset_minutes: int,
    operating: float | None = None,
    operating_reset_at: int | None = None,
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "start": round(start, 6),
        "finish": round(finish, 6),
        "duration": round(max(0.0, finish - start), 6),
        "processing": round(max(0.0, processing), 6),
        "date_start": iso_date(start, tz_offset_minutes),
        "date_finish": iso_date(finish, tz_offset_minutes),
    }
    if operating is not None:
        block["operating_reset_at"] = operating_reset_at
        block["operating"] = round(operating, 6)
    return block


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
HTML_504 = (
    b"<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    b"<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
