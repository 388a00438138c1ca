"""List strategies: every page of a list (``as_list``) and the streaming ID-cursor read (``as_list_fast``).

The fast read follows the documented export recipe (docs settings/performance/huge-data.md): order by
ID, ``start=-1`` (no COUNT), filter ``>ID`` = the last ID seen. Inside one ``batch`` the pages are
chained: command k filters ``>ID`` on ``$result[k-1][49][ID]`` (crm.item: ``$result[k-1][items][49][id]``),
so one HTTP call returns up to 50 x 50 rows. The pitfalls other SDKs fell into, and what is done here:

- A reference past the end of a short page resolves, on the real server, to the deepest node that
  exists (the whole page): that command's filter is junk. So a page shorter than 50 ends the read and
  the results of every later command are dropped unread (their errors too).
- Junk commands still cost server time, so each batch holds only as many commands as the ID span left
  can fill: the first request carries a cheap ID-only probe of the far end of the range, and a batch
  never has more pages than ``ceil((end - cursor) / 50)``. On dense IDs no junk command is ever sent.
- Every command's error raises (``halt=1``, so the server stops there): never a short read. The one
  exception is OPERATION_TIME_LIMIT when the client paces operating time: that command was refused
  before it ran, so the chain is resent from the cursor once the transport lets it through.
- Rows must come strictly beyond the cursor; a row that does not is an error, never emitted twice.
- Descending reads use ``<ID`` and ``order DESC``: the cursor excludes the last row, no duplicates.

The user's filter and select are kept (``ID`` is added to a select that lacks it); the user's own
``>ID``/``>=ID``/``<ID``/``<=ID`` bounds are folded into the cursor's start and the range's end, so the
tap can resume a read after a stored ID. ``user.get`` takes ``FILTER`` and ``sort``/``order``;
``department.get`` cannot filter by ``>ID`` nor skip the count, so it (and the unpaged directories:
statuses, currencies, categories) falls back to pages ordered by ID, still streamed.

Parallel mode (``iter_ranges``): the opening batch carries the far-end probe and 49 chained pages; what
is left is split into at most K disjoint ranges (no more than the estimated full batches left), read
concurrently by K threads, each chaining full batches while it has 50 pages left; then the ranges' tails
are packed together, several chains per batch, so no range ends with its own part-empty request. Rows
arrive per range (ordered inside a range, interleaved between ranges). Given ``id_ranges`` (the tap's
per-reader cursors) are each read by their own chain. A bounded queue keeps memory flat.
``SplitRead`` is that split read telling what its opening batch learnt (the portal's time, the far-end
ID), so a caller needs no probe of its own.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .batch import MAX_COMMANDS, RawBatch, send_batch
from .encoding import encode_query
from .entities import Entity, ListSyntax
from .error import BitrixAPIOperationTimeLimit, BitrixSDKException, BitrixValidationError
from .responses import BitrixAPIListResponse, BitrixAPIResponse, BitrixTimeResponse, command_error
from .transport import CallOptions

if TYPE_CHECKING:
    from .requests import BitrixAPIRequest

PAGE = 50
T = TypeVar("T")

IdRange = tuple[int, int]  # inclusive (lowest ID, highest ID)
RangeRows = tuple["IdRange | None", list[Any]]


class BitrixListError(BitrixSDKException):
    """A list answer that breaks the read's invariants (rows out of cursor order, wrong shape)."""


# --- shared helpers -----------------------------------------------------------------------------


def _find(params: Mapping[str, Any], name: str | None) -> str | None:
    """The key in ``params`` matching ``name`` case-insensitively (``FILTER`` vs ``filter``)."""
    if name is None:
        return None
    for key in params:
        if key.lower() == name.lower():
            return key
    return None


def _pop(params: dict[str, Any], name: str | None) -> Any:
    key = _find(params, name)
    return params.pop(key) if key is not None else None


def _entity_of(request: BitrixAPIRequest) -> Entity:
    """The table row for the request, or a legacy-shaped row for a list method not in the table."""
    entity = request.entity
    if entity is not None and entity.list_method is not None:
        if entity.list_wire_method != request.method:
            raise BitrixValidationError(
                f"{request.method} is not a list method; {entity.path} lists with {entity.list_wire_method}"
            )
        return entity
    prefix, _, verb = request.method.rpartition(".")
    if verb != "list":
        raise BitrixValidationError(f"{request.method} is not a list method known to the SDK")
    return Entity(prefix, {}, list_method="list")


