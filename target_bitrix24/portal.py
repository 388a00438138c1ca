"""The target's one door to the portal, through bitrix24_core's public interface (``Client``).

Writes go out with ``client.call_batch``, 50 commands per HTTP request, one request at a time so that a
failed request tells exactly which commands' outcome is unknown (``call_batches`` raises for the whole
run of chunks); lookups are ``list`` commands with an `@` filter, sent with ``client.call_batches``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bitrix24_core import AbstractCredentials, BitrixApp, BitrixToken, BitrixWebhook, Client
from bitrix24_core.batch import MAX_COMMANDS
from bitrix24_core.config import PLANS
from bitrix24_core.entities import Entity, entity
from bitrix24_core.error import (
    BitrixAPIError,
    BitrixAPIInternalServerError,
    BitrixAPIOperationTimeLimit,
    BitrixAPIQueryLimitExceeded,
    BitrixRequestError,
    BitrixSDKException,
)
from bitrix24_core.events import OAuthTokenRenewedEvent
from bitrix24_core.requests import BitrixAPIRequest
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
    """A Client from the settings (the same names as the tap's)."""
    options = call_options(config)
    if config.get("webhook_url"):
        return _client(BitrixWebhook(str(config["webhook_url"])), options)
    missing = [k for k in ("domain", "client_id", "client_secret", "refresh_token") if not config.get(k)]
    if missing:
        raise TargetConfigError(f"give webhook_url, or the OAuth settings; missing: {', '.join(missing)}")
    app = BitrixApp(str(config["client_id"]), str(config["client_secret"]), config.get("oauth_server"))
    token_file = config.get("refresh_token_file")
    refresh = _read_token(token_file) or str(config["refresh_token"])
    renewed = app.refresh(refresh, options)
    token = BitrixToken(
        str(config["domain"]), renewed.access_token, renewed.refresh_token, renewed.expires, app
    )
    if token_file:  # refresh tokens rotate: the one just used is dead, keep the new one
        _write_token(token_file, renewed.refresh_token)
        token.oauth_token_renewed_signal.connect(lambda event: _save_renewed(token_file, event))
    return _client(token, options)


def _client(credentials: AbstractCredentials, options: CallOptions) -> Client:
    return Client(
        credentials, timeout=options.timeout, rate_limit=options.rate_limit, time_scale=options.time_scale
    )


def call_options(config: Mapping[str, Any]) -> CallOptions:
    bucket, drain = config.get("rate_limit_bucket"), config.get("rate_limit_drain")
    if (bucket is None) != (drain is None):
        raise TargetConfigError("give both rate_limit_bucket and rate_limit_drain, or neither")
    plan = str(config.get("plan") or "standard").lower()
    if plan not in PLANS:
        raise TargetConfigError(f"unknown plan {plan!r}; expected one of {', '.join(sorted(PLANS))}")
    rate = (float(bucket), float(drain)) if bucket is not None and drain is not None else PLANS[plan]
    return CallOptions(
        timeout=(10.0, float(config.get("request_timeout") or 70)),
        rate_limit=rate,
        time_scale=float(config.get("time_scale") or 1),
    )


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
        outcomes: list[Outcome] = []
        for start in range(0, len(commands), MAX_COMMANDS):
            outcomes.extend(self._write_chunk(commands[start : start + MAX_COMMANDS]))
        return outcomes

    def _write_chunk(self, commands: Sequence[WriteCommand]) -> list[Outcome]:
        requests = [self._command(command) for command in commands]
        self.requests.write_requests += 1
        try:
            result = self.client.call_batch(requests).result
        except BitrixSDKException as exc:
            failed = Outcome(False, code=_code(exc), description=str(exc), outcome=classify(exc))
            return [failed for _ in commands]
        errors = result.result_error
        outcomes = []
        for index, command in enumerate(commands):
            if index in errors:
                outcomes.append(_command_failure(errors[index]))
            elif index in result.not_run or result.result[index] in (None, False):
                outcomes.append(Outcome(False, code="NO_RESULT", description="no result", outcome=UNKNOWN))
            else:
                value = result.result[index]
                outcomes.append(
                    Outcome(True, value, new_id=self._new_id(value) if command.kind == "add" else None)
                )
        return outcomes

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


def _read_token(path: Any) -> str | None:
    if path and Path(str(path)).exists():
        return Path(str(path)).read_text().strip() or None
    return None


def _write_token(path: Any, token: str | None) -> None:
    if not token:
        return
    target = Path(str(path))
    tmp = target.with_suffix(".tmp")
    tmp.write_text(token)
    os.chmod(tmp, 0o600)
    tmp.replace(target)


def _save_renewed(path: Any, event: OAuthTokenRenewedEvent) -> None:
    _write_token(path, event.renewed_oauth_token.refresh_token)
