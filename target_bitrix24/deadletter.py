"""The dead-letter file: one JSON line per record that was not written, with the reason."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import IO, Any


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


class DeadLetterFile:
    """Appends failures as JSON lines, flushed at once so a crash loses none of them."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.count = 0
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None

    def write(
        self,
        stream: str,
        record: Mapping[str, Any],
        code: str,
        description: str,
        **extra: Any,
    ) -> None:
        line = {"stream": stream, "record": dict(record), "error_code": code}
        line.update(error_description=description, **extra)
        text = json.dumps(line, ensure_ascii=False, default=_jsonable)
        with self._lock:
            if self._handle is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self.path.open("a", encoding="utf-8")
            self._handle.write(text + "\n")
            self._handle.flush()
            self.count += 1

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