def rows_of(entity: Entity, result: Any, where: str) -> list[Any]:
    """The rows of one list answer, unwrapped from ``items``/``types``/... ."""
    if entity.list_wrapper and isinstance(result, Mapping) and result:
        if entity.list_wrapper not in result:  # e.g. {"item": ...}: not a page, and not an empty one
            keys = ", ".join(sorted(map(str, result))[:5])
            raise BitrixListError(f"{where}: expected rows under {entity.list_wrapper!r}, got keys {keys}")
        result = result[entity.list_wrapper]
    elif isinstance(result, Mapping) and len(result) == 1 and isinstance(next(iter(result.values())), list):
        result = next(iter(result.values()))  # a method outside the table, e.g. {"tasks": [...]}
    if isinstance(result, Mapping) and not result:
        return []  # PHP sends an empty list as [] or {}
    if not isinstance(result, list):
        raise BitrixListError(f"{where}: expected a list of rows, got {type(result).__name__}")
    return result


def _command_rows(entity: Entity, raw: RawBatch, key: str) -> list[Any]:
    if key in raw.result_error:
        raise command_error(key, raw.result_error[key])
    if key not in raw.result:
        raise BitrixListError(f"batch command {key!r} returned neither a result nor an error")
    return rows_of(entity, raw.result[key], f"batch command {key!r}")


def _row_id(entity: Entity, row: Any) -> int:
    try:
        return int(row[entity.id_key])
    except (KeyError, TypeError, ValueError):
        raise BitrixListError(f"row without an integer {entity.id_key}: {str(row)[:120]}") from None


# --- as_list: offset pages ----------------------------------------------------------------------


class _PageReader:
    """Offset paging: the first page by a plain call (for ``total``), the rest in batches.
    ``descending`` None keeps the user's order (ID ascending when none is given); else forces ID order."""

    def __init__(self, request: BitrixAPIRequest, limit: int | None, descending: bool | None = None) -> None:
        self.request = request
        self.limit = limit
        self.descending = descending
        self.entity = _entity_of(request)
        self.total: int | None = None
        self.time: BitrixTimeResponse | None = None
        self._next: int | None = None

    def params(self) -> dict[str, Any]:
        syntax = self.entity.list_syntax
        params = dict(self.request.params)
        if self.descending is not None or not _has_order(params, syntax):
            _set_order(params, syntax, self.entity.id_key, bool(self.descending))
        return params

    def __iter__(self) -> Iterator[Any]:
        if self.limit == 0:
            return
        syntax = self.entity.list_syntax
        params = self.params()
        emitted = 0
        if syntax.start is None:
            rows = self._first(params)
            if self.descending is not None and self.entity.id_key and not _has_order_param(syntax):
                rows = sorted(rows, key=lambda r: _row_id(self.entity, r), reverse=self.descending)
            yield from rows[: self.limit] if self.limit is not None else rows
            return
        start_key = _find(params, syntax.start) or syntax.start
        start = _int_or(params.get(start_key), 0)
        params[start_key] = max(start, 0)
        first = self._first(params)
        yield from first[: self.limit] if self.limit is not None else first
        emitted = len(first)
        next_start = self._next
        while next_start is not None and (self.limit is None or emitted < self.limit):
            starts = self._starts(next_start, emitted)
            if not starts:
                return
            raw = send_batch(
                self.request.credentials,
                {
                    str(k): _command(self.request.method, {**params, start_key: s})
                    for k, s in enumerate(starts)
                },
                options=self.request.options,
            )
            for k in range(len(starts)):
                rows = _command_rows(self.entity, raw, str(k))
                if self.limit is not None:
                    rows = rows[: self.limit - emitted]
                yield from rows
                emitted += len(rows)
            next_start = starts[-1] + PAGE

    def _first(self, params: dict[str, Any]) -> list[Any]:
        envelope = self.request.credentials.call(self.request.method, params, options=self.request.options)
        response = BitrixAPIResponse.from_envelope(envelope)
        self.total, self._next, self.time = response.total, response.next, response.time
        return rows_of(self.entity, response.result, self.request.method)

    def _starts(self, next_start: int, emitted: int) -> list[int]:
        """Offsets of the next batch: up to 50 pages, no further than total and the limit need."""
        end = self.total if self.total is not None else next_start + PAGE
        if self.limit is not None:
            end = min(end, next_start + (self.limit - emitted))
        return list(range(next_start, end, PAGE))[:MAX_COMMANDS]


