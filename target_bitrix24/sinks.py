"""One sink per stream: checks and converts each record, then writes the batch through BatchWriter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from singer_sdk.exceptions import InvalidRecord
from singer_sdk.sinks import BatchSink

from target_bitrix24 import errors
from target_bitrix24.commands import Pending
from target_bitrix24.convert import RecordConverter
from target_bitrix24.errors import HaltedOnError, RecordError
from target_bitrix24.routing import StreamRoute, resolve_route
from target_bitrix24.upsert import BatchWriter

if TYPE_CHECKING:
    from target_bitrix24.target import TargetBitrix24


class Bitrix24Sink(BatchSink):
    """Every record that enters ends up counted as written or in the dead-letter file."""

    # One lookup request covers 2,450 keys (50 list commands of 49); the writes take 49 requests.
    MAX_SIZE_DEFAULT = 2450

    def __init__(self, target: TargetBitrix24, stream_name: str, schema: dict, key_properties: Any) -> None:
        self.owner = target
        super().__init__(target, stream_name, schema, key_properties)
        self.route: StreamRoute | None = resolve_route(stream_name, target.config)
        self.writer: BatchWriter | None = None
        self.converter: RecordConverter | None = None

    def setup(self) -> None:
        super().setup()
        tally = self.owner.ledger.tally(self.stream_name)
        if self.route is None:
            self.logger.error("stream %r maps to no Bitrix24 entity: its records fail", self.stream_name)
            return
        tally.entity, tally.operation = self.route.label, self.route.operation
        gateway = self.owner.gateway(self.route)
        self.converter = RecordConverter(
            fields=self.owner.entity_fields(self.route),
            id_key=gateway.id_key,
            uses_id=self.route.uses_id,
            strict=bool(self.config.get("strict_fields")),
            warn=lambda message: self.logger.warning("%s: %s", self.stream_name, message),
        )
        self.writer = BatchWriter(
            self.route, gateway, self.converter, self.owner.ledger, self.owner.policy, self.logger
        )

    # The SDK would stop the whole run on one bad record; here each record is checked in process_record.
    def _validate_and_parse(self, record: dict) -> dict:
        return record

    def _singer_validate_message(self, record: dict) -> None:
        return None

    def process_record(self, record: dict, context: dict) -> None:
        self.owner.ledger.received(self.stream_name)
        try:
            pending = self._pending(record)
        except RecordError as failure:
            self._fail(record, failure.code, failure.description)
            return
        context.setdefault("pendings", []).append(pending)

    def _pending(self, record: dict) -> Pending:
        if self.route is None or self.converter is None or self.writer is None:
            raise RecordError(
                errors.UNKNOWN_STREAM, f"stream {self.stream_name!r} maps to no Bitrix24 entity"
            )
        missing = [key for key in self.key_properties if record.get(key) is None]
        if missing:
            raise RecordError(errors.MISSING_KEY, f"record lacks key properties {missing}")
        if self._validator is not None:
            try:
                self._validator.validate(record)
            except InvalidRecord as invalid:
                raise RecordError(errors.INVALID_RECORD, invalid.error_message) from None
        converted = self.converter.convert(record)
        return self.writer.keyed(Pending([record], converted.record_id, converted.fields))

    def _fail(self, record: dict, code: str, description: str) -> None:
        extra = {"entity": self.route.label, "operation": self.route.operation} if self.route else {}
        self.owner.ledger.fail(self.stream_name, record, code, description, **extra)
        if self.config.get("halt_on_error"):
            self.owner.halt()
            raise HaltedOnError(f"stream {self.stream_name!r}: {code}: {description}")

    def process_batch(self, context: dict) -> None:
        pendings: list[Pending] = context.get("pendings", [])
        if not pendings or self.writer is None:
            return
        try:
            self.writer.write(pendings)
        except HaltedOnError:
            self.owner.halt()
            raise
        finally:
            self._count_requests()

    def _count_requests(self) -> None:
        if self.writer is None:
            return
        tally = self.owner.ledger.tally(self.stream_name)
        counts = self.writer.gateway.requests
        tally.write_requests, tally.lookup_requests = counts.write_requests, counts.lookup_requests

    def abandon_pending(self) -> None:
        """On halt: records still buffered are dead-lettered, so none is left without a fate."""
        batch = self._pending_batch or {}
        for pending in batch.pop("pendings", []):
            for record in pending.records:
                self.owner.ledger.fail(
                    self.stream_name, record, errors.HALTED, "not sent: the run halted after a failure"
                )
