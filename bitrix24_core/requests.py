"""Lazy requests: building one sends nothing; ``.response`` / ``.result`` send it once and cache the
answer; ``.call()`` sends it again. The same object can go into ``client.call_batch``."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .credentials import AbstractCredentials
from .entities import Entity, entity_for_method
from .responses import BitrixAPIListResponse, BitrixAPIResponse
from .transport import CallOptions

if TYPE_CHECKING:
    from .lists import IdRange, RangeRows


class BitrixAPIRequest:
    """One REST call, not yet sent. ``entity``/``verb`` say which table row it came from (if any)."""

    def __init__(
        self,
        credentials: AbstractCredentials,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        options: CallOptions | None = None,
        entity: Entity | None = None,
        verb: str | None = None,
    ) -> None:
        self._credentials = credentials
        self._method = method.lower()
        self._params: dict[str, Any] = dict(params or {})
        self._options = options
        if entity is None:
            found = entity_for_method(self._method)
            if found is not None:
                entity, verb = found
        self._entity = entity
        self._verb = verb
        self._lock = threading.Lock()
        self._response: BitrixAPIResponse[Any] | None = None

    @property
    def method(self) -> str:
        return self._method

    @property
    def params(self) -> dict[str, Any]:
        """A copy of the parameters as they will be sent."""
        return dict(self._params)

    @property
    def options(self) -> CallOptions | None:
        return self._options

    @property
    def credentials(self) -> AbstractCredentials:
        return self._credentials

    @property
    def entity(self) -> Entity | None:
        return self._entity

    def call(self) -> BitrixAPIResponse[Any]:
        """Send the request (again) and cache the new answer."""
        envelope = self._credentials.call(self._method, self._params, options=self._options)
        response = BitrixAPIResponse.from_envelope(envelope)
        self._response = response
        return response

    @property
    def response(self) -> BitrixAPIResponse[Any]:
        """The answer, sent on first access only (thread-safe: one send however many readers)."""
        if self._response is None:
            with self._lock:
                if self._response is None:
                    return self.call()
        assert self._response is not None
        return self._response

    @property
    def result(self) -> Any:
        return self.response.result

    def as_list(self, limit: int | None = None) -> BitrixAPIListRequest:
        """Every page of this list request (start=0, 50, ...; the pages after the first in batches)."""
        return BitrixAPIListRequest(self, limit=limit)

    def as_list_fast(
        self,
        descending: bool = False,
        limit: int | None = None,
        *,
        parallel: int | None = None,
        id_ranges: list[IdRange] | None = None,
    ) -> BitrixAPIListFastRequest:
        """A streaming read by ID cursor chained inside batches (see ``lists.py``).

        ``parallel=K`` splits the ID range into K disjoint ranges read by K threads (rows then come in
        per-range order); ``id_ranges`` gives those ranges explicitly.
        """
        return BitrixAPIListFastRequest(
            self, descending=descending, limit=limit, parallel=parallel, id_ranges=id_ranges
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(method={self._method!r}, params={_short(self._params)})"


def _short(params: Mapping[str, Any]) -> str:
    text = repr(dict(params))
    return text if len(text) <= 200 else text[:197] + "..."


class BitrixAPIListRequest:
    """``as_list``: ``.result`` is the list of every row (sent once, cached); iterating streams pages
    without keeping them."""

    def __init__(self, request: BitrixAPIRequest, *, limit: int | None = None) -> None:
        self._request = request
        self._limit = _check_limit(limit)
        self._response: BitrixAPIListResponse | None = None

    def __iter__(self) -> Iterator[Any]:
        from .lists import iter_list

        return iter_list(self._request, limit=self._limit)

    def call(self) -> BitrixAPIListResponse:
        from .lists import read_list

        self._response = read_list(self._request, limit=self._limit)
        return self._response

    @property
    def response(self) -> BitrixAPIListResponse:
        return self._response if self._response is not None else self.call()

    @property
    def result(self) -> list[Any]:
        return self.response.result

    def __repr__(self) -> str:
        return f"BitrixAPIListRequest({self._request!r}, limit={self._limit})"


class BitrixAPIListFastResponse:
    """``as_list_fast``'s answer: ``result`` is a generator that sends as it is consumed."""

    def __init__(self, result: Iterator[Any]) -> None:
        self.result = result


class BitrixAPIListFastRequest:
    """``as_list_fast``: ``.result`` is a generator of rows that fetches as it is consumed; nothing holds
    the whole table. Each access to ``.result`` (or ``iter()``) starts a new traversal."""

    def __init__(
        self,
        request: BitrixAPIRequest,
        *,
        descending: bool = False,
        limit: int | None = None,
        parallel: int | None = None,
        id_ranges: list[IdRange] | None = None,
    ) -> None:
        self._request = request
        self._descending = descending
        self._limit = _check_limit(limit)
        self._parallel = parallel
        self._id_ranges = id_ranges

    def __iter__(self) -> Iterator[Any]:
        from .lists import iter_fast

        if self._parallel is not None or self._id_ranges is not None:
            return self._parallel_rows()
        return iter_fast(self._request, descending=self._descending, limit=self._limit)

    def _parallel_rows(self) -> Iterator[Any]:
        if self._limit == 0:
            return
        pages = self.pages()
        emitted = 0
        try:
            for _, rows in pages:
                for row in rows:
                    yield row
                    emitted += 1
                    if self._limit is not None and emitted >= self._limit:
                        return
        finally:
            pages.close()  # stops the reader threads at once

    def pages(self) -> Generator[RangeRows, None, None]:
        """Parallel mode: (range, rows of one command) as they arrive, so a caller can keep one cursor
        per range. Sequential mode yields one range covering everything."""
        from .lists import iter_ranges

        return iter_ranges(
            self._request,
            parallel=self._parallel or len(self._id_ranges or ()) or 1,
            descending=self._descending,
            id_ranges=self._id_ranges,
        )

    def call(self) -> BitrixAPIListFastResponse:
        return BitrixAPIListFastResponse(iter(self))

    @property
    def response(self) -> BitrixAPIListFastResponse:
        return self.call()

    @property
    def result(self) -> Iterator[Any]:
        return iter(self)

    def __repr__(self) -> str:
        return (
            f"BitrixAPIListFastRequest({self._request!r}, descending={self._descending}, "
            f"limit={self._limit}, parallel={self._parallel})"
        )


def _check_limit(limit: int | None) -> int | None:
    from .error import BitrixValidationError

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise BitrixValidationError(f"limit must be a non-negative int or None, got {limit!r}")
    return limit


__all__ = [
    "BitrixAPIListFastRequest",
    "BitrixAPIListFastResponse",
    "BitrixAPIListRequest",
    "BitrixAPIRequest",
]