def _has_order(params: Mapping[str, Any], syntax: ListSyntax) -> bool:
    name = "sort" if syntax.order == "sort" else "order"
    return _find(params, name) is not None


def _has_order_param(syntax: ListSyntax) -> bool:
    return syntax.order != "none"


def _set_order(params: dict[str, Any], syntax: ListSyntax, id_key: str | None, descending: bool) -> None:
    if id_key is None or syntax.order == "none":
        return
    direction = "DESC" if descending else "ASC"
    _pop(params, "order")
    if syntax.order == "sort":
        _pop(params, "sort")
        params["sort"] = id_key
        params["order"] = direction
    else:
        params["order"] = {id_key: direction}


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _command(method: str, params: Mapping[str, Any]) -> str:
    query = encode_query(params)
    return f"{method}?{query}" if query else method


def iter_list(request: BitrixAPIRequest, limit: int | None = None) -> Iterator[Any]:
    """Rows of every page (start=0, 50, ...), streamed."""
    return iter(_PageReader(request, limit))


def read_list(request: BitrixAPIRequest, limit: int | None = None) -> BitrixAPIListResponse:
    """``as_list().response``: every row in one list, with the server's ``total``."""
    reader = _PageReader(request, limit)
    rows = list(reader)
    return BitrixAPIListResponse(result=rows, total=reader.total, time=reader.time or BitrixTimeResponse())


# --- as_list_fast: chained ID cursor ------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Everything a fast read sends, minus the cursor: the user's params split by role."""

    request: BitrixAPIRequest
    entity: Entity
    params: dict[str, Any]  # params other than filter/order/select/start
    filter: dict[str, Any]  # the user's filter without its ID bounds
    select: list[Any] | None
    lower: int | None  # exclusive lower ID bound from the user's filter
    upper: int | None  # exclusive upper ID bound
    descending: bool

    def command(self, lower: Any, upper: Any, *, descending: bool, id_only: bool = False) -> str:
        entity, syntax = self.entity, self.entity.list_syntax
        params = dict(self.params)
        flt = dict(self.filter)
        if lower is not None:
            flt[f">{entity.id_key}"] = lower
        if upper is not None:
            flt[f"<{entity.id_key}"] = upper
        if flt:
            params[str(syntax.filter)] = flt
        _set_order(params, syntax, entity.id_key, descending)
        select = [entity.id_key] if id_only else self.select
        if syntax.select and select:
            params[syntax.select] = select
        params[str(syntax.start)] = -1
        return _command(self.request.method, params)

    def reference(self, key: int) -> str:
        """``$result[key][49][ID]``: the last row's ID of command ``key``'s page."""
        return f"$result[{key}]" + "".join(f"[{part}]" for part in self.entity.row_path(PAGE - 1))


def _plan(request: BitrixAPIRequest, descending: bool) -> _Plan:
    entity = _entity_of(request)
    syntax = entity.list_syntax
    params = dict(request.params)
    user_filter = _pop(params, syntax.filter) or {}
    if not isinstance(user_filter, Mapping):
        raise BitrixValidationError(f"filter must be a mapping, got {type(user_filter).__name__}")
    select = _pop(params, syntax.select)
    if select is not None:
        select = list(select) if not isinstance(select, str) else [select]
        if select and "*" not in select and entity.id_key not in select:
            select.append(entity.id_key)
    for name in ("order", "sort", syntax.start):
        _pop(params, name)
    rest, lower, upper = _split_bounds(dict(user_filter), str(entity.id_key))
    return _Plan(request, entity, params, rest, select or None, lower, upper, descending)


