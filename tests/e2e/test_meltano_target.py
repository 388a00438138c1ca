"""`meltano run tap-postgres target-bitrix24`: a warehouse table pushed into a sandbox portal.

A real PostgreSQL (the `postgres` fixture) holds the table; the sandbox runs in this process and the
target, started by Meltano, reaches it over HTTP. The second run pushes changed rows back (reverse
ETL): existing deals are updated, new ones added, none duplicated.
"""

from __future__ import annotations

import json
import os
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bitrix24_sandbox import Sandbox

REPO = Path(__file__).resolve().parents[2]
SPEED = 1000  # time_scale is an integer setting in meltano.yml (Meltano cannot pass env decimals on)

pytestmark = pytest.mark.e2e


def deals_by_origin(sb: Sandbox) -> dict[str, list[dict[str, Any]]]:
    """Every deal, read page by page from the portal object (no HTTP)."""
    select = ["ID", "ORIGIN_ID", "TITLE", "OPPORTUNITY", "UF_CRM_VIP", "CLOSEDATE"]
    found: dict[str, list[dict[str, Any]]] = {}
    last = 0
    while True:
        params = {"select": select, "filter": {">ID": last}, "order": {"ID": "ASC"}, "start": -1}
        page = sb.portal.dispatch("crm.deal.list", params).result
        for row in page:
            found.setdefault(row["ORIGIN_ID"], []).append(row)
        if len(page) < 50:
            return found
        last = int(page[-1]["ID"])


def meltano_run(meltano: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [meltano, "run", "--no-state-update", "tap-postgres", "target-bitrix24"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_meltano_run_tap_postgres_target_bitrix24(postgres: Any, meltano_bin: str, tmp_path: Path) -> None:
    db = postgres.create_database("reverse_etl")
    postgres.query(
        "CREATE TABLE deals (origin_id text PRIMARY KEY, title text NOT NULL, opportunity numeric(12,2), "
        "uf_crm_vip boolean, closedate date)",
        database=db,
    )
    rows = [
        (f"wh-{i}", f"Deal {i}", Decimal(i) * 10, i % 3 == 0, f"2025-03-{i % 28 + 1:02d}") for i in range(60)
    ]
    for row in rows:
        postgres.query("INSERT INTO deals VALUES (%s, %s, %s, %s, %s)", row, database=db)

    with Sandbox(speed=SPEED) as sb:
        sb.portal.add("deal", {"TITLE": "already there", "ORIGIN_ID": "wh-0", "OPPORTUNITY": 1})
        dead = tmp_path / "dead.jsonl"
        env = {
            **os.environ,
            "TAP_POSTGRES_SQLALCHEMY_URL": postgres.dsn(db),
            "TAP_POSTGRES_FILTER_SCHEMAS": json.dumps(["public"]),
            "TARGET_BITRIX24_WEBHOOK_URL": sb.webhook_url,
            "TARGET_BITRIX24_TIME_SCALE": str(SPEED),
            "TARGET_BITRIX24_DEFAULT_MATCH_FIELD": "ORIGIN_ID",
            "TARGET_BITRIX24_DEAD_LETTER_PATH": str(dead),
        }
        first = meltano_run(meltano_bin, env)
        assert first.returncode == 0, first.stderr[-4000:]
        assert "stream summary" in first.stderr

        state = deals_by_origin(sb)
        assert sorted(state) == sorted(r[0] for r in rows)
        assert all(len(found) == 1 for found in state.values())
        for origin, title, amount, vip, closedate in rows:
            deal = state[origin][0]
            assert deal["TITLE"] == title and Decimal(deal["OPPORTUNITY"]) == amount
            assert deal["UF_CRM_VIP"] in (("Y", "1", True) if vip else ("N", "0", False))
            assert deal["CLOSEDATE"].startswith(closedate)

        postgres.query(
            "UPDATE deals SET title = title || ' (won)' WHERE origin_id IN ('wh-1', 'wh-2')", database=db
        )
        postgres.query("INSERT INTO deals VALUES ('wh-new', 'Fresh', 5, false, NULL)", database=db)
        second = meltano_run(meltano_bin, env)
        assert second.returncode == 0, second.stderr[-4000:]

        state = deals_by_origin(sb)
        assert len(state) == 61 and all(len(found) == 1 for found in state.values())
        assert state["wh-1"][0]["TITLE"] == "Deal 1 (won)" and state["wh-new"][0]["TITLE"] == "Fresh"
        assert not dead.exists()
