"""The tap's one door to the portal, through bitrix24_core's public interface.

Builds the credentials from the settings, configures the core (timeout, rate limits, time scale),
counts requests for the progress log, takes "now" from the portal's clock, and reads lists: large
entities by the core's fast ID-cursor strategy (one cursor per reader range), directories whole.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import pendulum

from bitrix24_core import (
    AbstractCredentials,
    BitrixAPIBatchesRequest,
    BitrixAPIRequest,
    BitrixAPIResponse,
    Entity,
    entity,
)
from bitrix24_core.error import BitrixAPIMethodNotFound
from bitrix24_core.lists import SplitRead, rows_of
from bitrix24_core.responses import BitrixTimeResponse, command_error

from . import directory_fields
from .bookmarks import portal_filter_text
from .connection import auth_of, call_options, connect
from .errors import SettingError, reporting
from .prefetch import prefetch
from .readers import Reader
from .stream_specs import StreamSpec

ENTITY_PATHS = {
    "deal": "crm.deal",
    "lead": "crm.lead",
    "contact": "crm.contact",
    "company": "crm.company",
    "activity": "crm.activity",
    "item": "crm.item",
    "status": "crm.status",
    "category": "crm.category",
    "currency": "crm.currency",
    "user": "user",
    "department": "department",
}

# Pages (commands of up to 50 rows) read ahead of the writer: one chained batch and more, so the portal
# answers the next batch while the tap writes this one; at most 3,000 raw rows (~30 MB) held.
PREFETCH_PAGES = 60
T = TypeVar("T")


@dataclass(frozen=True)
class Probe:
    """What one cheap call tells before a read: the portal's time and the largest ID."""

    portal_now: dt.datetime
    max_id: int | None


