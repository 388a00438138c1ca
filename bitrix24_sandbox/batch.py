"""`batch`: commands as "method?query" strings, references to earlier answers, per-command errors."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .wire import ERROR_TEXTS, listify, parse_query, php_map, php_string, php_truthy

MAX_COMMANDS = 50
NOT_IN_BATCH = frozenset({"batch"})  # upload/download are not modelled

# $result[key][path]... ; also $next, $total, $time, $error. A key may be empty ("[]").
_REF_RE = re.compile(r"\$(result|next|total|time|error)((?:\[[^\]]*\])+)")
_SEG_RE = re.compile(r"\[([^\]]*)\]")


@dataclass
class Outcome:
    """What one command produced: a result, or an error (with its HTTP status); total/next; time block."""

    result: Any = None
    error: dict[str, str] | None = None
    total: int | None = None
    next: int | None = None
    time: dict[str, Any] | None = None
    status: int = 200


# run(method, params) -> Outcome; `method` is lower case without ".json".
Runner = Callable[[str, dict[str, Any]], Outcome]


@dataclass
class BatchState:
    result: dict[str, Any] = field(default_factory=dict)
    result_error: dict[str, Any] = field(default_factory=dict)
    result_total: dict[str, Any] = field(default_factory=dict)
    result_next: dict[str, Any] = field(default_factory=dict)
    result_time: dict[str, Any] = field(default_factory=dict)

    def roots(self) -> dict[str, dict[str, Any]]:
        return {
            "result": self.result,
            "error": self.result_error,
            "total": self.result_total,
            "next": self.result_next,
            "time": self.result_time,
        }

    def envelope(self) -> dict[str, Any]:
        return {
            "result": php_map(self.result),
            "result_error": php_map(self.result_error),
            "result_total": php_map(self.result_total),
            "result_next": php_map(self.result_next),
            "result_time": php_map(self.result_time),
        }


def split_command(command: str) -> tuple[str, str]:
    """ "crm.deal.list?filter[>ID]=1" -> ("crm.deal.list", "filter[>ID]=1"); method lower case, no .json."""
    method, _, query = command.partition("?")
    method = method.strip().lower()
    if method.endswith(".json"):
        method = method[: -len(".json")]
    return method, query


def resolve_path(root: dict[str, Any], path: list[str]) -> Any:
    """Walk `path` down from `root`, stopping at the first key that does not exist.

    The real server does the same: a reference past the end of a short page (`$result[p][49][ID]` on a
    page of 10 rows) resolves to the deepest node that exists — here the whole page.
    """
    node: Any = root
    for key in path:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            break
    return node


def substitute(value: Any, state: BatchState) -> Any:
    """Replace references in every string of the decoded parameters.

    A string that is exactly one reference becomes the referenced value (which may be an array); a
    reference inside longer text is pasted as PHP would print it.
    """
    if isinstance(value, dict):
        return {k: substitute(v, state) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, state) for v in value]
    if not isinstance(value, str) or "$" not in value:
        return value
    roots = state.roots()

    def lookup(match: re.Match[str]) -> Any:
        return resolve_path(roots[match.group(1)], _SEG_RE.findall(match.group(2)))

    whole = _REF_RE.fullmatch(value)
    if whole is not None:
        return lookup(whole)
    return _REF_RE.sub(lambda m: php_string(lookup(m)), value)


def _command_items(cmd: Any) -> list[tuple[str, Any]]:
    if isinstance(cmd, dict):
        return [(str(k), v) for k, v in cmd.items()]
    if isinstance(cmd, list):
        return [(str(i), v) for i, v in enumerate(cmd)]
    return []


def _error(code: str) -> dict[str, str]:
    return {"error": code, "error_description": ERROR_TEXTS.get(code, code)}


def run_batch(params: dict[str, Any], run: Runner) -> dict[str, Any]:
    """Execute a batch; return the `result` of its envelope."""
    state = BatchState()
    halt = php_truthy(params.get("halt", False))
    for index, (key, command) in enumerate(_command_items(params.get("cmd"))):
        if index >= MAX_COMMANDS:
            state.result_error[key] = _error("ERROR_BATCH_LENGTH_EXCEEDED")
            continue
        method, query = split_command(php_string(command))
        if method in NOT_IN_BATCH:
            state.result_error[key] = _error("ERROR_BATCH_METHOD_NOT_ALLOWED")
        else:
            outcome = run(method, listify(substitute(parse_query(query), state)))
            _record(state, key, outcome)
        if halt and key in state.result_error:
            break
    return state.envelope()


def _record(state: BatchState, key: str, outcome: Outcome) -> None:
    if outcome.error is not None:
        state.result_error[key] = outcome.error
    else:
        state.result[key] = outcome.result
        if outcome.total is not None:
            state.result_total[key] = outcome.total
        if outcome.next is not None:
            state.result_next[key] = outcome.next
    if outcome.time is not None:
        state.result_time[key] = outcome.time