def _split_bounds(flt: dict[str, Any], id_key: str) -> tuple[dict[str, Any], int | None, int | None]:
    """Move the filter's ``>ID``/``>=ID``/``<ID``/``<=ID`` into exclusive integer bounds."""
    lower: int | None = None
    upper: int | None = None
    shifts = {">": (0, True), ">=": (-1, True), "<": (0, False), "<=": (1, False)}
    for op, (shift, is_lower) in shifts.items():
        key = f"{op}{id_key}"
        if key not in flt:
            continue
        value = flt.pop(key)
        try:
            bound = int(value) + shift
        except (TypeError, ValueError):
            raise BitrixValidationError(f"filter {key} must be an integer ID, got {value!r}") from None
        if is_lower:
            lower = bound if lower is None else max(lower, bound)
        else:
            upper = bound if upper is None else min(upper, bound)
    return flt, lower, upper


def _pages_for(cursor: int | None, end: int | None, descending: bool) -> int:
    """How many chained pages the ID span between the cursor and the known end can fill (1..50)."""
    if cursor is None or end is None:
        return MAX_COMMANDS
    span = cursor - end if descending else end - cursor
    return max(1, min(MAX_COMMANDS, math.ceil(span / PAGE)))


def _reached(cursor: int | None, end: int | None, descending: bool) -> bool:
    return cursor is not None and end is not None and (cursor <= end if descending else cursor >= end)


def _advance(plan: _Plan, rows: list[Any], cursor: int | None) -> int | None:
    """The cursor after ``rows``; every row must lie strictly beyond the previous one."""
    desc = plan.descending
    for row in rows:
        row_id = _row_id(plan.entity, row)
        if cursor is not None and (row_id >= cursor if desc else row_id <= cursor):
            raise BitrixListError(
                f"{plan.request.method}: row {plan.entity.id_key}={row_id} is not beyond the cursor "
                f"{cursor}; the server ignored the ID filter or order"
            )
        cursor = row_id
    return cursor


def _opening(plan: _Plan, lower: int | None, upper: int | None) -> tuple[int | None, list[Any]]:
    """The first request of a read: an ID-only probe of the far end and the first page, in one batch.
    Returns (the far end's ID or None, the first page's rows)."""
    desc = plan.descending
    commands = {
        "probe": plan.command(lower, upper, descending=not desc, id_only=True),
        "0": plan.command(lower, upper, descending=desc),
    }
    raw = send_batch(plan.request.credentials, commands, halt=True, options=plan.request.options)
    probe = _command_rows(plan.entity, raw, "probe")
    rows = _command_rows(plan.entity, raw, "0")
    _advance(plan, rows, upper if desc else lower)
    return (_row_id(plan.entity, probe[0]) if probe else None), rows


MAX_STALLS = 8  # resumes in a row without a new row before an OPERATION_TIME_LIMIT is raised (each
# waits for the window to drain; a few in a row happen when pacing and the portal clock drift apart)


def _paced(plan: _Plan) -> bool:
    return (plan.request.options or CallOptions()).resolve().operating_limit is not False


def _resumable(plan: _Plan, send: Callable[[], T]) -> T:
    """``send()``, repeated after OPERATION_TIME_LIMIT while the client paces operating time."""
    for attempt in range(MAX_STALLS):
        try:
            return send()
        except BitrixAPIOperationTimeLimit:
            if not _paced(plan) or attempt == MAX_STALLS - 1:
                raise
    raise AssertionError("unreachable")


def _chain(plan: _Plan, lower: int | None, upper: int | None, end: int | None) -> Iterator[list[Any]]:
    """Pages (lists of rows) of one ID range, in cursor order. ``end``: the extreme ID (max when
    ascending) if known; else the first request probes it next to the first page.

    A command refused with OPERATION_TIME_LIMIT (refused before it ran, so safe to repeat) is resent
    from the cursor when the client paces operating time: the transport then holds the batch until the
    window frees. Every other command error raises."""
    desc = plan.descending
    cursor = upper if desc else lower
    opened = end is not None
    paced = _paced(plan)
    stalls = 0
    while True:
        if cursor is not None:
            lower, upper = (lower, cursor) if desc else (cursor, upper)
        before = cursor
        try:
            if not opened:
                end, rows = _opening(plan, lower, upper)
                opened = True
                cursor = _advance(plan, rows, cursor)
                if rows:
                    yield rows
                if len(rows) < PAGE:
                    return
                continue
            if _reached(cursor, end, desc):
                return
            pages = _pages_for(cursor, end, desc)
            commands: dict[str, str] = {}
            for k in range(pages):
                ref: Any = cursor if k == 0 else plan.reference(k - 1)
                commands[str(k)] = (
                    plan.command(lower, ref, descending=True)
                    if desc
                    else plan.command(ref, upper, descending=False)
                )
            raw = send_batch(plan.request.credentials, commands, halt=True, options=plan.request.options)
            for k in range(pages):
                rows = _command_rows(plan.entity, raw, str(k))
                cursor = _advance(plan, rows, cursor)
                if rows:
                    yield rows
                if len(rows) < PAGE:
                    return  # a short page is the end; later commands' filters were junk
                if _reached(cursor, end, desc):
                    return
        except BitrixAPIOperationTimeLimit:
            stalls = 0 if cursor != before else stalls + 1
            if not paced or stalls >= MAX_STALLS:
                raise


