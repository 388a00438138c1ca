"""Writes one batch of a stream: looks match keys up in bulk, adds or updates, retries without duplicates.

The rule that keeps records from being duplicated: an add whose outcome is unknown (timeout, 5xx, dropped
connection) is never sent again blindly; its match key is looked up first and only a missing record is
added again. Updates are idempotent and are re-sent (multi-field values already present are left out).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from target_bitrix24 import errors
from target_bitrix24.commands import (
    NOT_EXECUTED,
    UNKNOWN,
    EntityGateway,
    LookupFailed,
    Outcome,
    Pending,
    WriteCommand,
    match_key,
)
from target_bitrix24.convert import MULTIFIELD, RecordConverter
from target_bitrix24.errors import HaltedOnError, RecordError
from target_bitrix24.ledger import Ledger
from target_bitrix24.routing import StreamRoute


@dataclass
class WritePolicy:
    dry_run: bool = False
    halt_on_error: bool = False
    max_attempts: int = 6
    backoff: float = 0.5  # real seconds before the second attempt, doubled after each
    time_scale: float = 1.0


class BatchWriter:
    """Settles every Pending of a batch in the ledger: added, updated (or would_*), or dead-lettered."""

    def __init__(
        self,
        route: StreamRoute,
        gateway: EntityGateway,
        converter: RecordConverter,
        ledger: Ledger,
        policy: WritePolicy,
        logger: logging.Logger,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.route = route
        self.gateway = gateway
        self.converter = converter
        self.ledger = ledger
        self.policy = policy
        self.logger = logger
        self.sleep = sleep
        self.match_field = self._match_field()
        self.failed = False

    # --- keys -------------------------------------------------------------------------------------
    def _match_field(self) -> str | None:
        wanted = self.route.match_field
        if wanted is None:
            return None
        if wanted.lower() == self.gateway.id_key.lower():
            return self.gateway.id_key
        name = self.converter.portal_name(wanted)
        if name is None:
            raise errors.TargetConfigError(
                f"stream {self.route.stream!r}: match field {wanted!r} is not a field of {self.route.label}"
            )
        return name

    @property
    def by_id(self) -> bool:
        return self.match_field == self.gateway.id_key

    def key_of(self, pending: Pending) -> str | None:
        if self.match_field is None:
            return None
        if self.by_id:
            return match_key(pending.record_id)
        return match_key(pending.values.get(self.match_field))

    def keyed(self, pending: Pending) -> Pending:
        """Sets the pending's match key; a record without the key it needs is a RecordError."""
        pending.key = self.key_of(pending)
        if pending.key is None and self._needs_key():
            raise RecordError(errors.MISSING_KEY, f"record has no value for match field {self.match_field}")
        return pending

    def prepare(self, pendings: Sequence[Pending]) -> list[Pending]:
        """Merges records with the same key (the later values win), keeping the first one's place."""
        merged: dict[str, Pending] = {}
        ready: list[Pending] = []
        for pending in pendings:
            if pending.key is None or self.route.operation == "add":
                ready.append(pending)
            elif pending.key in merged:
                merged[pending.key].merge(pending)
                self.ledger.tally(self.route.stream).merged += len(pending.records)
            else:
                merged[pending.key] = pending
                ready.append(pending)
        return ready

    def _needs_key(self) -> bool:
        if self.match_field is None:
            return False
        return self.route.operation == "update" or not self.by_id

    # --- the write loop ---------------------------------------------------------------------------
    def write(self, pendings: Sequence[Pending]) -> None:
        try:
            self._write(pendings)
        except HaltedOnError:
            raise
        except Exception as exc:  # whatever went wrong, no record of this batch is left without a fate
            for pending in pendings:
                if not pending.done:
                    self._fail(pending, errors.WRITE_FAILED, f"not written: {type(exc).__name__}: {exc}")
            raise

    def _write(self, pendings: Sequence[Pending]) -> None:
        todo = self.prepare(pendings)
        attempt = 0
        while todo:
            attempt += 1
            if attempt > 1:
                self.ledger.tally(self.route.stream).retries += len(todo)
                self.sleep(min(self.policy.backoff * 2 ** (attempt - 2), 30.0) / self.policy.time_scale)
            self._check_halt(todo)
            if attempt > self.policy.max_attempts:
                self._give_up(todo)
                return
            todo = self._attempt(todo)
        self._check_halt([])

    def _attempt(self, todo: list[Pending]) -> list[Pending]:
        rows = self._lookup(todo)
        if rows is None:  # the lookup itself failed: try the whole round again
            return todo
        todo = [pending for pending in todo if not pending.done]
        plan = [(pending, command) for pending in todo if (command := self._plan(pending, rows))]
        if self.policy.dry_run:
            for pending, command in plan:
                self._settle(pending, "would_add" if command.kind == "add" else "would_update")
            return []
        outcomes = self.gateway.write([command for _, command in plan])
        again = []
        for (pending, command), outcome in zip(plan, outcomes, strict=True):
            if self._record_outcome(pending, command, outcome):
                again.append(pending)
        return again

    def _lookup(self, todo: list[Pending]) -> dict[str, list[dict]] | None:
        keys = sorted({p.key for p in todo if p.key is not None and self._lookup_needed(p)})
        if not keys or self.match_field is None:
            return {}
        select = [self.gateway.id_key, self.match_field, *self._multifields(todo)]
        values: list[Any] = [int(k) for k in keys] if self.by_id else keys
        try:
            return self.gateway.lookup(self.match_field, values, sorted(set(select)))
        except LookupFailed as exc:  # reads are safe to repeat; the loop retries and finally gives up
            self.logger.warning("lookup of %d keys failed (%s)", len(keys), exc)
            for pending in todo:
                pending.last_code, pending.last_description = exc.code, exc.description
            if not exc.retryable:  # e.g. a field the portal cannot filter on: no attempt can succeed
                self._fail_unchecked(todo, exc)
                return {}
            return None

    def _fail_unchecked(self, todo: list[Pending], exc: LookupFailed) -> None:
        for pending in todo:
            if self._lookup_needed(pending):
                unknown = pending.planned == "add"  # an earlier add of it may have landed
                code = errors.OUTCOME_UNKNOWN if unknown else exc.code
                self._fail(pending, code, f"match key lookup failed: {exc.description}")

    def _lookup_needed(self, pending: Pending) -> bool:
        return self.route.operation != "add" or pending.planned == "add"

    def _multifields(self, todo: list[Pending]) -> set[str]:
        fields = self.converter.fields
        return {name for p in todo for name in p.values if name in fields and fields[name].type == MULTIFIELD}

    def _plan(self, pending: Pending, rows: dict[str, list[dict]]) -> WriteCommand | None:
        """The command for this attempt, or None when the pending is settled (or failed) without one."""
        found = rows.get(pending.key, []) if pending.key is not None else []
        if pending.planned == "add":  # a retry of an add with unknown outcome: did it land?
            if found:
                self._settle(pending, "added")
                return None
            return self._add(pending)
        if self.route.operation == "add":
            return self._add(pending)
        if len(found) > 1:
            ids = ", ".join(str(row.get(self.gateway.id_key)) for row in found[:5])
            self._fail(pending, errors.AMBIGUOUS_MATCH, f"{self.match_field}={pending.key} matches IDs {ids}")
            return None
        if found:
            return self._update(pending, found[0])
        if self.route.operation == "upsert" and pending.key is None:  # upsert by ID, record without ID
            return self._add(pending)
        if self.route.operation == "upsert" and not self.by_id:
            return self._add(pending)
        self._fail(pending, errors.NOT_FOUND, f"no {self.route.label} with {self.match_field}={pending.key}")
        return None

    def _add(self, pending: Pending) -> WriteCommand:
        pending.planned = "add"
        return WriteCommand("add", dict(pending.values))

    def _update(self, pending: Pending, row: dict) -> WriteCommand | None:
        pending.planned = "update"
        values = self.converter.updatable(pending.values)
        values = without_present_multivalues(values, row, self.converter)
        if not values:  # nothing left to change (e.g. a re-sent update whose values are all present)
            self._settle(pending, "would_update" if self.policy.dry_run else "updated")
            return None
        return WriteCommand("update", values, int(row[self.gateway.id_key]))

    def _record_outcome(self, pending: Pending, command: WriteCommand, outcome: Outcome) -> bool:
        """Settles the pending, or returns True when it must be tried again."""
        if outcome.ok:
            self._settle(pending, "added" if command.kind == "add" else "updated")
            return False
        pending.last_code, pending.last_description = outcome.code, outcome.description
        if outcome.outcome == NOT_EXECUTED:
            return True
        if outcome.outcome == UNKNOWN:
            if command.kind == "add" and pending.key is None:
                self._fail(
                    pending,
                    errors.OUTCOME_UNKNOWN,
                    f"add may or may not have been applied ({outcome.code}: {outcome.description}) and "
                    "the record has no match key to check; set match_field (e.g. ORIGIN_ID) to resolve it",
                )
                return False
            return True
        self._fail(pending, outcome.code or errors.WRITE_FAILED, outcome.description)
        return False

    def _give_up(self, todo: list[Pending]) -> None:
        """Out of attempts: a last lookup settles adds that did land; the rest are dead-lettered."""
        rows = self._lookup(todo)
        for pending in todo:
            if pending.done:
                continue
            if pending.planned == "add" and pending.key is not None and rows and rows.get(pending.key):
                self._settle(pending, "added")
                continue
            code = pending.last_code or errors.WRITE_FAILED
            if pending.planned == "add" and rows is None:
                code = errors.OUTCOME_UNKNOWN  # the add may have landed; the check itself failed
            self._fail(
                pending,
                code,
                f"gave up after {self.policy.max_attempts} attempts; last error: {pending.last_description}",
            )

    # --- accounting -------------------------------------------------------------------------------
    def _settle(self, pending: Pending, outcome: str) -> None:
        pending.done = True
        self.ledger.settle(self.route.stream, outcome, len(pending.records))

    def _fail(self, pending: Pending, code: str, description: str) -> None:
        self.failed = True
        pending.done = True
        for record in pending.records:
            self.ledger.fail(
                self.route.stream,
                record,
                code,
                description,
                entity=self.route.label,
                operation=self.route.operation,
            )

    def _check_halt(self, todo: list[Pending]) -> None:
        if not (self.failed and self.policy.halt_on_error):
            return
        for pending in todo:
            self._fail(pending, errors.HALTED, "not sent: halt_on_error stopped the run after a failure")
        raise HaltedOnError(f"stream {self.route.stream!r}: a record failed and halt_on_error is set")


def without_present_multivalues(
    values: dict[str, Any], row: dict, converter: RecordConverter
) -> dict[str, Any]:
    """Bitrix appends multi-field entries that carry no ID, so re-sending one would duplicate it."""
    result = dict(values)
    for name, entries in values.items():
        meta = converter.fields.get(name)
        if meta is None or meta.type != MULTIFIELD or not isinstance(entries, list):
            continue
        present = {match_key(item.get("VALUE")) for item in row.get(name) or [] if isinstance(item, dict)}
        result[name] = [e for e in entries if match_key(e.get("VALUE")) not in present]
        if not result[name]:
            del result[name]
    return result
