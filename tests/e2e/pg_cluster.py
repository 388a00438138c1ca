"""A throwaway PostgreSQL 15 cluster: temporary directory, free port, run as the `postgres` user
(initdb refuses to run as root), trust authentication on 127.0.0.1. Used by the e2e fixtures in
conftest.py and usable on its own (`start_postgres()` ... `.stop()`)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
PG_USER = "postgres"
REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary as the postgres user when we are root (initdb/postgres refuse root)."""
    prefix = ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + args, check=True, capture_output=True, text=True, **kwargs)


@dataclass
class PostgresCluster:
    """A running throwaway cluster; trust authentication on 127.0.0.1 only."""

    root: Path
    port: int
    host: str = "127.0.0.1"
    user: str = PG_USER
    password: str = "postgres"  # ignored by trust auth; targets insist on having one
    databases: list[str] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres") -> Any:
        import psycopg2

        conn = psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=database)
        conn.autocommit = True
        return conn

    def query(self, sql: str, params: tuple[Any, ...] = (), database: str = "postgres") -> list[tuple]:
        conn = self.connect(database)  # not `with conn`: psycopg2 2.9 opens a transaction there
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return list(cur.fetchall()) if cur.description else []
        finally:
            conn.close()

    def create_database(self, name: str) -> str:
        self.query(f'DROP DATABASE IF EXISTS "{name}"')
        self.query(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return name

    def start(self) -> None:
        pw = pwd.getpwnam(PG_USER)
        os.chown(self.root, pw.pw_uid, pw.pw_gid)
        _as_postgres(
            [str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", PG_USER, "--auth=trust", "-E", "UTF8"]
        )
        options = (
            f"-c listen_addresses={self.host} -c port={self.port} -c unix_socket_directories={self.root}"
        )
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c timezone=UTC"
        _as_postgres(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.root / "server.log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.query("SELECT 1")
                return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not accept connections on port {self.port}: {self.log_tail()}")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "-w", "stop"])

    def log_tail(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""


def start_postgres() -> PostgresCluster:
    """Start a cluster (for use outside pytest too, e.g. bench scripts); call .stop() when done."""
    if not (PG_BIN / "initdb").exists():
        raise FileNotFoundError(f"PostgreSQL 15 binaries not found in {PG_BIN}")
    cluster = PostgresCluster(root=Path(tempfile.mkdtemp(prefix="pg15-")), port=free_port())
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)
        raise
    return cluster