def _fallback_reader(request: BitrixAPIRequest, descending: bool, limit: int | None) -> _PageReader:
    return _PageReader(request, limit, descending=descending)


def iter_fast(request: BitrixAPIRequest, descending: bool = False, limit: int | None = None) -> Iterator[Any]:
    """``as_list_fast``: rows streamed by chained ID cursor (see the module text)."""
    if limit == 0:
        return
    entity = _entity_of(request)
    if not entity.fast_list:
        yield from _fallback_reader(request, descending, limit)
        return
    plan = _plan(request, descending)
    emitted = 0
    for rows in _chain(plan, plan.lower, plan.upper, None):
        for row in rows:
            yield row
            emitted += 1
            if limit is not None and emitted >= limit:
                return


def split_range(low: int, high: int, parts: int) -> list[IdRange]:
    """[low, high] cut into at most ``parts`` disjoint inclusive ranges of near-equal width."""
    if parts < 1:
        raise BitrixValidationError(f"parallel must be at least 1, got {parts}")
    width = max(1, math.ceil((high - low + 1) / parts))
    return [(start, min(high, start + width - 1)) for start in range(low, high + 1, width)]


def iter_ranges(
    request: BitrixAPIRequest,
    *,
    parallel: int = 1,
    descending: bool = False,
    id_ranges: list[IdRange] | None = None,
) -> Generator[RangeRows, None, None]:
    """(range, rows of one page) from K ranges read by K threads; ranges from ``id_ranges`` or from
    splitting what is left after the opening batch (whose own range comes first). Entities without an ID
    cursor yield (None, page) sequentially."""
    entity = _entity_of(request)
    if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
        raise BitrixValidationError(f"parallel must be a positive int, got {parallel!r}")
    if not entity.fast_list:
        for row in _fallback_reader(request, descending, None):
            yield None, [row]
        return
    plan = _plan(request, descending)
    if id_ranges is not None:
        yield from _given_ranges(plan, id_ranges, parallel)
        return
    yield from _split_read(plan, parallel)


# --- parallel read of given ranges (the tap's per-reader cursors) ---------------------------------


def _given_ranges(plan: _Plan, id_ranges: list[IdRange], parallel: int) -> Iterator[RangeRows]:
    jobs = [_range_job(plan, r) for r in id_ranges]
    if plan.descending:
        jobs.reverse()
    if len(jobs) == 1 or parallel == 1:
        for id_range, lower, upper, end in jobs:
            for rows in _chain(plan, lower, upper, end):
                yield id_range, rows
        return

    def task(job: tuple[IdRange, int | None, int | None, int]) -> Callable[[_Put], None]:
        def run(put: _Put) -> None:
            id_range, lower, upper, end = job
            for rows in _chain(plan, lower, upper, end):
                if not put((id_range, rows)):
                    return

        return run

    yield from _run_tasks([task(job) for job in jobs], parallel)


def _range_job(plan: _Plan, id_range: IdRange) -> tuple[IdRange, int, int, int]:
    low, high = int(id_range[0]), int(id_range[1])
    if low > high:
        raise BitrixValidationError(f"ID range {id_range} is empty (low > high)")
    lower = low - 1 if plan.lower is None else max(low - 1, plan.lower)
    upper = high + 1 if plan.upper is None else min(high + 1, plan.upper)
    return (low, high), lower, upper, (low if plan.descending else high)


# --- parallel read of a split span: full batches per range, then the ranges' tails packed together ---

