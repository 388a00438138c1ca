"""The target's one door to the portal, through bitrix24_core's public interface (``Client``).

Writes and lookups go out with ``client.call_batches``, 50 commands per HTTP request, one request at a
time. When a request fails, the error carries the completed chunks' results and the failed and unsent
keys (``bitrix24_core.batch.incomplete``): the failed chunk's commands get the request's failure, the
unsent ones are sent next. Lookups are ``list`` commands with an `@` filter.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from bitrix24_core import AbstractCredentials, BitrixToken, BitrixWebhook, Client
from bitrix24_core import settings as portal_settings
from bitrix24_core.batch import MAX_COMMANDS, incomplete
from bitrix24_core.entities import Entity, entity
from bitrix24_core.error import (
    BitrixAPIError,
    BitrixAPIInternalServerError,
    BitrixAPIOperationTimeLimit,
    BitrixAPIQueryLimitExceeded,
    BitrixRequestError,
    BitrixSDKException,
    BitrixValidationError,
)
from bitrix24_core.requests import BitrixAPIRequest
from bitrix24_core.responses import BitrixAPIBatchResult
from bitrix24_core.transport import CallOptions
from target_bitrix24.commands import (
    NOT_EXECUTED,
    PERMANENT,
    UNKNOWN,
    LookupFailed,
    Outcome,
    RequestCount,
    WriteCommand,
)
from target_bitrix24.commands import match_key as canonical
from target_bitrix24.convert import FieldMeta
from target_bitrix24.errors import TargetConfigError
from target_bitrix24.routing import StreamRoute

# Per-command error codes: refused before running (send again) / may have run (check first).
_NOT_EXECUTED_CODES = {"query_limit_exceeded", "operation_time_limit"}
_UNKNOWN_CODES = {"internal_server_error", "error_unexpected_answer"}
# 49 keys per list command: without duplicates on the portal a page (50 rows) is never full, so no
# continuation request is needed; a full page means a key matches several records (then read on).
KEYS_PER_LOOKUP = 49
WRITABLE = ("crm.deal", "crm.lead", "crm.contact", "crm.company", "crm.quote", "crm.activity", "crm.item")


def connect(config: Mapping[str, Any]) -> Client:
    """A Client from the settings (the same names as the tap's, read by ``bitrix24_core.settings``)."""
    options = call_options(config)
    if config.get("webhook_url"):
        return _client(BitrixWebhook(str(config["webhook_url"])), options)
    missing = portal_settings.missing_oauth_settings(config)
    if missing:
        raise TargetConfigError(f"give webhook_url, or the OAuth settings; missing: {', '.join(missing)}")
    return _client(portal_settings.oauth_token(config, options, BitrixToken), options)


def _client(credentials: AbstractCredentials, options: CallOptions) -> Client:
    return Client(
        credentials, timeout=options.timeout, rate_limit=options.rate_limit, time_scale=options.time_scale
    )


def call_options(config: Mapping[str, Any]) -> CallOptions:
    try:
        return portal_settings.call_options(config)
    except BitrixValidationError as exc:
        raise TargetConfigError(str(exc)) from None


class EntityPortal:
    """Field metadata, batched writes and bulk key lookups for one stream's entity."""

    def __init__(self, client: Client, route: StreamRoute) -> None:
        if route.entity not in WRITABLE:
            raise TargetConfigError(
                f"stream {route.stream!r}: cannot write {route.entity!r}; writable: {', '.join(WRITABLE)}"
            )
        self.client = client
        self.route = route
        self.entity: Entity = entity(route.entity)
        self.id_key = str(self.entity.id_key)
        self.requests = RequestCount()
        self._scope = functools.reduce(getattr, route.entity.split("."), client)  # client.crm.deal
        self._base = {"entity_type_id": route.entity_type_id} if route.entity_type_id is not None else {}

    def _request(self, verb: str, **params: Any) -> BitrixAPIRequest:
        request: BitrixAPIRequest = getattr(self._scope, verb)(**self._base, **params)
        return request

    def fields(self) -> dict[str, FieldMeta]:
        result = self._request("fields").result
        self.requests.lookup_requests += 1
        if isinstance(result, Mapping) and isinstance(result.get("fields"), Mapping):
            result = result["fields"]  # crm.item.fields wraps them
        if not isinstance(result, Mapping):
            raise TargetConfigError(f"{self.entity.wire_method('fields')} answered no field list")
        return {name: FieldMeta.from_portal(name, meta) for name, meta in result.items()}

    # --- writes -----------------------------------------------------------------------------------
    def write(self, commands: Sequence[WriteCommand]) -> list[Outcome]:
        """One outcome per command, in order. ``call_batches`` stops at a chunk whose request fails
        (its commands get that failure); the chunks after it are sent by the next round."""
        outcomes: list[Outcome] = []
        while len(outcomes) < len(commands):
            outcomes.extend(self._write_from(commands[len(outcomes) :]))
        return outcomes

    def _write_from(self, commands: Sequence[WriteCommand]) -> list[Outcome]:
        """Outcomes of the leading commands that were sent (all of them unless a request failed)."""
        requests = [self._command(command) for command in commands]
        try:
            result = self.client.call_batches(requests).call().result
        except BitrixSDKException as exc:
            remainder = incomplete(exc)
            if remainder is None:  # nothing was sent per chunk: every command shares the failure
                self.requests.write_requests += 1
                return [_request_failure(exc)] * min(len(commands), MAX_COMMANDS)
            sent = len(commands) - len(remainder.unsent_keys)
            self.requests.write_requests += -(-sent // MAX_COMMANDS)
            failed = set(remainder.failed_keys)
            answered = remainder.partial.result
            return [
                _request_failure(exc) if index in failed else self._outcome(command, answered, index)
                for index, command in enumerate(commands[:sent])
            ]
        self.requests.write_requests += -(-len(commands) // MAX_COMMANDS)
        return [self._outcome(command, result, index) for index, command in enumerate(commands)]

    def _outcome(self, command: WriteCommand, result: BitrixAPIBatchResult[Any], index: int) -> Outcome:
        if index in result.result_error:
            return _command_failure(result.result_error[index])
        if index in result.not_run or result.result[index] in (None, False):
            return Outcome(False, code="NO_RESULT", description="no result", outcome=UNKNOWN)
        value = result.result[index]
        return Outcome(True, value, new_id=self._new_id(value) if command.kind == "add" else None)

    def _command(self, command: WriteCommand) -> BitrixAPIRequest:
        if command.kind == "add":
            return self._request("add", fields=command.fields)
        return self._request("update", bitrix_id=command.target_id, fields=command.fields)

    def _new_id(self, value: Any) -> int | None:
        if isinstance(value, Mapping) and self.entity.item_wrapper:
            value = (value.get(self.entity.item_wrapper) or {}).get(self.id_key)
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    # --- lookups ----------------------------------------------------------------------------------
    def lookup(self, match_field: str, values: Sequence[Any], select: Sequence[str]) -> dict[str, list[dict]]:
        """Rows whose match_field is in values: 49 keys per list command, 50 commands per request.
        A command that returns a full page is continued after its last ID until a short page."""
        try:
            return self._lookup(match_field, values, select)
        except BitrixSDKException as exc:
            raise LookupFailed(_code(exc), str(exc), retryable=classify(exc) != PERMANENT) from exc

    def _lookup(
        self, match_field: str, values: Sequence[Any], select: Sequence[str]
    ) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = {}
        step = KEYS_PER_LOOKUP
        chunks = [list(values[i : i + step]) for i in range(0, len(values), step)]
        cursors: list[tuple[list[Any], int]] = [(chunk, 0) for chunk in chunks]
        while cursors:
            requests = [self._list_request(match_field, chunk, after, select) for chunk, after in cursors]
            self.requests.lookup_requests += -(-len(requests) // MAX_COMMANDS)
            result = self.client.call_batches(requests).result
            result.raise_for_errors()  # a failed read must not look like "not found"
            again = []
            for (chunk, _), page in zip(cursors, result.result, strict=True):
                rows = self._rows(page)
                for row in rows:
                    found.setdefault(canonical(row.get(match_field)) or "", []).append(row)
                if len(rows) >= 50:
                    again.append((chunk, int(rows[-1][self.id_key])))
            cursors = again
        return found

    def _list_request(
        self, field: str, values: list[Any], after: int, select: Sequence[str]
    ) -> BitrixAPIRequest:
        filters: dict[str, Any] = {f"@{field}": values}
        if after:
            filters[f">{self.id_key}"] = after
        return self._request(
            "list", filter=filters, select=list(select), order={self.id_key: "ASC"}, start=-1
        )

    def _rows(self, page: Any) -> list[dict]:
        if isinstance(page, Mapping) and self.entity.list_wrapper:
            page = page.get(self.entity.list_wrapper)
        if not isinstance(page, list):
            raise BitrixAPIError(
                f"{self.entity.wire_method('list')} answered {type(page).__name__}, not rows"
            )
        return [row for row in page if isinstance(row, dict)]


def classify(exc: BitrixSDKException) -> str:
    """What a failed batch request means for its commands."""
    if exc.outcome_unknown:
        return UNKNOWN
    if isinstance(exc, (BitrixAPIQueryLimitExceeded, BitrixAPIOperationTimeLimit, BitrixRequestError)):
        return NOT_EXECUTED  # refused before running, or never reached the server
    if isinstance(exc, BitrixAPIInternalServerError) or (exc.status_code or 0) >= 500:
        return UNKNOWN
    return PERMANENT


def _request_failure(exc: BitrixSDKException) -> Outcome:
    return Outcome(False, code=_code(exc), description=str(exc), outcome=classify(exc))


def _command_failure(error: Any) -> Outcome:
    if isinstance(error, Mapping):
        code, text = str(error.get("error") or ""), str(error.get("error_description") or "")
    else:
        code, text = str(error), ""
    lowered = code.lower()
    outcome = (
        NOT_EXECUTED
        if lowered in _NOT_EXECUTED_CODES
        else UNKNOWN
        if lowered in _UNKNOWN_CODES
        else PERMANENT
    )
    return Outcome(False, code=code or "ERROR", description=text or code, outcome=outcome)


def _code(exc: BitrixSDKException) -> str:
    return exc.error or type(exc).__name__
