"""SQLite storage: one table per entity with an integer key, an indexed modification instant and the
record as JSON text. Other columns are reached through json_extract. One connection behind a lock:
reads are short (LIMIT 50 on an index), and the lock keeps the threaded server safe."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class Store:
    def __init__(self, db_path: str = ":memory:") -> None:
        self._conn = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        self._tables: set[str] = set()
        with self._lock:
            c = self._conn
            c.execute("PRAGMA journal_mode=MEMORY" if db_path == ":memory:" else "PRAGMA journal_mode=WAL")
            c.execute("PRAGMA synchronous=OFF")
            c.execute("PRAGMA cache_size=-200000")
            c.execute("CREATE TABLE IF NOT EXISTS seq (name TEXT PRIMARY KEY, last INTEGER NOT NULL)")
            for (name,) in c.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 't_%'"):
                self._tables.add(name[2:])

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def ensure_table(self, name: str) -> None:
        if name in self._tables:
            return
        if not _NAME_RE.match(name):
            raise ValueError(f"bad table name {name!r}")
        with self._lock:
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS t_{name} "
                "(id INTEGER PRIMARY KEY, modified INTEGER, data TEXT NOT NULL)"
            )
            self._conn.execute(f"CREATE INDEX IF NOT EXISTS i_{name}_mod ON t_{name} (modified, id)")
            self._tables.add(name)

    def tables(self) -> set[str]:
        return set(self._tables)

    def drop_table(self, name: str) -> None:
        with self._lock:
            self._conn.execute(f"DROP TABLE IF EXISTS t_{name}")
            self._tables.discard(name)

    # ---- id sequence: IDs are never reused -------------------------------------------------------
    def next_id(self, name: str) -> int:
        with self._lock:
            row = self._conn.execute("SELECT last FROM seq WHERE name=?", (name,)).fetchone()
            nid = (row[0] if row else 0) + 1
            self._conn.execute("INSERT OR REPLACE INTO seq (name, last) VALUES (?, ?)", (name, nid))
            return nid

    def bump_seq(self, name: str, last: int) -> None:
        with self._lock:
            row = self._conn.execute("SELECT last FROM seq WHERE name=?", (name,)).fetchone()
            if not row or row[0] < last:
                self._conn.execute("INSERT OR REPLACE INTO seq (name, last) VALUES (?, ?)", (name, last))

    # ---- records ---------------------------------------------------------------------------------
    def put(self, name: str, rid: int, modified: int | None, data: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                f"INSERT OR REPLACE INTO t_{name} (id, modified, data) VALUES (?, ?, ?)",
                (rid, modified, json.dumps(data, ensure_ascii=False, separators=(",", ":"))),
            )

    def put_many(self, name: str, rows: Iterable[tuple[int, int | None, str]]) -> None:
        """Bulk insert of (id, modified, json_text) in one transaction."""
        with self._lock:
            c = self._conn
            c.execute("BEGIN")
            try:
                c.executemany(f"INSERT OR REPLACE INTO t_{name} (id, modified, data) VALUES (?, ?, ?)", rows)
                c.execute("COMMIT")
            except BaseException:
                c.execute("ROLLBACK")
                raise

    def get(self, name: str, rid: int) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(f"SELECT data FROM t_{name} WHERE id=?", (rid,)).fetchone()
        return json.loads(row[0]) if row else None

    def delete(self, name: str, rid: int) -> bool:
        with self._lock:
            cur = self._conn.execute(f"DELETE FROM t_{name} WHERE id=?", (rid,))
            return cur.rowcount > 0

    def query(
        self, name: str, where: str, params: list[Any], order: str, limit: int | None, offset: int = 0
    ) -> list[dict[str, Any]]:
        sql = f"SELECT data FROM t_{name} WHERE {where} ORDER BY {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [json.loads(r[0]) for r in rows]

    def count(self, name: str, where: str, params: list[Any]) -> int:
        with self._lock:
            return int(
                self._conn.execute(f"SELECT COUNT(*) FROM t_{name} WHERE {where}", params).fetchone()[0]
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