OPEN_PAGES = MAX_COMMANDS - 1  # the opening batch: the far-end probe and 49 chained pages
TAIL_SLACK = 1.04  # a tail's commands: its estimated pages x this + 1 (an exactly full last page)
LOCAL_ROWS = 1000  # rows a range must have read before its own density replaces the opening's


@dataclass
class _Range:
    """One ID range of a split read: fixed exclusive bounds, a cursor, and what it has read."""

    label: IdRange
    lower: int  # exclusive
    upper: int  # exclusive
    cursor: int
    density: float  # rows per ID, from the opening until the range has read enough of its own
    descending: bool
    rows: int = 0
    done: bool = False
    stalls: int = 0

    def __post_init__(self) -> None:
        self.start = self.cursor

    def left_ids(self) -> int:
        """IDs strictly between the cursor and the far bound."""
        far = self.lower if self.descending else self.upper
        return max(0, abs(far - self.cursor) - 1)

    def estimated_pages(self) -> float:
        covered = abs(self.cursor - self.start)
        density = self.rows / covered if self.rows >= LOCAL_ROWS and covered else self.density
        return self.left_ids() * density / PAGE

    def tail_commands(self) -> int:
        """Commands for the rest of the range: estimate + slack, never more than the ID span can fill."""
        wanted = _tail_size(self.estimated_pages())
        return max(1, min(MAX_COMMANDS, wanted, math.ceil(self.left_ids() / PAGE)))

    def end(self) -> int:
        return self.lower + 1 if self.descending else self.upper - 1


def _tail_size(pages: float) -> int:
    return math.ceil(pages * TAIL_SLACK) + 1


