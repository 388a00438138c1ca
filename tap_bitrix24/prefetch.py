"""Read ahead of the writer: a background thread pulls pages into a bounded queue.

The portal computes the next chained batch while this process converts and writes the current
one, so a sync's wall time approaches max(portal time, tap CPU) instead of their sum. The queue
bounds the memory; nothing moves a cursor here (cursors move only after a record was written), so a
run killed with pages in the queue re-reads them on resume.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_ITEM, _ERROR, _END = range(3)
POLL_SECONDS = 0.05


def prefetch(source: Iterator[T], depth: int, name: str = "tap-bitrix24-prefetch") -> Iterator[T]:
    """Yield `source`'s items in order, read up to `depth` items ahead in a thread; its errors
    raise here, in order. Closing this generator stops the thread and closes `source`."""
    items: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(entry: tuple[int, Any]) -> bool:
        while not stop.is_set():
            try:
                items.put(entry, timeout=POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in source:
                if not put((_ITEM, item)):
                    return
        except BaseException as error:  # handed to the consumer, which raises it
            put((_ERROR, error))
        else:
            put((_END, None))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        while True:
            kind, item = items.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)
