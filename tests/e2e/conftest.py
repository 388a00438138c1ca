"""Shared end-to-end fixtures: a throwaway PostgreSQL 15 cluster and the Meltano command.

`postgres` (session scope) starts a fresh cluster (see pg_cluster.py) and stops it at the end; each
test asks it for its own database with `postgres.create_database(name)`. `meltano_bin` skips the test
with a clear reason when meltano is not installed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from pg_cluster import PG_BIN, REPO, PostgresCluster, start_postgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL 15 cluster for the whole test session."""
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 binaries not found in {PG_BIN}")
    cluster = start_postgres()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture(scope="session")
def meltano_bin() -> str:
    """The meltano executable; tests that need it skip with a clear reason when it is missing."""
    found = shutil.which("meltano") or (
        str(REPO / ".venv-meltano/bin/meltano") if (REPO / ".venv-meltano/bin/meltano").exists() else None
    )
    if not found:
        pytest.skip("meltano is not on PATH (run `make meltano`, or put .venv-meltano/bin on PATH)")
    return found
