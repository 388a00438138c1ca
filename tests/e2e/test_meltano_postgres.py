"""`meltano run tap-bitrix24 target-postgres` against the sandbox portal and a throwaway PostgreSQL:
row counts and values checked with SQL, records changed on the portal, a second run finds exactly them.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests
from pg_cluster import REPO, PostgresCluster

from bitrix24_sandbox import Sandbox

SPEED = 1000.0
SEED = {
    "departments": 3,
    "users": 5,
    "companies": 15,
    "contacts": 30,
    "leads": 20,
    "deals": 150,
    "activities": 30,
    "items": 16,
    "invoices": 8,
}
SCHEMA = "bitrix24"


def _ids(sb: Sandbox, method: str, key: str = "ID", **params: Any) -> list[int]:
    ids: list[int] = []
    while True:
        body = {
            **params,
            "select": [key],
            "order": {key: "ASC"},
            "filter": {f">{key}": ids[-1] if ids else 0},
        }
        result = requests.post(sb.webhook_url + method, json={**body, "start": -1}, timeout=30).json()[
            "result"
        ]
        rows = result["items"] if isinstance(result, dict) else result
        ids.extend(int(r[key]) for r in rows)
        if len(rows) < 50:
            return ids


def _meltano(meltano_bin: str, env: dict[str, str], log: Path) -> None:
    done = subprocess.run(
        [meltano_bin, "run", "tap-bitrix24", "target-postgres"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    log.write_text(done.stdout + done.stderr)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]


def _env(sb: Sandbox, pg: PostgresCluster, database: str, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAP_BITRIX24_", "TARGET_POSTGRES_"))}
    env.update(
        {
            "MELTANO_DATABASE_URI": f"sqlite:///{workdir / 'meltano.db'}",  # own state store
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_BITRIX24_WEBHOOK_URL": sb.webhook_url,
            "TAP_BITRIX24_TIME_SCALE": str(int(SPEED)),
            "TAP_BITRIX24_LOOKBACK_SECONDS": "0",
            "TARGET_POSTGRES_HOST": pg.host,
            "TARGET_POSTGRES_PORT": str(pg.port),
            "TARGET_POSTGRES_USER": pg.user,
            "TARGET_POSTGRES_PASSWORD": pg.password,
            "TARGET_POSTGRES_DATABASE": database,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": SCHEMA,
            "TARGET_POSTGRES_ADD_RECORD_METADATA": "true",
        }
    )
    return env


@pytest.mark.e2e
def test_meltano_run_into_postgres_then_exactly_the_changes(
    postgres: PostgresCluster, meltano_bin: str, tmp_path: Path
) -> None:
    database = postgres.create_database("tap_bitrix24_e2e")

    def sql(query: str, *args: Any) -> list[tuple]:
        return postgres.query(query, args, database=database)

    with Sandbox(seed=SEED, speed=SPEED) as sb:
        env = _env(sb, postgres, database, tmp_path)
        _meltano(meltano_bin, env, tmp_path / "run1.log")

        expected = {
            "deals": _ids(sb, "crm.deal.list"),
            "contacts": _ids(sb, "crm.contact.list"),
            "companies": _ids(sb, "crm.company.list"),
            "leads": _ids(sb, "crm.lead.list"),
            "activities": _ids(sb, "crm.activity.list"),
            "invoices": _ids(sb, "crm.item.list", "id", entityTypeId=31),
            "smart_process_128": _ids(sb, "crm.item.list", "id", entityTypeId=128),
        }
        for table, ids in expected.items():
            key = "id" if table in ("invoices", "smart_process_128") else "ID"
            got = sorted(r[0] for r in sql(f'SELECT "{key}" FROM {SCHEMA}.{table}'))
            assert got == ids, f"{table}: {len(got)} rows in PostgreSQL, {len(ids)} on the portal"
        for table in ("users", "departments", "statuses", "currencies", "deal_categories"):
            assert sql(f"SELECT count(*) FROM {SCHEMA}.{table}")[0][0] > 0, table

        deal_id = expected["deals"][3]
        wire = requests.post(sb.webhook_url + "crm.deal.get", json={"id": deal_id}, timeout=30).json()[
            "result"
        ]
        title, amount, closed, modified = sql(
            f'SELECT "TITLE", "OPPORTUNITY", "CLOSED", "DATE_MODIFY" FROM {SCHEMA}.deals WHERE "ID" = %s',
            deal_id,
        )[0]
        assert title == wire["TITLE"]
        assert float(amount) == pytest.approx(float(wire["OPPORTUNITY"]))
        assert closed is (wire["CLOSED"] == "Y")
        # target-postgres keeps instants as UTC timestamps; the portal wrote them at +03:00
        assert modified.replace(tzinfo=dt.timezone.utc) == dt.datetime.fromisoformat(wire["DATE_MODIFY"])
        phones = sql(  # arrays of objects land as jsonb[]: typed multi-field values
            f"SELECT count(*) FROM {SCHEMA}.contacts"
            f' WHERE cardinality("PHONE") > 0 AND ("PHONE"[1]->>\'ID\')::int > 0'
        )[0][0]
        assert phones > 0

        # Change the portal, then sync again: exactly these records come through.
        changed_deals = [expected["deals"][0], expected["deals"][-1]]
        sb.portal.update("deal", changed_deals[0], {"TITLE": "changed by the e2e test"})
        sb.portal.update("deal", changed_deals[1], {"OPPORTUNITY": 4242.42})
        new_deal = sb.portal.add("deal", {"TITLE": "added by the e2e test", "OPPORTUNITY": 10})
        changed_contact = expected["contacts"][5]
        sb.portal.update("contact", changed_contact, {"NAME": "Changed"})
        (second_started,) = sql("SELECT now()")[0]
        _meltano(meltano_bin, env, tmp_path / "run2.log")

    touched = sorted(
        r[0] for r in sql(f'SELECT "ID" FROM {SCHEMA}.deals WHERE _sdc_extracted_at >= %s', second_started)
    )
    assert touched == sorted([*changed_deals, new_deal])
    assert sql(f"SELECT count(*) FROM {SCHEMA}.deals")[0][0] == len(expected["deals"]) + 1
    assert (
        sql(f'SELECT "TITLE" FROM {SCHEMA}.deals WHERE "ID" = %s', changed_deals[0])[0][0]
        == "changed by the e2e test"
    )
    assert (
        float(sql(f'SELECT "OPPORTUNITY" FROM {SCHEMA}.deals WHERE "ID" = %s', changed_deals[1])[0][0])
        == 4242.42
    )
    contacts = sorted(
        r[0] for r in sql(f'SELECT "ID" FROM {SCHEMA}.contacts WHERE _sdc_extracted_at >= %s', second_started)
    )
    assert contacts == [changed_contact]
    for table in ("leads", "companies", "activities", "invoices", "smart_process_128"):
        assert (
            sql(f"SELECT count(*) FROM {SCHEMA}.{table} WHERE _sdc_extracted_at >= %s", second_started)[0][0]
            == 0
        )
