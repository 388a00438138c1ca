"""The units of work the target sends, and what the portal answered for each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# What is known about a write that did not come back with a result.
NOT_EXECUTED = "not_executed"  # refused before it ran (rate limit): safe to send again
UNKNOWN = "unknown"  # may have run (timeout, 5xx, dropped connection): resolve adds by lookup first
PERMANENT = "permanent"  # the portal rejected it: dead-letter


@dataclass
class Pending:
    """One write: one input record, or several with the same match key merged (the later values win)."""

    records: list[Mapping[str, Any]]
    record_id: int | None
    values: dict[str, Any]
    key: str | None = None
    planned: str | None = None  # "add" or "update" once it has been sent
    last_code: str = ""
    last_description: str = ""
    done: bool = False  # settled in the ledger (written or dead-lettered)

    def merge(self, later: Pending) -> None:
        self.records.extend(later.records)
        self.values.update(later.values)
        if later.record_id is not None:
            self.record_id = later.record_id
        later.done = True  # its records' fate is now this pending's


@dataclass
class WriteCommand:
    """One add or update command inside a batch."""

    kind: str  # "add" | "update"
    fields: dict[str, Any]
    target_id: int | None = None


@dataclass
class Outcome:
    """A command's fate in one attempt: ok with the portal's result, or an error classified by `outcome`."""

    ok: bool
    result: Any = None
    code: str = ""
    description: str = ""
    outcome: str = PERMANENT
    new_id: int | None = None


@dataclass
class RequestCount:
    write_requests: int = 0
    lookup_requests: int = 0
    extra: dict[str, int] = field(default_factory=dict)


class LookupFailed(Exception):
    """A key lookup could not be read (after the core's own retries). Lookups are safe to repeat;
    `retryable` is False when repeating cannot help (e.g. the match field cannot be filtered on)."""

    def __init__(self, code: str, description: str, retryable: bool = True) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.retryable = retryable


class EntityGateway(Protocol):
    """The portal operations the writer needs for one entity (implemented over bitrix24_core)."""

    id_key: str
    requests: RequestCount

    def write(self, commands: Sequence[WriteCommand]) -> list[Outcome]:
        """Send commands in batches of 50; one Outcome per command, in order."""
        ...

    def lookup(self, match_field: str, values: Sequence[Any], select: Sequence[str]) -> dict[str, list[dict]]:
        """Rows whose match_field is one of values, grouped by match_key(value)."""
        ...


def match_key(value: Any) -> str | None:
    """Portal values are strings (legacy) or numbers (crm.item); compare them as canonical text."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
