"""Batches: up to 50 lazy requests in one ``batch`` call (``call_batch``), or any number split into
several (``call_batches``, optionally run concurrently). Per-command errors are never dropped: they
are in ``result_error`` (keyed like the input), ``errors()`` gives them as exceptions."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .credentials import AbstractCredentials
from .encoding import encode_query
from .error import BitrixValidationError
from .requests import BitrixAPIRequest
from .responses import BitrixAPIBatchResponse, BitrixAPIBatchResult, BitrixTimeResponse, keyed
from .transport import CallOptions

MAX_COMMANDS = 50

Methods = Mapping[Any, BitrixAPIRequest] | Sequence[BitrixAPIRequest]


@dataclass
class RawBatch:
    """One physical batch answer, every section keyed by the command key as sent (strings)."""

    result: dict[str, Any]
    result_error: dict[str, Any]
    result_total: dict[str, Any]
    result_next: dict[str, Any]
    result_time: dict[str, Any]
    time: BitrixTimeResponse


def command(request: BitrixAPIRequest) -> str:
    """A lazy request as a batch command: ``"crm.deal.list?filter[>ID]=10&select[0]=ID"``."""
    query = encode_query(request.params)
    return f"{request.method}?{query}" if query else request.method


def send_batch(
    credentials: AbstractCredentials,
    commands: Mapping[str, str],
    *,
    halt: bool = False,
    options: CallOptions | None = None,
) -> RawBatch:
    """Send up to 50 ``"method?query"`` commands in one HTTP call and key every section."""
    if len(commands) > MAX_COMMANDS:
        raise BitrixValidationError(f"a batch takes at most {MAX_COMMANDS} commands, got {len(commands)}")
    envelope = credentials.call("batch", {"halt": 1 if halt else 0, "cmd": dict(commands)}, options=options)
    body = envelope.get("result")
    if not isinstance(body, Mapping):
        body = {}
    return RawBatch(
        result=keyed(body.get("result")),
        result_error=keyed(body.get("result_error")),
        result_total=keyed(body.get("result_total")),
        result_next=keyed(body.get("result_next")),
        result_time=keyed(body.get("result_time")),
        time=BitrixTimeResponse.from_dict(envelope.get("time")),
    )


def _entries(methods: Methods) -> tuple[list[tuple[Any, BitrixAPIRequest]], bool]:
    """(key, request) pairs and whether the input was a list (keys are then indexes)."""
    if isinstance(methods, Mapping):
        pairs = list(methods.items())
        as_list = False
    elif isinstance(methods, Sequence) and not isinstance(methods, (str, bytes)):
        pairs = list(enumerate(methods))
        as_list = True
    else:
        raise BitrixValidationError(
            f"methods must be a dict or a list of requests, got {type(methods).__name__}"
        )
    keys = set()
    for key, request in pairs:
        if not isinstance(request, BitrixAPIRequest):
            raise BitrixValidationError(
                f"batch command {key!r} must be a lazy request such as client.crm.deal.get(...), "
                f"got {type(request).__name__}"
            )
        if request.method == "batch":
            raise BitrixValidationError(f"batch command {key!r}: a batch cannot contain a batch")
        if str(key) in keys:
            raise BitrixValidationError(f"duplicate batch key {str(key)!r}")
        keys.add(str(key))
    return pairs, as_list


def _chunks(pairs: list[tuple[Any, BitrixAPIRequest]]) -> list[list[tuple[Any, BitrixAPIRequest]]]:
    return [pairs[i : i + MAX_COMMANDS] for i in range(0, len(pairs), MAX_COMMANDS)]


class _BatchRun:
    """Runs chunks and merges their sections under the caller's keys."""

    def __init__(
        self,
        credentials: AbstractCredentials,
        pairs: list[tuple[Any, BitrixAPIRequest]],
        as_list: bool,
        halt: bool,
        options: CallOptions | None,
    ) -> None:
        self.credentials = credentials
        self.pairs = pairs
        self.as_list = as_list
        self.halt = halt
        self.options = options

    def run(self, parallel: int = 1) -> BitrixAPIBatchResponse[Any]:
        chunks = _chunks(self.pairs)
        if parallel > 1 and not self.halt and len(chunks) > 1:
            with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="bitrix24-batch") as pool:
                raws: list[RawBatch | None] = list(pool.map(self._send, chunks))
        else:
            raws = []
            for chunk in chunks:
                raw = self._send(chunk)
                raws.append(raw)
                if self.halt and raw.result_error:
                    break  # halt: later chunks are not sent; their keys are reported in not_run
        return self._merge(chunks, raws)

    def _send(self, chunk: list[tuple[Any, BitrixAPIRequest]]) -> RawBatch:
        commands = {str(key): command(request) for key, request in chunk}
        return send_batch(self.credentials, commands, halt=self.halt, options=self.options)

    def _merge(
        self, chunks: list[list[tuple[Any, BitrixAPIRequest]]], raws: list[RawBatch | None]
    ) -> BitrixAPIBatchResponse[Any]:
        result: dict[Any, Any] = {}
        sections: dict[str, dict[Any, Any]] = {"error": {}, "total": {}, "next": {}, "time": {}}
        not_run: list[Any] = []
        times: list[BitrixTimeResponse] = []
        for index, chunk in enumerate(chunks):
            raw = raws[index] if index < len(raws) else None
            if raw is not None:
                times.append(raw.time)
            for key, _ in chunk:
                wire = str(key)
                if raw is None or (wire not in raw.result and wire not in raw.result_error):
                    not_run.append(key)
                    continue
                if wire in raw.result:
                    result[key] = raw.result[wire]
                else:
                    sections["error"][key] = raw.result_error[wire]
                if wire in raw.result_total:
                    sections["total"][key] = raw.result_total[wire]
                if wire in raw.result_next:
                    sections["next"][key] = raw.result_next[wire]
                if wire in raw.result_time:
                    sections["time"][key] = BitrixTimeResponse.from_dict(raw.result_time[wire])
        merged: Any = [result.get(i) for i in range(len(self.pairs))] if self.as_list else result
        batch_result: BitrixAPIBatchResult[Any] = BitrixAPIBatchResult(
            result=merged,
            result_error=sections["error"],
            result_total=sections["total"],
            result_next=sections["next"],
            result_time=sections["time"],
            not_run=tuple(not_run),
        )
        return BitrixAPIBatchResponse(
            result=batch_result,
            time=times[-1] if times else BitrixTimeResponse(),
            times=tuple(times),
        )