class Portal:
    """Connection and reads for one tap run."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._connecting = threading.Lock()  # not _lock: connect() counts its request under _lock
        self._requests = 0
        self._tz: dt.tzinfo | None = None
        self._credentials: AbstractCredentials | None = None
        self.auth = auth_of(config)
        self.options = call_options(config)

    # ---- connection ------------------------------------------------------------------------
    @property
    def credentials(self) -> AbstractCredentials:
        """Built once, also when streams read ahead ask from several threads at once: an OAuth
        renewal rotates the refresh token, so a second concurrent renewal would be refused."""
        if self._credentials is None:
            with self._connecting:
                if self._credentials is None:
                    self._credentials = connect(self.config, self.auth, self.options, self._count)
        return self._credentials

    def _count(self) -> None:
        with self._lock:
            self._requests += 1

    def request_count(self) -> int:
        return self._requests

    def call(self, method: str, params: Mapping[str, Any], what: str) -> BitrixAPIResponse[Any]:
        """One call; setting-caused errors become SettingError naming the setting."""
        request = BitrixAPIRequest(self.credentials, method, params, options=self.options)
        with reporting(self.auth, what, method.split(".", 1)[0]):
            response = request.call()
        self._learn_timezone(response.time.date_start)
        return response

    # ---- portal clock ------------------------------------------------------------------------
    def _learn_timezone(self, date_start: str | None) -> None:
        if self._tz is None and date_start:
            moment = pendulum.parse(date_start)
            if isinstance(moment, dt.datetime) and moment.utcoffset() is not None:
                self._tz = dt.timezone(moment.utcoffset() or dt.timedelta(0))

    def timezone(self) -> dt.tzinfo:
        """The portal's UTC offset as seen in its answers (UTC until the first answer)."""
        return self._tz or dt.timezone.utc

    def _offset(self) -> dt.timedelta:
        return self.timezone().utcoffset(None) or dt.timedelta(0)

    @staticmethod
    def portal_time(response: BitrixAPIResponse[Any]) -> dt.datetime:
        """The portal's clock at the start of this call (time.date_start; time.start as a fallback)."""
        return Portal.clock_of(response.time)

    @staticmethod
    def clock_of(time: BitrixTimeResponse | None) -> dt.datetime:
        """The portal's clock in one answer's time block (date_start; start as a fallback)."""
        if time is not None and time.date_start:
            moment = pendulum.parse(time.date_start)
            if isinstance(moment, dt.datetime):
                return moment
        if time is not None and time.start is not None:
            return dt.datetime.fromtimestamp(time.start, dt.timezone.utc)
        raise SettingError("The portal's answer carries no time block: is this a Bitrix24 portal?")

    # ---- metadata --------------------------------------------------------------------------
    def smart_process_types(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start = 0
        while True:
            response = self.call(
                "crm.type.list", {"order": {"id": "ASC"}, "start": start}, "listing smart processes"
            )
            result = response.result or {}
            out.extend(result.get("types", []) if isinstance(result, Mapping) else result)
            if response.next is None:
                return out
            start = response.next

    def fields_of(self, specs: list[StreamSpec]) -> dict[str, dict[str, Any]]:
        """`*.fields` of every stream, {stream: {name: {type, title, ...}}}, in batch calls of 50."""
        requests = {spec.name: self._fields_request(spec) for spec in specs}
        with reporting(self.auth, "reading the fields of every stream", "crm"):
            answer = BitrixAPIBatchesRequest(self.credentials, requests, options=self.options).result
        out: dict[str, dict[str, Any]] = {}
        for spec in specs:
            error = answer.result_error.get(spec.name)
            if error is not None:
                out[spec.name] = self._fields_failed(spec, error)
            else:
                out[spec.name] = _typed_fields(spec, answer.result.get(spec.name))
        return out

    def _fields_request(self, spec: StreamSpec) -> BitrixAPIRequest:
        params = {} if spec.entity_type_id is None else {"entityTypeId": spec.entity_type_id}
        method = _entity(spec).wire_method("fields")
        return BitrixAPIRequest(self.credentials, method, params, options=self.options)

    def _fields_failed(self, spec: StreamSpec, error: Any) -> dict[str, Any]:
        failure = command_error(spec.name, error)
        if spec.entity == "category" and isinstance(failure, BitrixAPIMethodNotFound):
            return dict(directory_fields.CATEGORY_FIELDS)  # portals without crm.category.fields
        with reporting(self.auth, f"reading the fields of {spec.name}", _entity(spec).scope):
            raise failure
        raise AssertionError("unreachable")

    # ---- reads --------------------------------------------------------------------------------
    def _list_params(self, spec: StreamSpec) -> dict[str, Any]:
        return {"entityTypeId": spec.entity_type_id} if spec.is_item else {}

    def probe(self, spec: StreamSpec) -> Probe:
        """One cheap call before a read: the newest ID, and the portal time the read starts at."""
        ent = _entity(spec)
        params = {
            **self._list_params(spec),
            "select": [spec.key],
            "order": {spec.key: "DESC"},
            "start": -1,
        }
        response = self.call(str(ent.list_wire_method), params, f"reading {spec.name}")
        rows = _rows(response.result, ent)
        max_id = int(rows[0][spec.key]) if rows else None
        return Probe(portal_now=self.portal_time(response), max_id=max_id)

    def read_by_id(
        self,
        spec: StreamSpec,
        select: list[str],
        since: dt.datetime | None,
        readers: list[Reader],
        ahead_pages: int = PREFETCH_PAGES,
        split: int = 0,
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """(range key, rows of one command) in ascending ID order per range, through the core's fast
        strategy (start=-1, ID cursor chained in batches), `ahead_pages` read ahead. With `split` the
        one reader's span is split by the core among `split` readers (keys are the core's ranges);
        otherwise each reader's remaining range is read by its own chain (keys are the readers')."""
        ent = _entity(spec)
        filt: dict[str, Any] = {}
        if since is not None and spec.replication_key:
            filt[f">={spec.replication_key}"] = portal_filter_text(since, self._offset())
        todo = [r for r in readers if not r.done]
        if not todo:
            return
        if split:
            (whole,) = todo
            filt[f">={spec.key}"], filt[f"<={spec.key}"] = whole.remaining
        params = {**self._list_params(spec), "select": select, "filter": filt, "order": {spec.key: "ASC"}}
        request = BitrixAPIRequest(self.credentials, str(ent.list_wire_method), params, options=self.options)
        keys = {r.remaining: r.key for r in todo}
        if split:
            fast = request.as_list_fast(parallel=split)
        else:
            fast = request.as_list_fast(id_ranges=list(keys), parallel=len(todo))
        with reporting(self.auth, f"reading {spec.name}", ent.scope):
            for id_range, rows in prefetch(fast.pages(), ahead_pages, f"tap-bitrix24-{spec.name}"):
                yield _range_key(id_range, keys, todo[0].key, bool(split)), list(rows)

    def knows_timezone(self) -> bool:
        return self._tz is not None

    def read_split(
        self,
        spec: StreamSpec,
        select: list[str],
        since: dt.datetime | None,
        split: int,
        ahead_pages: int = PREFETCH_PAGES,
    ) -> tuple[Probe, Iterator[tuple[str, list[dict[str, Any]]]]]:
        """A fresh read of every ID from 0 split by the core among `split` readers, with no probe of
        its own: the core's opening batch (sent here, before returning) gives the portal time the read
        starts at and the largest ID. Returns that Probe and the pages (keys are the core's ranges)."""
        ent = _entity(spec)
        filt: dict[str, Any] = {f">={spec.key}": 0}
        if since is not None and spec.replication_key:
            filt[f">={spec.replication_key}"] = portal_filter_text(since, self._offset())
        params = {**self._list_params(spec), "select": select, "filter": filt, "order": {spec.key: "ASC"}}
        request = BitrixAPIRequest(self.credentials, str(ent.list_wire_method), params, options=self.options)
        read = SplitRead(request, parallel=split)
        pages = prefetch(iter(read), ahead_pages, f"tap-bitrix24-{spec.name}")
        with reporting(self.auth, f"reading {spec.name}", ent.scope):
            first = next(pages, None)
        if read.time is None:
            raise SettingError(f"The portal sent no answer to the opening read of {spec.name}.")
        self._learn_timezone(read.time.date_start)
        # The opening's own range may reach past the probe's far end (IDs created between the two).
        top = read.far_end if first is None or first[0] is None else max(first[0][1], read.far_end or 0)
        probe = Probe(portal_now=self.clock_of(read.time), max_id=top)
        return probe, self._split_pages(ent, spec, first, pages)

    def _split_pages(
        self,
        ent: Entity,
        spec: StreamSpec,
        first: tuple[Any, list[Any]] | None,
        pages: Iterator[tuple[Any, list[Any]]],
    ) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        if first is None:
            return
        with reporting(self.auth, f"reading {spec.name}", ent.scope):
            for id_range, rows in _chain_first(first, pages):
                yield _range_key(id_range, {}, "", True), list(rows)

    def read_directory(self, spec: StreamSpec) -> Iterator[dict[str, Any]]:
        ent = _entity(spec)
        params: dict[str, Any] = dict(self._list_params(spec))
        if spec.entity == "category":
            params["entityTypeId"] = spec.entity_type_id
        syntax = ent.list_syntax
        if syntax.order == "map" and spec.entity not in ("category",):
            params["order"] = {spec.key: "ASC"}
        elif syntax.order == "sort":
            params.update({"sort": spec.key, "order": "ASC"})
        what = f"reading {spec.name}"
        request = BitrixAPIRequest(self.credentials, str(ent.list_wire_method), params, options=self.options)
        with reporting(self.auth, what, ent.scope):
            if syntax.start is None:
                yield from _rows(request.call().result, ent)
            elif ent.fast_list:
                yield from request.as_list_fast()
            else:
                yield from request.as_list()


def _chain_first(first: T, rest: Iterator[T]) -> Iterator[T]:
    yield first
    yield from rest


def _range_key(id_range: Any, keys: dict[tuple[int, int], str], only: str, split: bool) -> str:
    if id_range is None:
        return only
    bounds = (int(id_range[0]), int(id_range[1]))
    return f"{bounds[0]}:{bounds[1]}" if split else keys[bounds]


def _typed_fields(spec: StreamSpec, result: Any) -> dict[str, Any]:
    """`*.fields` answers in one shape: {name: {type, title, ...}} (types added where missing)."""
    if isinstance(result, Mapping) and isinstance(result.get("fields"), Mapping):
        result = result["fields"]  # crm.item.fields / crm.category.fields wrap them
    if not isinstance(result, Mapping):
        raise SettingError(f"The portal answered the fields of {spec.name} with no field list.")
    if spec.entity == "user":
        return directory_fields.typed(result, directory_fields.USER_TYPES, directory_fields.USER_MULTIPLE)
    if spec.entity == "department":
        return directory_fields.typed(result, directory_fields.DEPARTMENT_TYPES)
    return directory_fields.typed(result, {})


def _entity(spec: StreamSpec) -> Entity:
    return entity(ENTITY_PATHS[spec.entity])


def _rows(result: Any, ent: Entity) -> list[dict[str, Any]]:
    # The core's unwrapping raises on an answer that is not a page, instead of reading it as empty.
    return rows_of(ent, result, ent.wire_method("list"))
