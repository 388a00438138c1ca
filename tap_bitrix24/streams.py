"""Stream classes: one for large entities read by ID cursor, one for small directories.

Both take their schema from discovery (or from the input catalog) and convert records to it. The
large-entity stream keeps its own bookmarks (see bookmarks.py) instead of the SDK's "largest
replication value seen", which would skip records changed while a sync runs.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from singer_sdk import singerlib as singer
from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.streams import Stream

from . import batches, bookmarks
from .batches import parquet_batches
from .portal import PREFETCH_PAGES, Probe
from .read_ahead import Page, ReadAhead
from .readers import Reader, claim_range, plan_readers
from .records import RecordConverter, ValueConversionError
from .stream_specs import StreamSpec

if TYPE_CHECKING:
    from singer_sdk.helpers import types
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig

    from .portal import Portal
    from .tap import TapBitrix24


@dataclass(frozen=True)
class ReadPlan:
    """One read of a large stream: what its sync and a read-ahead of it must agree on."""

    probe: Probe
    progress: bookmarks.ReadProgress
    since: dt.datetime | None
    readers: tuple[Reader, ...]
    select: tuple[str, ...]
    split: int = 0  # a fresh read: the core splits the one reader's span among this many readers


class BitrixStream(Stream):
    """A stream over one Bitrix24 entity; `spec` says what and how to read."""

    # RecordConverter already gives every value its schema type (and only schema keys): the SDK's
    # own pass would repeat that work per value, the largest cost of a big sync.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapBitrix24, spec: StreamSpec, schema: dict[str, Any]) -> None:
        self.spec = spec
        super().__init__(tap, schema=schema, name=spec.name)
        self.primary_keys = [spec.key]
        self.replication_key = spec.replication_key
        self._converter: RecordConverter | None = None
        self._prune_nested = True  # until the converter has looked at the selection
        self._withheld: dict[str, Any] | None = None  # see get_batches

    @property
    def portal(self) -> Portal:
        return self._tap.portal  # type: ignore[attr-defined,no-any-return]

    def converter(self) -> RecordConverter:
        """Converts only the selected properties, so records need no pruning afterwards."""
        if self._converter is None:
            names = {
                name
                for name in self.effective_schema.get("properties", {})
                if self.mask.get(("properties", name), True)
            }
            names.add(self.spec.key)  # the ID cursor needs it
            self._converter = RecordConverter(self.effective_schema, self.portal.timezone(), names)
            self._prune_nested = any(len(crumb) > 2 and not chosen for crumb, chosen in self.mask.items())
        return self._converter

    def selected_fields(self) -> list[str]:
        """Only selected properties go into `select`: server time grows with the fields asked for."""
        names = [
            name
            for name in self.effective_schema.get("properties", {})
            if self.mask.get(("properties", name), True)
        ]
        for must in (self.spec.key, self.spec.replication_key):
            if must and must not in names:
                names.insert(0, must)
        return names

    def post_process(self, row: types.Record, context: types.Context | None = None) -> types.Record | None:
        try:
            return self.converter()(row)
        except ValueConversionError as error:  # stop loudly, saying where: never drop the value
            key = self.spec.key
            raise ValueConversionError(
                f"Stream {self.name}, record {key}={row.get(key)}, {error}: the catalog's type of that "
                "field does not fit the portal's value (run discovery again if the field changed)."
            ) from None

    def _generate_record_messages(self, record: types.Record) -> Generator[singer.RecordMessage, None, None]:
        """The SDK's, minus its per-record walk that drops deselected properties: the converter
        emits only selected ones. A catalog deselecting a nested property keeps the SDK's walk."""
        if self._prune_nested:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield singer.RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    def get_batches(
        self, batch_config: BatchConfig, context: types.Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """Parquet batches written in file slices (see batches.py); other formats as the SDK does."""
        if batch_config.encoding.format != "parquet":
            yield from super().get_batches(batch_config, context)
            return
        # Records reach the cursors when they enter a file slice, before their BATCH message: the
        # read works on a copy of the state, copied into the live one (which singer-sdk also writes
        # on SIGTERM) only once a BATCH message covers it.
        self._withheld = copy.deepcopy(self.get_context_state(context))
        try:
            records = self._sync_records(context, write_messages=False)
            name = f"{self.tap_name}--{self.name}"
            for manifest in parquet_batches(records, batch_config, name, batches.FILE_ROWS):
                yield batch_config.encoding, manifest
            self._release_state(context)  # e.g. the final bookmark when the last batch was full
        finally:
            self._withheld = None

    def _write_batch_message(self, encoding: BaseBatchFileEncoding, manifest: list[str]) -> None:
        super()._write_batch_message(encoding, manifest)
        self._release_state(self.context)

    def _release_state(self, context: types.Context | None) -> None:
        """The withheld state covers the records announced so far: make it the live one."""
        if self._withheld is not None:
            live = self.get_context_state(context)
            live.clear()
            live.update(copy.deepcopy(self._withheld))

    def working_state(self, context: types.Context | None) -> dict[str, Any]:
        """The state the read moves: the live one, or the withheld copy while writing BATCH files."""
        return self._withheld if self._withheld is not None else self.get_context_state(context)

    @contextlib.contextmanager
    def _stopping_read_ahead_on_failure(self) -> Iterator[None]:
        """An error, or the records no longer wanted (GeneratorExit), ends the run: the streams
        read ahead for it are stopped and their spool files closed at once."""
        try:
            yield
        except BaseException:
            self._tap.stop_read_ahead()  # type: ignore[attr-defined]
            raise

    def get_replication_key_signpost(self, context: types.Context | None = None) -> None:
        """No signpost: the SDK's would come from the tap host's clock, not the portal's."""
        return None


class DirectoryStream(BitrixStream):
    """Small dictionaries (stages, pipelines, currencies, users, departments), read whole each run."""

    def get_records(self, context: types.Context | None) -> Iterable[dict[str, Any]]:
        with self._stopping_read_ahead_on_failure():
            yield from self._directory_records()

    def _directory_records(self) -> Iterator[dict[str, Any]]:
        self._tap.start_read_ahead(self)  # type: ignore[attr-defined]
        started = time.monotonic()
        count = 0
        for record in self.portal.read_directory(self.spec):
            count += 1
            yield record
        self.logger.info(
            "Stream %s: %d records in %.1f s (directory read)", self.name, count, time.monotonic() - started
        )


class EntityStream(BitrixStream):
    """Large entities: ID-ordered fast reads (start=-1), filtered by the bookmark when incremental.

    The state holds, during a run, one ID cursor per reader; it moves only after a record has been
    written, so a restart from any STATE message re-reads at most the records since that message.
    """

    STATE_MSG_FREQUENCY = 1000

    def __init__(self, tap: TapBitrix24, spec: StreamSpec, schema: dict[str, Any]) -> None:
        super().__init__(tap, spec, schema)
        self._progress: bookmarks.ReadProgress | None = None
        self._reader_of_last: str | None = None
        self._claimed: dict[str, str] = {}  # a split read: the core's range -> its key in the state

    def get_records(self, context: types.Context | None) -> Iterable[dict[str, Any]]:
        with self._stopping_read_ahead_on_failure():
            yield from self._entity_records(context)

    def _entity_records(self, context: types.Context | None) -> Iterator[dict[str, Any]]:
        state = self.working_state(context)
        self._tap.start_read_ahead(self)  # type: ignore[attr-defined]
        ahead: ReadAhead | None = self._tap.take_read_ahead(self.name)  # type: ignore[attr-defined]
        planned: ReadPlan | None = ahead.plan() if ahead is not None else None
        pages: Iterable[Page]
        if ahead is not None and planned is not None:
            plan = self._plan(state, planned.probe)
            if plan != planned:  # never expected: the state changed meanwhile
                self.logger.warning("Stream %s: read-ahead planned another read; reading again", self.name)
                ahead.discard()
                ahead = None
            pages = ahead.spool.pages() if ahead is not None else self._pages(plan)
        else:
            plan, pages = self._open(state)
        probe = plan.probe
        progress = self._progress = plan.progress
        self.logger.info(
            "Stream %s: reading %s (portal time %s, max ID %s%s)",
            self.name,
            f"records modified since {progress.since}" if plan.since else "all records",
            progress.read_started,
            probe.max_id,
            ", read ahead" if ahead is not None else "",
        )
        for reader in plan.readers:
            progress.cursors.setdefault(reader.key, reader.after)
            bookmarks.advance_cursor(state, reader.key, progress.cursors[reader.key])
        self._claimed = {}
        yield from self._read(pages, state if plan.split else None)
        if self._incremental:
            bookmark = bookmarks.finish_read(
                state,
                progress,
                replication_key=str(self.replication_key),
                lookback=dt.timedelta(seconds=int(self.config.get("lookback_seconds", 300))),
            )
            self.logger.info("Stream %s: next run reads records modified since %s", self.name, bookmark)
        self._progress = None

    @property
    def _incremental(self) -> bool:
        return self.replication_method == "INCREMENTAL" and bool(self.replication_key)

    def _plan(self, state: dict[str, Any], probe: Probe) -> ReadPlan:
        """What a read covers, from the stream's state and the probe (begins the read in `state`)."""
        if self._incremental:
            progress = bookmarks.begin_read(
                state,
                replication_key=str(self.replication_key),
                start_date=self.config.get("start_date"),
                portal_now=probe.portal_now,
            )
        else:
            progress = bookmarks.ReadProgress(
                since=None, read_started=bookmarks.to_utc_text(probe.portal_now)
            )
        since = bookmarks.parse_instant(progress.since) if progress.since else None
        parallelism = int(self.config.get("parallelism", 1))
        select = tuple(self.selected_fields())
        if not progress.cursors and probe.max_id is not None and parallelism > 1:
            # A fresh parallel read: the core's own split packs the ranges' tails into shared batches.
            whole = (Reader(0, probe.max_id, -1),)
            return ReadPlan(probe, progress, since, whole, select, split=parallelism)
        readers = plan_readers(progress.cursors, probe.max_id, parallelism)
        return ReadPlan(probe, progress, since, tuple(readers), select)

    def _open(
        self, state: dict[str, Any], ahead_pages: int = PREFETCH_PAGES
    ) -> tuple[ReadPlan, Iterator[Page]]:
        """Plan the read of `state` and start it. A fresh split read needs no probe: the core's opening
        batch gives the portal time the read starts at and the largest ID (see Portal.read_split)."""
        # What the plan would be, made on a copy with a stand-in probe: only its split and since count.
        draft = self._plan(copy.deepcopy(state), Probe(portal_now=utc_now(), max_id=1))
        # Before any answer the portal's offset is unknown, so a date filter waits for the probe's.
        if not draft.split or (draft.since is not None and not self.portal.knows_timezone()):
            plan = self._plan(state, self.portal.probe(self.spec))
            return plan, self._pages(plan, ahead_pages)
        probe, pages = self.portal.read_split(
            self.spec, list(draft.select), draft.since, draft.split, ahead_pages
        )
        plan = self._plan(state, probe)
        if plan.since != draft.since or plan.split not in (0, draft.split):
            getattr(pages, "close", lambda: None)()  # stops the read's threads
            raise RuntimeError(f"Stream {self.name}: the read was planned twice differently")
        return plan, pages

    def _pages(self, plan: ReadPlan, ahead_pages: int = PREFETCH_PAGES) -> Iterator[Page]:
        return self.portal.read_by_id(
            self.spec, list(plan.select), plan.since, list(plan.readers), ahead_pages, plan.split
        )

    def read_ahead_start(self) -> Callable[[], tuple[ReadPlan, Iterator[Page]]]:
        """The background read of this stream (see read_ahead.py), planned on a copy of its state."""
        state = copy.deepcopy(self.get_context_state(None))
        self.selected_fields()  # the selection mask, resolved here rather than in the thread

        def start() -> tuple[ReadPlan, Iterator[Page]]:
            return self._open(state, ahead_pages=2)  # the spool drains it at once

        return start

    def _read(self, pages: Iterable[Page], split_state: dict[str, Any] | None) -> Iterable[dict[str, Any]]:
        """`split_state`: the state of a split read, where each range the core announces is claimed."""
        meter = _Meter(self, self.portal.request_count())
        for key, records in pages:
            reader_key = key if split_state is None else self._claim(split_state, key)
            for record in records:
                self._reader_of_last = reader_key
                yield record
            meter.batch(len(records))
        meter.done()

    def _claim(self, state: dict[str, Any], label: str) -> str:
        """The state key of the core's range `label`, cut out of the state's ranges on first sight
        (the same IDs, nothing read yet: no record is covered that was not written)."""
        key = self._claimed.get(label)
        if key is None and self._progress is not None:
            low, _, high = label.partition(":")
            claim = claim_range(self._progress.cursors, int(low), int(high), opening=not self._claimed)
            del self._progress.cursors[claim.old]
            self._progress.cursors.update(claim.new)
            bookmarks.replace_cursor(state, claim.old, claim.new)
            key = self._claimed[label] = claim.key
        return key or label

    def _increment_stream_state(
        self, latest_record: types.Record, *, context: types.Context | None = None
    ) -> None:
        """Move the emitting reader's ID cursor (replaces the SDK's max-value bookmark on purpose)."""
        if self._progress is None or self._reader_of_last is None:
            return
        last_id = int(latest_record[self.spec.key])
        self._progress.cursors[self._reader_of_last] = last_id
        bookmarks.advance_cursor(self.working_state(context), self._reader_of_last, last_id)


class _Meter:
    """Progress in the log while a stream runs: records and HTTP requests so far."""

    def __init__(self, stream: EntityStream, requests_at_start: int) -> None:
        self.stream = stream
        self.start_requests = requests_at_start
        self.records = 0
        self.started = time.monotonic()
        self.last_log = 0.0

    def batch(self, size: int) -> None:
        self.records += size
        now = time.monotonic()
        if now - self.last_log >= 1.0:
            self.last_log = now
            self._log("progress")

    def done(self) -> None:
        self._log("done")

    def _log(self, what: str) -> None:
        requests = self.stream.portal.request_count() - self.start_requests
        self.stream.logger.info(
            "Stream %s %s: %d records, %d requests, %.1f s",
            self.stream.name,
            what,
            self.records,
            requests,
            time.monotonic() - self.started,
        )


def make_stream(tap: TapBitrix24, spec: StreamSpec, schema: Mapping[str, Any]) -> BitrixStream:
    cls = DirectoryStream if spec.strategy == "directory" else EntityStream
    return cls(tap, spec, dict(schema))