class BitrixAPIBatchRequest:
    """``client.call_batch(...)``: lazy; ``.result`` (a ``BitrixAPIBatchResult``) sends once."""

    def __init__(
        self,
        credentials: AbstractCredentials,
        methods: Methods,
        *,
        halt: bool = False,
        ignore_size_limit: bool = False,
        parallel: int = 1,
        options: CallOptions | None = None,
    ) -> None:
        pairs, as_list = _entries(methods)
        if len(pairs) > MAX_COMMANDS and not ignore_size_limit:
            raise BitrixValidationError(
                f"call_batch takes at most {MAX_COMMANDS} commands, got {len(pairs)}; pass "
                "ignore_size_limit=True (or use call_batches) to split them into several batch calls"
            )
        if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
            raise BitrixValidationError(f"parallel must be a positive int, got {parallel!r}")
        for key, request in pairs:
            if request.credentials is not credentials:
                raise BitrixValidationError(f"batch command {key!r} was built for other credentials")
        self._run = _BatchRun(credentials, pairs, as_list, halt, options)
        self._parallel = parallel
        self._lock = threading.Lock()
        self._response: BitrixAPIBatchResponse[Any] | None = None

    def call(self) -> BitrixAPIBatchResponse[Any]:
        """Send every command (again)."""
        self._response = self._run.run(self._parallel)
        return self._response

    @property
    def response(self) -> BitrixAPIBatchResponse[Any]:
        if self._response is None:
            with self._lock:
                if self._response is None:
                    return self.call()
        assert self._response is not None
        return self._response

    @property
    def result(self) -> BitrixAPIBatchResult[Any]:
        return self.response.result

    def __len__(self) -> int:
        return len(self._run.pairs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(commands={len(self._run.pairs)}, halt={self._run.halt})"


class BitrixAPIBatchesRequest(BitrixAPIBatchRequest):
    """``client.call_batches(...)``: any number of commands in chunks of 50. ``parallel=K`` sends K
    chunks at a time (ignored with ``halt=True``, which needs the chunks in order)."""

    def __init__(
        self,
        credentials: AbstractCredentials,
        methods: Methods,
        *,
        halt: bool = False,
        parallel: int = 1,
        options: CallOptions | None = None,
    ) -> None:
        super().__init__(
            credentials, methods, halt=halt, ignore_size_limit=True, parallel=parallel, options=options
        )


__all__ = [
    "MAX_COMMANDS",
    "BitrixAPIBatchRequest",
    "BitrixAPIBatchesRequest",
    "RawBatch",
    "command",
    "send_batch",
]
