"""Batches: up to 50 lazy requests in one ``batch`` call (``call_batch``), or any number split into
several (``call_batches``, optionally run concurrently). Per-command errors are never dropped: they
are in ``result_error`` (keyed like the input), ``errors()`` gives them as exceptions.

When one chunk's HTTP call raises, the error is re-raised as it is (same class, same ``outcome_unknown``)
carrying what the run got before it: ``exc.partial`` (the merged ``BitrixAPIBatchResponse`` of the chunks
that answered), ``exc.failed_keys`` (the keys of the chunk(s) whose call raised), ``exc.unsent_keys``
(the keys of chunks never sent) and ``exc.chunk_errors`` (each failed chunk's keys with its own error).
``incomplete(exc)`` reads them as one typed ``BatchIncomplete``."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from .credentials import AbstractCredentials
from .encoding import encode_query
from .error import BitrixResponseJSONDecodeError, BitrixSDKException, BitrixValidationError
from .requests import BitrixAPIRequest
from .responses import BitrixAPIBatchResponse, BitrixAPIBatchResult, BitrixTimeResponse, keyed
from .transport import CallOptions

MAX_COMMANDS = 50

Methods = Mapping[Any, BitrixAPIRequest] | Sequence[BitrixAPIRequest]
Chunk = list[tuple[Any, BitrixAPIRequest]]


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
        raise BitrixResponseJSONDecodeError(
            f"batch: the answer's result is {type(body).__name__}, not the map of command sections; "
            "the portal or a proxy answered something that is not a Bitrix24 batch result"
        )
    raw = RawBatch(
        result=keyed(body.get("result")),
        result_error=keyed(body.get("result_error")),
        result_total=keyed(body.get("result_total")),
        result_next=keyed(body.get("result_next")),
        result_time=keyed(body.get("result_time")),
        time=BitrixTimeResponse.from_dict(envelope.get("time")),
    )
    if not halt:
        _check_every_command_answered(commands, raw)
    return raw


def _check_every_command_answered(commands: Mapping[str, str], raw: RawBatch) -> None:
    """Without halt the portal runs every command: one with neither a result nor an error means the
    answer is incomplete, and passing it on would lose that command's outcome without a word."""
    missing = [key for key in commands if str(key) not in raw.result and str(key) not in raw.result_error]
    if missing:
        shown = ", ".join(map(str, missing[:5])) + (" ..." if len(missing) > 5 else "")
        raise BitrixResponseJSONDecodeError(
            f"batch: {len(missing)} of {len(commands)} commands have neither a result nor an error "
            f"({shown}): the answer is incomplete"
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


def _chunks(pairs: Chunk) -> list[Chunk]:
    return [pairs[i : i + MAX_COMMANDS] for i in range(0, len(pairs), MAX_COMMANDS)]


@dataclass(frozen=True)
class BatchIncomplete:
    """What a ``call_batch``/``call_batches`` run got before one chunk's HTTP call raised.

    ``partial``: the merged response of the chunks that answered (keyed like the input; for a list
    input, ``None`` at the indexes of failed and unsent commands); ``failed_keys``: the keys of the
    chunks whose call raised (their outcome is the error's: see its ``outcome_unknown``);
    ``unsent_keys``: the keys of chunks never sent; ``chunk_errors``: (keys, error) per failed chunk.
    """

    partial: BitrixAPIBatchResponse[Any]
    failed_keys: tuple[Any, ...]
    unsent_keys: tuple[Any, ...]
    chunk_errors: tuple[tuple[tuple[Any, ...], BitrixSDKException], ...]


def incomplete(exc: BaseException) -> BatchIncomplete | None:
    """The partial outcome a batch run attached to ``exc``, or None if ``exc`` did not come from one."""
    partial = getattr(exc, "partial", None)
    if not isinstance(partial, BitrixAPIBatchResponse):
        return None
    return BatchIncomplete(
        partial,
        getattr(exc, "failed_keys", ()),
        getattr(exc, "unsent_keys", ()),
        getattr(exc, "chunk_errors", ()),
    )


# What became of one chunk: its answer, the error its call raised, or None (not sent).
_Outcome = RawBatch | BitrixSDKException | None


class _BatchRun:
    """Runs chunks and merges their sections under the caller's keys."""

    def __init__(
        self,
        credentials: AbstractCredentials,
        pairs: Chunk,
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
            outcomes = self._run_parallel(chunks, parallel)
        else:
            outcomes = self._run_in_order(chunks)
        if any(isinstance(outcome, BitrixSDKException) for outcome in outcomes):
            raise self._incomplete(chunks, outcomes)
        raws = [outcome if isinstance(outcome, RawBatch) else None for outcome in outcomes]
        return self._merge(chunks, raws)

    def _run_in_order(self, chunks: list[Chunk]) -> list[_Outcome]:
        outcomes: list[_Outcome] = [None] * len(chunks)
        for index, chunk in enumerate(chunks):
            try:
                raw = self._send(chunk)
            except BitrixSDKException as exc:
                outcomes[index] = exc
                break  # later chunks are not sent: their keys are reported as unsent
            outcomes[index] = raw
            if self.halt and raw.result_error:
                break  # halt: later chunks are not sent; their keys are reported in not_run
        return outcomes

    def _run_parallel(self, chunks: list[Chunk], parallel: int) -> list[_Outcome]:
        outcomes: list[_Outcome] = [None] * len(chunks)
        failed = threading.Event()

        def send(index: int) -> None:
            if failed.is_set():
                return  # a chunk failed: do not start more
            try:
                outcomes[index] = self._send(chunks[index])
            except BitrixSDKException as exc:
                outcomes[index] = exc
                failed.set()

        with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="bitrix24-batch") as pool:
            list(pool.map(send, range(len(chunks))))
        return outcomes

    def _send(self, chunk: Chunk) -> RawBatch:
        commands = {str(key): command(request) for key, request in chunk}
        return send_batch(self.credentials, commands, halt=self.halt, options=self.options)

    def _incomplete(self, chunks: list[Chunk], outcomes: list[_Outcome]) -> BitrixSDKException:
        """The first failed chunk's error (class and flags kept), carrying what the others got."""
        errors = [
            (tuple(k for k, _ in chunk), o)
            for chunk, o in zip(chunks, outcomes, strict=True)
            if isinstance(o, BitrixSDKException)
        ]
        unsent = [key for chunk, o in zip(chunks, outcomes, strict=True) if o is None for key, _ in chunk]
        answered = [
            chunk if isinstance(o, RawBatch) else [] for chunk, o in zip(chunks, outcomes, strict=True)
        ]
        raws = [o if isinstance(o, RawBatch) else None for o in outcomes]
        failed = tuple(key for keys, _ in errors for key in keys)
        exc = errors[0][1]
        # attributes on the original error, so its class (and outcome_unknown) stays what callers catch
        vars(exc).update(
            partial=self._merge(answered, raws),
            failed_keys=failed,
            unsent_keys=tuple(unsent),
            chunk_errors=tuple(errors),
        )
        exc.add_note(
            f"batch run: {sum(raw is not None for raw in raws)} of {len(chunks)} chunks answered, "
            f"{len(failed)} commands failed, {len(unsent)} not sent "
            "(see .partial, .failed_keys, .unsent_keys)"
        )
        return exc

    def _merge(self, chunks: list[Chunk], raws: list[RawBatch | None]) -> BitrixAPIBatchResponse[Any]:
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
    "BatchIncomplete",
    "BitrixAPIBatchesRequest",
    "RawBatch",
    "command",
    "incomplete",
    "send_batch",
]
