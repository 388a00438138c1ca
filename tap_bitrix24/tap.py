"""tap-bitrix24: the Singer tap over a Bitrix24 portal (cloud or the local sandbox)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from singer_sdk import Tap
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities

from . import discovery
from .portal import Portal
from .read_ahead import ReadAhead
from .settings import CONFIG_SCHEMA
from .stream_specs import spec_for
from .streams import BitrixStream, EntityStream, make_stream


class TapBitrix24(Tap):
    """Reads CRM entities, smart processes, directories, users and departments from Bitrix24."""

    name = "tap-bitrix24"
    dynamic_catalog = True
    config_jsonschema = CONFIG_SCHEMA
    capabilities = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.BATCH,
    ]

    _portal: Portal | None = None
    _ahead: dict[str, ReadAhead] | None = None

    def start_read_ahead(self, current: BitrixStream) -> None:
        """Start background reads of the large streams selected after `current`, up to
        `read_ahead_streams` waiting at a time (see read_ahead.py)."""
        limit = int(self.config.get("read_ahead_streams", 4))
        if self._ahead is None:
            self._ahead = {}
            self._ahead_started: set[str] = set()
        streams = list(self.streams.values())
        for stream in streams[streams.index(current) + 1 :]:
            if len(self._ahead) >= limit:
                return
            wanted = isinstance(stream, EntityStream) and stream.selected
            if wanted and stream.name not in self._ahead_started:
                assert isinstance(stream, EntityStream)
                self._ahead_started.add(stream.name)
                self._ahead[stream.name] = ReadAhead(stream.name, stream.read_ahead_start())

    def stop_read_ahead(self) -> None:
        """The run is ending early: stop the background reads and close their spool files now,
        rather than let them read whole streams to disk for nobody."""
        for ahead in (self._ahead or {}).values():
            ahead.discard()
        self._ahead = {}
        self._ahead_started = {stream.name for stream in self.streams.values()}

    def take_read_ahead(self, name: str) -> ReadAhead | None:
        """The background read of stream `name`, if one was started (it is then the stream's)."""
        return None if self._ahead is None else self._ahead.pop(name, None)

    @property
    def portal(self) -> Portal:
        """One connection per tap run; built lazily so --about and --help need no portal."""
        if self._portal is None:
            self._portal = Portal(self.config)
        return self._portal

    def discover_streams(self) -> Sequence[BitrixStream]:
        """From the input catalog when there is one (no portal calls), else from the portal's `.fields`."""
        if self.input_catalog is not None:
            return self._streams_from_catalog()
        return [
            make_stream(self, spec, schema) for spec, schema in discovery.discover(self.portal, self.config)
        ]

    def _streams_from_catalog(self) -> list[BitrixStream]:
        streams: list[BitrixStream] = []
        assert self.input_catalog is not None
        for entry in self.input_catalog.values():
            spec = spec_for(entry.tap_stream_id)
            if spec is None:
                self.logger.warning(
                    "Catalog stream %r is not a Bitrix24 stream: ignored.", entry.tap_stream_id
                )
                continue
            schema: dict[str, Any] = entry.schema.to_dict()
            streams.append(make_stream(self, spec, schema))
        return streams


if __name__ == "__main__":
    TapBitrix24.cli()
