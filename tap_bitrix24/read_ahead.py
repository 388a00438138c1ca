"""Later streams read in the background while the current stream is written.

singer-sdk writes one stream after another, but every Bitrix24 list method has its own
operating-time budget, so a full sync of several large entities would wait on each method in turn.
When a large stream starts, up to `read_ahead_streams` of the streams selected after it start
reading in background threads: each runs exactly the read its own sync would run (the same probe,
bookmark, resume cursors and readers, planned on a copy of its state) and appends the raw pages to
a spool file, a queue on disk, so memory stays flat however far ahead it gets. When that stream's
turn comes, it writes the spooled pages first and then those still arriving, in ID order per reader.

Nothing here writes state or messages: cursors still move only after a record was written, so a run
killed at any point resumes exactly as without read-ahead (the spooled pages are re-read). The spool
file is unlinked as soon as it is opened; the disk it uses is freed when the stream is done.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from typing import Any

Page = tuple[str, list[dict[str, Any]]]


class Spool:
    """A FIFO of pages on disk: one thread appends, one reads in order, each page exactly once."""

    def __init__(self) -> None:
        fd, path = tempfile.mkstemp(prefix="tap-bitrix24-", suffix=".jsonl")
        self._out = os.fdopen(fd, "wb")
        self._in = open(path, "rb")  # noqa: SIM115 - closed in close()
        os.unlink(path)  # the data lives as long as the two handles
        self._cond = threading.Condition()
        self._written = 0
        self._done = False
        self._closed = False
        self._error: BaseException | None = None

    def put(self, page: Page) -> bool:
        """Append a page; False once the reader has gone (the writer should stop)."""
        line = json.dumps(page, ensure_ascii=False).encode() + b"\n"
        with self._cond:
            if self._closed:
                return False
            self._out.write(line)
            self._out.flush()
            self._written += 1
            self._cond.notify_all()
        return True

    def finish(self, error: BaseException | None = None) -> None:
        with self._cond:
            self._done, self._error = True, error
            self._cond.notify_all()

    def pages(self) -> Iterator[Page]:
        """Every page in order; the writer's error raises after the pages written before it."""
        read = 0
        try:
            while True:
                with self._cond:
                    while read >= self._written and not self._done:
                        self._cond.wait()
                    if read >= self._written:
                        if self._error is not None:
                            raise self._error
                        return
                key, rows = json.loads(self._in.readline())
                read += 1
                yield key, rows
        finally:
            self.close()

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._out.close()
            self._in.close()
            self._cond.notify_all()


class ReadAhead:
    """One background read of a stream: its plan (what the sync needs to know) and its pages."""

    def __init__(self, name: str, start: Callable[[], tuple[Any, Iterator[Page]]]) -> None:
        self.spool = Spool()
        self._plan: Any = None
        self._planned = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(start,), name=f"tap-bitrix24-ahead-{name}", daemon=True
        )
        self._thread.start()

    def _run(self, start: Callable[[], tuple[Any, Iterator[Page]]]) -> None:
        """`start` plans the read (the plan is handed to the sync) and gives its pages to spool."""
        try:
            self._plan, pages = start()
            self._planned.set()
            for page in pages:
                if not self.spool.put(page):
                    close = getattr(pages, "close", None)
                    if close is not None:
                        close()  # stops the core's reader threads
                    return
        except BaseException as error:  # raised in the stream's sync, where it would have happened
            if not self._planned.is_set():
                self._error = error
                self._planned.set()
            self.spool.finish(error)
        else:
            self.spool.finish()

    def plan(self) -> Any:
        """The read's plan, once the background read has made it (its error raises here)."""
        self._planned.wait()
        if self._error is not None:
            self.spool.close()
            raise self._error
        return self._plan

    def discard(self) -> None:
        """Not wanted after all: the background read stops at its next page."""
        self.spool.close()