def _range_count(pages: float, parallel: int) -> int:
    """How many ranges to split ``pages`` (estimated) into: the most ranges (the shortest wall time) whose
    full batches and packed tails would take no more requests than the fewest possible, give or take 5%
    (the estimate's own error: rows per ID are measured on the opening's 2,450 rows)."""

    def requests(ranges: int) -> int:
        left, full = pages / ranges, 0
        while _tail_size(left) >= MAX_COMMANDS:  # such a tail takes a batch of its own: a full one
            left -= MAX_COMMANDS
            full += 1
        tail = _tail_size(left) if left > 0 else 0
        return ranges * full + (math.ceil(ranges / (MAX_COMMANDS // tail)) if tail else 0)

    cost = {ranges: requests(ranges) for ranges in range(1, parallel + 1)}
    fewest = min(cost.values())
    return max(ranges for ranges, n in cost.items() if n <= fewest + fewest // 20)


def _chained(
    plan: _Plan, cursor: int | None, lower: int | None, upper: int | None, count: int, first: int
) -> dict[str, str]:
    """``count`` chained page commands keyed ``first``, ``first + 1``, ...: the first starts at the cursor,
    each later one just beyond the last row of the one before."""
    commands: dict[str, str] = {}
    for k in range(count):
        ref: Any = cursor if k == 0 else plan.reference(first + k - 1)
        commands[str(first + k)] = (
            plan.command(lower, ref, descending=True)
            if plan.descending
            else plan.command(ref, upper, descending=False)
        )
    return commands


_Opened = Callable[[BitrixTimeResponse, "int | None"], None]


def _open_wide(plan: _Plan, opened: _Opened | None = None) -> tuple[int | None, list[list[Any]], bool]:
    """The opening batch: an ID-only probe of the far end and 49 chained pages from the near end (their
    far bound is the user's, if any, as the probe's answer comes in the same batch).
    Returns (the far end's ID or None, the pages read, whether the read is complete). A page refused with
    OPERATION_TIME_LIMIT while pacing ends the opening early: the split ranges read the rest."""
    desc, lower, upper = plan.descending, plan.lower, plan.upper
    cursor = upper if desc else lower
    commands = {"probe": plan.command(lower, upper, descending=not desc, id_only=True)}
    commands.update(_chained(plan, cursor, lower, upper, OPEN_PAGES, 0))
    raw = send_batch(plan.request.credentials, commands, halt=True, options=plan.request.options)
    probe = _command_rows(plan.entity, raw, "probe")
    end = _row_id(plan.entity, probe[0]) if probe else None
    if opened is not None:
        opened(raw.time, end)
    pages: list[list[Any]] = []
    for k in range(OPEN_PAGES):
        try:
            rows = _command_rows(plan.entity, raw, str(k))
        except BitrixAPIOperationTimeLimit:
            if not pages or not _paced(plan):
                raise  # nothing read yet: the whole opening is resent (or, unpaced, the read fails)
            return end, pages, False
        cursor = _advance(plan, rows, cursor)
        if rows:
            pages.append(rows)
        if len(rows) < PAGE or _reached(cursor, end, desc):
            return end, pages, True
    return end, pages, False


def _split_read(plan: _Plan, parallel: int, opened: _Opened | None = None) -> Iterator[RangeRows]:
    """The opening batch, then what is left split into at most K ranges (no more than there are full
    batches to fill): each range chains full batches on its own thread while it has 50 pages left, then
    the ranges' tails are packed into shared batches, several chains per batch, so each range does not
    end with its own part-empty request."""
    desc = plan.descending
    end, pages, finished = _resumable(plan, lambda: _open_wide(plan, opened))
    if not pages:
        return
    first, last = _row_id(plan.entity, pages[0][0]), _row_id(plan.entity, pages[-1][-1])
    for rows in pages:
        yield (min(first, last), max(first, last)), rows
    if finished or end is None:
        return
    density = sum(len(rows) for rows in pages) / (abs(last - first) + 1)
    low, high = (end, last - 1) if desc else (last + 1, end)
    if high < low:
        return
    count = _range_count((high - low + 1) * density / PAGE, parallel)
    ranges = [
        _Range((lo, hi), lower, upper, upper if desc else lower, density, desc)
        for (lo, hi), lower, upper, _ in (_range_job(plan, r) for r in split_range(low, high, count))
    ]
    if desc:
        ranges.reverse()
    yield from _run_tasks([_full_batches(plan, r) for r in ranges], parallel)
    while tails := [r for r in ranges if not r.done]:
        bins = _pack([(r, r.tail_commands()) for r in tails])
        yield from _run_tasks([_send_task(plan, chains) for chains in bins], parallel)


def _full_batches(plan: _Plan, rng: _Range) -> Callable[[_Put], None]:
    def run(put: _Put) -> None:
        while not rng.done and rng.tail_commands() >= MAX_COMMANDS:  # as well a full batch
            count = min(MAX_COMMANDS, math.ceil(rng.left_ids() / PAGE))
            if not _send_chains(plan, [(rng, count)], put):
                return

    return run


def _send_task(plan: _Plan, chains: list[tuple[_Range, int]]) -> Callable[[_Put], None]:
    def run(put: _Put) -> None:
        _send_chains(plan, chains, put)

    return run


def _pack(tails: list[tuple[_Range, int]]) -> list[list[tuple[_Range, int]]]:
    """First-fit decreasing: the tails' chains into as few 50-command batches as they fit. A chain that
    did not run last time (the server halted on an earlier chain's junk command) goes alone."""
    bins: list[list[tuple[_Range, int]]] = []
    room: list[int] = []
    for rng, count in sorted(tails, key=lambda t: -t[1]):
        for i, free in enumerate(room):
            if count <= free and not rng.stalls:
                bins[i].append((rng, count))
                room[i] -= count
                break
        else:
            bins.append([(rng, count)])
            room.append(0 if rng.stalls else MAX_COMMANDS - count)
    return bins


def _send_chains(plan: _Plan, chains: list[tuple[_Range, int]], put: _Put) -> bool:
    """One batch holding one chain per range; each range's cursor moves past its rows. A chain ends at
    its first short page (later commands' filters were junk) or at its range's end. A chain refused with
    OPERATION_TIME_LIMIT (while pacing) or not run because the server halted before it stays open for the
    next batch. False if the consumer has stopped."""
    commands: dict[str, str] = {}
    for rng, count in chains:
        commands.update(_chained(plan, rng.cursor, rng.lower, rng.upper, count, len(commands)))
    try:
        raw = send_batch(plan.request.credentials, commands, halt=True, options=plan.request.options)
    except BitrixAPIOperationTimeLimit as error:
        if not _paced(plan):
            raise
        for rng, _ in chains:
            _stalled(plan, rng, error)
        return True
    key = 0
    refused: BitrixAPIOperationTimeLimit | None = None
    for rng, count in chains:
        before = rng.cursor
        try:
            for k in range(key, key + count):
                name = str(k)
                if name not in raw.result and name not in raw.result_error:
                    break  # the server halted on an earlier chain's command: resent next time
                rows = _command_rows(plan.entity, raw, name)
                moved = _advance(plan, rows, rng.cursor)
                rng.cursor = rng.cursor if moved is None else moved
                rng.rows += len(rows)
                if rows and not put((rng.label, rows)):
                    return False
                if len(rows) < PAGE or _reached(rng.cursor, rng.end(), plan.descending):
                    rng.done = True
                    break
        except BitrixAPIOperationTimeLimit as error:
            if not _paced(plan):
                raise
            refused = error
        key += count
        if rng.cursor == before and not rng.done:
            _stalled(plan, rng, refused)
        else:
            rng.stalls = 0
    return True


def _stalled(plan: _Plan, rng: _Range, refused: BitrixAPIOperationTimeLimit | None) -> None:
    """A chain that read nothing: resent a few times (pacing holds it until the window frees), then the
    refusal (or, if the server halted before the chain ran, a list error) raises."""
    rng.stalls += 1
    if rng.stalls >= MAX_STALLS:
        if refused is not None:
            raise refused
        raise BitrixListError(
            f"{plan.request.method}: range {rng.label} made no progress in {MAX_STALLS} batches in a row"
        )


class SplitRead:
    """``as_list_fast(parallel=K).pages()`` that also tells what its opening batch learnt: iterating
    yields the same (range, rows) items; before the first is yielded (or, on an empty list, before the
    iteration ends) ``time`` holds the opening batch's time block (the portal's clock at the start of
    the read) and ``far_end`` the far-end ID its probe found (None: nothing matched). So a caller needs
    no probe of its own. Each iteration sends the read again and sets both anew."""

    def __init__(self, request: BitrixAPIRequest, *, parallel: int, descending: bool = False) -> None:
        if isinstance(parallel, bool) or not isinstance(parallel, int) or parallel < 1:
            raise BitrixValidationError(f"parallel must be a positive int, got {parallel!r}")
        if not _entity_of(request).fast_list:
            raise BitrixValidationError(f"{request.method} has no ID cursor: it cannot be split")
        self.request = request
        self.parallel = parallel
        self.descending = descending
        self.time: BitrixTimeResponse | None = None
        self.far_end: int | None = None

    def _opened(self, time: BitrixTimeResponse, far_end: int | None) -> None:
        self.time, self.far_end = time, far_end

    def __iter__(self) -> Iterator[RangeRows]:
        self.time, self.far_end = None, None
        return _split_read(_plan(self.request, self.descending), self.parallel, self._opened)


# --- threads ------------------------------------------------------------------------------------

_DONE = object()
_Put = Callable[[Any], bool]


def _run_tasks(tasks: list[Callable[[_Put], None]], parallel: int) -> Iterator[Any]:
    """Run the tasks on up to ``parallel`` threads; each hands items over through a bounded queue by
    ``put`` (False once the consumer has stopped); any error raises here and stops the other tasks."""
    # Small on purpose: each waiting reader already holds one decoded batch (2,500 rows); a deeper
    # queue would let every reader fetch a second one and double the peak memory.
    items: queue.Queue[Any] = queue.Queue(maxsize=2 * parallel)
    stop = threading.Event()
    todo: queue.Queue[Callable[[_Put], None]] = queue.Queue()
    for task in tasks:
        todo.put(task)

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        try:
            while not stop.is_set():
                try:
                    task = todo.get_nowait()
                except queue.Empty:
                    return
                task(put)
        except BaseException as error:  # handed to the consumer, which raises it
            put(error)
        finally:
            put(_DONE)

    threads = [
        threading.Thread(target=worker, name=f"bitrix24-range-{i}", daemon=True)
        for i in range(min(parallel, len(tasks)))
    ]
    for thread in threads:
        thread.start()
    running = len(threads)
    try:
        while running:
            item = items.get()
            if item is _DONE:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)


__all__ = [
    "PAGE",
    "BitrixListError",
    "IdRange",
    "RangeRows",
    "SplitRead",
    "iter_fast",
    "iter_list",
    "iter_ranges",
    "read_list",
    "rows_of",
    "split_range",
]
