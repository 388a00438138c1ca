"""Bitrix list filters and orders compiled to SQL over the store's (id, modified, data) columns.

Keys carry an operator prefix: = ! != > >= < <= @ !@ % !% =% %= !=% !%=. Values are converted
to the field's canonical stored type first, so numbers compare as numbers and dates as instants.
"""

from __future__ import annotations

from typing import Any

from . import fieldmeta as fm
from .entities import EntitySpec, as_list, decode_scalar
from .fieldmeta import Field
from .values import ValueError_

# Longest prefixes first so '!=%' is not read as '!='.
OPERATORS = ("!=%", "!%=", "!=", "!@", "!%", ">=", "<=", "=%", "%=", "><", "@", ">", "<", "=", "%", "!")


class FilterError(ValueError):
    """A filter the server refuses (unknown field where the real method errors out)."""


def split_key(key: str) -> tuple[str, str]:
    for op in OPERATORS:
        if key.startswith(op):
            return op, key[len(op) :]
    return "=", key


def column(spec: EntitySpec, name: str) -> str:
    if name == spec.id_key:
        return "id"
    if name == spec.modified_key:
        return "modified"
    return f"json_extract(data, '$.\"{name}\"')"


def compile_filter(
    spec: EntitySpec,
    flt: Any,
    tz: int,
    strict: bool = False,
    aliases: dict[str, str] | None = None,
) -> tuple[str, list[Any]]:
    """WHERE clause and parameters. Unknown fields are ignored (legacy) or refused (strict)."""
    if not flt:
        return "1", []
    if not isinstance(flt, dict):
        raise FilterError("filter must be an object")
    parts: list[str] = []
    params: list[Any] = []
    for raw_key, value in flt.items():
        key = str(raw_key)
        if key.upper() == "LOGIC":
            continue
        if isinstance(value, dict) and (key.isdigit() or key.startswith("0")):
            sql, p = _compile_group(spec, value, tz, strict, aliases)
            parts.append(sql)
            params.extend(p)
            continue
        op, name = split_key(key)
        name = (aliases or {}).get(name, name)
        f = spec.fields.get(name)
        if f is None:
            if strict:
                raise FilterError(f"Invalid filter: field '{name}' is not allowed in filter")
            continue
        sql, p = _condition(spec, f, op, value, tz)
        parts.append(sql)
        params.extend(p)
    return (" AND ".join(parts) or "1"), params


def _compile_group(
    spec: EntitySpec, group: dict[str, Any], tz: int, strict: bool, aliases: dict[str, str] | None
) -> tuple[str, list[Any]]:
    """A nested crm.item filter group: {"logic": "OR", "0": {...}, "1": {...}} or plain conditions."""
    logic = str(group.get("logic", group.get("LOGIC", "AND"))).upper()
    subs: list[str] = []
    params: list[Any] = []
    for k, v in group.items():
        if str(k).upper() == "LOGIC":
            continue
        sql, p = compile_filter(spec, {k: v}, tz, strict, aliases)
        subs.append(f"({sql})")
        params.extend(p)
    joiner = " OR " if logic == "OR" else " AND "
    return "(" + (joiner.join(subs) or "1") + ")", params


def _condition(spec: EntitySpec, f: Field, op: str, value: Any, tz: int) -> tuple[str, list[Any]]:
    col = column(spec, f.name)
    if f.type == fm.MULTIFIELD_TYPE:
        return _exists(
            col.replace("json_extract", "json_each"),
            "json_extract(value, '$.VALUE')",
            f,
            op,
            value,
            tz,
            raw=True,
        )
    if f.multiple:
        return _exists(col.replace("json_extract", "json_each"), "value", f, op, value, tz)
    return _scalar(col, f, op, value, tz)


def _exists(
    each: str, item: str, f: Field, op: str, value: Any, tz: int, raw: bool = False
) -> tuple[str, list[Any]]:
    negate = op.startswith("!")
    pos_op = op[1:] if negate and op not in ("!",) else ("=" if op == "!" else op)
    pos_op = pos_op or "="
    inner, params = _scalar(item, f, pos_op, value, tz, raw=raw)
    sql = f"EXISTS (SELECT 1 FROM {each} WHERE {inner})"
    return (f"NOT {sql}" if negate else sql), params


def _convert(f: Field, v: Any, tz: int, raw: bool) -> Any:
    if isinstance(v, (dict, list)):
        return str(v)  # matches nothing, as a nonsense value does on the real server
    if raw:
        return str(v)
    if f.type == "boolean":
        return 1 if decode_scalar(f, v, tz) else 0
    try:
        return decode_scalar(f, v, tz)
    except ValueError_:
        return str(v)


def _scalar(col: str, f: Field, op: str, value: Any, tz: int, raw: bool = False) -> tuple[str, list[Any]]:
    if op in ("@", "!@") or (isinstance(value, (list, dict)) and op in ("=", "!", "!=")):
        items = [_convert(f, v, tz, raw) for v in as_list(value)]
        if not items:
            return ("0", []) if op in ("@", "=") else ("1", [])
        marks = ",".join("?" * len(items))
        neg = op in ("!@", "!", "!=")
        return (f"({col} IS NULL OR {col} NOT IN ({marks}))" if neg else f"{col} IN ({marks})"), items
    if op in ("%", "!%", "=%", "%=", "!=%", "!%="):
        pattern = str(value) if not isinstance(value, (dict, list)) else "\x00"
        if op in ("%", "!%"):
            pattern = "%" + pattern.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%") + "%"
        like = f"{col} LIKE ? ESCAPE '\\'"
        return (f"NOT ({like})" if op.startswith("!") else like), [pattern]
    if value is None or value == "" or (value is False and f.type != "boolean"):
        empty = f"({col} IS NULL OR {col} = '')"
        return (f"NOT {empty}" if op in ("!", "!=") else empty), []
    v = _convert(f, value, tz, raw)
    sql_op = {"=": "=", "!": "!=", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}.get(op, "=")
    if sql_op == "!=":
        return f"({col} IS NULL OR {col} != ?)", [v]
    return f"{col} {sql_op} ?", [v]


def compile_order(
    spec: EntitySpec, order: Any, aliases: dict[str, str] | None = None, strict: bool = False
) -> str:
    """ORDER BY over known fields; the key breaks ties so paging is stable. Strict (crm.item) refuses
    unknown fields and directions, as the real method does."""
    parts: list[str] = []
    id_dir = "ASC"
    if isinstance(order, dict):
        for raw_key, raw_dir in order.items():
            name = (aliases or {}).get(str(raw_key), str(raw_key))
            if name not in spec.fields:
                if strict:
                    raise FilterError(f"Invalid order: field '{raw_key}' is not allowed in order")
                continue
            if strict and str(raw_dir).upper() not in ("ASC", "DESC"):
                raise FilterError(
                    "Invalid order: allowed sort directions are ASC, DESC. "
                    f"But got '{raw_dir}' for field '{raw_key}'"
                )
            direction = "DESC" if str(raw_dir).upper() == "DESC" else "ASC"
            stored = spec.fields[name].name
            if stored == spec.id_key:
                id_dir = direction
                parts.append(f"id {direction}")
                continue
            parts.append(f"{column(spec, stored)} {direction}")
    if not any(p.startswith("id ") for p in parts):
        parts.append(f"id {id_dir}")
    return ", ".join(parts)
