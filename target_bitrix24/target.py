"""target-bitrix24: writes Singer records into a Bitrix24 portal, and accounts for every one of them."""

from __future__ import annotations

import json
from typing import Any

from singer_sdk.target_base import Target

from bitrix24_core import Client
from target_bitrix24.convert import FieldMeta
from target_bitrix24.deadletter import DeadLetterFile
from target_bitrix24.errors import HaltedOnError, TooManyFailuresError
from target_bitrix24.ledger import Ledger
from target_bitrix24.portal import EntityPortal, connect
from target_bitrix24.routing import StreamRoute
from target_bitrix24.settings import CONFIG_SCHEMA, DEFAULT_DEAD_LETTER
from target_bitrix24.sinks import Bitrix24Sink
from target_bitrix24.upsert import WritePolicy


class TargetBitrix24(Target):
    """Singer target for Bitrix24: add, update or upsert CRM records in batches of 50 commands."""

    name = "target-bitrix24"
    package_name = "tap-bitrix24"  # the distribution that ships the tap, the target and the SDK
    config_jsonschema = CONFIG_SCHEMA
    default_sink_class = Bitrix24Sink

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # One stream at a time: the portal's rate limit is shared anyway, and a halt stays exact.
        self.max_parallelism = 1
        self.ledger = Ledger(DeadLetterFile(self.config.get("dead_letter_path") or DEFAULT_DEAD_LETTER))
        self.policy = WritePolicy(
            dry_run=bool(self.config.get("dry_run")),
            halt_on_error=bool(self.config.get("halt_on_error")),
            max_attempts=int(self.config.get("max_write_attempts") or 6),
            time_scale=float(self.config.get("time_scale") or 1),
        )
        self._client: Client | None = None
        self._gateways: dict[StreamRoute, EntityPortal] = {}
        self._fields: dict[str, dict[str, FieldMeta]] = {}
        self._summarized = False

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = connect(self.config)
        return self._client

    def gateway(self, route: StreamRoute) -> EntityPortal:
        if route not in self._gateways:
            self._gateways[route] = EntityPortal(self.client, route)
        return self._gateways[route]

    def entity_fields(self, route: StreamRoute) -> dict[str, FieldMeta]:
        """The entity's .fields(), read once per run."""
        if route.label not in self._fields:
            self._fields[route.label] = self.gateway(route).fields()
        return self._fields[route.label]

    def halt(self) -> None:
        """halt_on_error: dead-letter what is still buffered, then report."""
        for sink in [*self._sinks_to_clear, *self._sinks_active.values()]:
            if isinstance(sink, Bitrix24Sink):
                sink.abandon_pending()
        self.report()

    def process_endofpipe(self) -> None:
        try:
            super().process_endofpipe()
        finally:
            self.report()
        self.check_failures()

    def report(self) -> None:
        """One summary line per stream, once."""
        if self._summarized:
            return
        self._summarized = True
        self.ledger.dead_letter.close()
        for tally in self.ledger.summary():
            self.logger.info("stream summary: %s", json.dumps(tally))
        if self.ledger.failures:
            self.logger.warning(
                "%d records failed; see the dead-letter file %s",
                self.ledger.failures,
                self.ledger.dead_letter.path,
            )

    def check_failures(self) -> None:
        unsettled = self.ledger.unsettled
        if unsettled:
            raise RuntimeError(f"{unsettled} records have no recorded outcome (a bug in target-bitrix24)")
        allowed = int(self.config.get("max_failures") or 0)
        if self.ledger.failures > allowed:
            raise TooManyFailuresError(
                f"{self.ledger.failures} records failed, more than max_failures={allowed}; "
                f"they are in {self.ledger.dead_letter.path}"
            )

    @classmethod
    def invoke(cls, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """The command line: a run that ends with failures exits 1 with its reason, not a traceback."""
        try:
            super().invoke(*args, **kwargs)
        except (TooManyFailuresError, HaltedOnError) as exc:
            cls.logger.error("%s", exc)
            raise SystemExit(1) from None


if __name__ == "__main__":
    TargetBitrix24.cli()
