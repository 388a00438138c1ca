"""The yardstick of tap overhead: the smallest singer-sdk tap that emits given records from memory.

    python -m bench.minimal_tap --config config.json

config: {"schema_path": ..., "records_path": ..., "stream": "deals", "key": "ID"} plus singer-sdk's own
settings (batch_config). It emits the records read from a JSON-lines file, under the same schema as our
tap, through the same singer-sdk machinery (typing conformance, RECORD or BATCH messages) and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk import typing as th


class MemoryStream(Stream):
    """Yields the records it was given."""

    def __init__(self, tap: Tap, name: str, schema: dict[str, Any], key: str, records: list[dict[str, Any]]):
        super().__init__(tap, schema=schema, name=name)
        self.primary_keys = [key]
        self._records = records

    def get_records(self, context: Mapping[str, Any] | None) -> Iterable[dict[str, Any]]:
        yield from self._records


class MinimalTap(Tap):
    name = "tap-minimal"
    config_jsonschema = th.PropertiesList(
        th.Property("schema_path", th.StringType, required=True),
        th.Property("records_path", th.StringType, required=True),
        th.Property("stream", th.StringType, default="deals"),
        th.Property("key", th.StringType, default="ID"),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        schema = json.loads(Path(self.config["schema_path"]).read_text())
        with open(self.config["records_path"]) as lines:
            records = [json.loads(line) for line in lines]
        stream = self.config.get("stream", "deals")
        return [MemoryStream(self, stream, schema, self.config.get("key", "ID"), records)]


if __name__ == "__main__":
    MinimalTap.cli()
