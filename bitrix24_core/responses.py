"""Typed views of the server's answers: the ``time`` block, single responses and batch results."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .error import BitrixAPIError, api_error, api_error_class

T = TypeVar("T")


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class BitrixTimeResponse:
    """The ``time`` block every answer carries (``operating_reset_at`` arrives as int or string)."""

    start: float | None = None
    finish: float | None = None
    duration: float | None = None
    processing: float | None = None
    date_start: str | None = None
    date_finish: str | None = None
    operating: float | None = None
    operating_reset_at: float | None = None

    @classmethod
    def from_dict(cls, data: Any) -> BitrixTimeResponse:
        if not isinstance(data, Mapping):
            return cls()
        return cls(
            start=_float(data.get("start")),
            finish=_float(data.get("finish")),
            duration=_float(data.get("duration")),
            processing=_float(data.get("processing")),
            date_start=data.get("date_start"),
            date_finish=data.get("date_finish"),
            operating=_float(data.get("operating")),
            operating_reset_at=_float(data.get("operating_reset_at")),
        )


@dataclass(frozen=True)
class BitrixAPIResponse(Generic[T]):
    """One method's answer: ``result`` plus ``time``, and ``total``/``next`` on list methods."""

    result: T
    time: BitrixTimeResponse = field(default_factory=BitrixTimeResponse)
    total: int | None = None
    next: int | None = None

    @classmethod
    def from_envelope(cls, envelope: Mapping[str, Any]) -> BitrixAPIResponse[Any]:
        return BitrixAPIResponse(
            result=envelope.get("result"),
            time=BitrixTimeResponse.from_dict(envelope.get("time")),
            total=_int(envelope.get("total")),
            next=_int(envelope.get("next")),
        )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def keyed(section: Any) -> dict[str, Any]:
    """A batch section as a dict keyed by command key (PHP sends a list for keys 0..n-1, ``[]`` if empty)."""
    if isinstance(section, Mapping):
        return {str(k): v for k, v in section.items()}
    if isinstance(section, list):
        return {str(i): v for i, v in enumerate(section)}
    return {}


def command_error(key: Any, error: Any) -> BitrixAPIError:
    """The exception for one failed batch command (per-command errors carry no HTTP status)."""
    if isinstance(error, Mapping):
        code, text = error.get("error"), error.get("error_description")
    else:
        code, text = str(error), None
    code_text = str(code) if code is not None else None
    status = api_error_class(code_text, 400).STATUS_CODE or 400  # the status the code stands for
    return api_error(
        code_text, str(text) if text is not None else None, status, context=f"batch command {key!r}"
    )


K = TypeVar("K")


@dataclass(frozen=True)
class BitrixAPIBatchResult(Generic[K]):
    """Per-command sections of a batch answer, keyed as the caller keyed its commands.

    For dict input the sections are dicts keyed by the caller's keys. For list input ``result`` is a
    list in input order (None where the command failed or did not run) and the other sections are
    dicts keyed by the command's index. ``not_run`` lists keys that have neither a result nor an error
    (``halt`` stopped the batch before them).
    """

    result: Any
    result_error: dict[K, Any]
    result_total: dict[K, int]
    result_next: dict[K, int]
    result_time: dict[K, BitrixTimeResponse]
    not_run: tuple[K, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.result_error and not self.not_run

    def errors(self) -> dict[K, BitrixAPIError]:
        """Each failed command's exception, by key."""
        return {key: command_error(key, err) for key, err in self.result_error.items()}

    def raise_for_errors(self) -> None:
        """Raise the first failed command's error (the others are in ``result_error``)."""
        for key, err in self.result_error.items():
            raise command_error(key, err)

    def items(self) -> Iterator[tuple[K, Any]]:
        """(key, result) of every command that succeeded."""
        if isinstance(self.result, list):
            for index, value in enumerate(self.result):
                if index not in self.result_error and index not in self.not_run:
                    yield index, value  # type: ignore[misc]
        else:
            yield from self.result.items()


@dataclass(frozen=True)
class BitrixAPIBatchResponse(Generic[K]):
    """A batch call's answer: per-command ``result`` sections and the outer ``time``
    (for several physical batches, ``time`` is the last one's and ``times`` has every one)."""

    result: BitrixAPIBatchResult[K]
    time: BitrixTimeResponse = field(default_factory=BitrixTimeResponse)
    times: tuple[BitrixTimeResponse, ...] = ()


@dataclass(frozen=True)
class BitrixAPIListResponse:
    """What ``as_list`` read: every row (unwrapped from ``items``/``types``...) and the server's total."""

    result: list[Any]
    total: int | None = None
    time: BitrixTimeResponse = field(default_factory=BitrixTimeResponse)


__all__ = [
    "BitrixAPIBatchResponse",
    "BitrixAPIBatchResult",
    "BitrixAPIListResponse",
    "BitrixAPIResponse",
    "BitrixTimeResponse",
    "command_error",
    "keyed",
]
