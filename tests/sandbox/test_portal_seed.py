"""Seed data: deterministic, realistic, sparse IDs, dates over years; a million deals in under a minute."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest

from bitrix24_sandbox.portal import Portal
from bitrix24_sandbox.seed import parse_counts


class FixedClock:
    def __init__(self, t: float) -> None:
        self.t = t

    def now(self) -> float:
        return self.t


NOW = 1_790_000_000.0  # 2026-09-21


def dump(p: Portal, method: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    last = 0
    key = "id" if method == "crm.item.list" else "ID"
    while True:
        res = p.dispatch(
            method, {**params, "filter": {f">{key}": last}, "order": {key: "ASC"}, "start": -1}
        ).result
        rows = res["items"] if isinstance(res, dict) else res
        out += rows
        if len(rows) < 50:
            return out
        last = int(rows[-1][key])


def test_same_rng_seed_same_portal_and_another_seed_differs():
    counts = parse_counts(
        "users=5,companies=20,contacts=30,leads=30,deals=120,activities=40,items=20,invoices=10"
    )
    a, b, c = (Portal(clock=FixedClock(NOW)) for _ in range(3))
    a.seed(counts, rng_seed=7)
    b.seed(counts, rng_seed=7)
    c.seed(counts, rng_seed=8)
    for method, extra in (
        ("crm.deal.list", {}),
        ("crm.contact.list", {"select": ["*", "UF_*", "PHONE", "EMAIL"]}),
        ("crm.activity.list", {}),
        ("crm.item.list", {"entityTypeId": 31}),
    ):
        assert dump(a, method, **extra) == dump(b, method, **extra)
        assert dump(a, method, **extra) != dump(c, method, **extra)


def test_seeded_values_are_realistic_and_linked():
    p = Portal(clock=FixedClock(NOW))
    p.seed({"users": 8, "companies": 30, "contacts": 40, "deals": 400}, rng_seed=1)
    deals = dump(p, "crm.deal.list", select=["*", "UF_*"])
    ids = [int(d["ID"]) for d in deals]
    assert len(ids) == 400 and ids[-1] > 400  # sparse: gaps from deleted records
    companies = {int(c["ID"]) for c in dump(p, "crm.company.list", select=["ID"])}
    users = {int(u["ID"]) for u in p.dispatch("user.get", {}).result}
    stages = {s["STATUS_ID"] for s in p.dispatch("crm.status.list", {}).result}
    years = {datetime.fromisoformat(d["DATE_CREATE"]).year for d in deals}
    assert len(years) >= 4 and max(datetime.fromisoformat(d["DATE_MODIFY"]).timestamp() for d in deals) <= NOW
    for d in deals:
        assert d["STAGE_ID"] in stages and int(d["ASSIGNED_BY_ID"]) in users
        assert d["COMPANY_ID"] is None or int(d["COMPANY_ID"]) in companies
        assert d["DATE_CREATE"] <= d["DATE_MODIFY"]  # same offset, so text order is time order
    assert {d["CURRENCY_ID"] for d in deals} >= {"USD", "EUR"}
    assert any(d["UF_CRM_REGION"] for d in deals) and any(d["UF_CRM_BUDGET"] for d in deals)
    # a REST add after seeding continues past the highest seeded ID
    assert p.add("deal", {"TITLE": "after seed"}) > ids[-1]


def test_unknown_seed_entity_is_refused():
    with pytest.raises(ValueError, match="unknown seed entities"):
        Portal(clock=FixedClock(NOW)).seed({"dealz": 5})


@pytest.mark.slow
def test_a_million_deals_seed_in_under_a_minute_and_export_pages_stay_fast():
    p = Portal(clock=FixedClock(NOW))
    t0 = time.monotonic()
    p.seed({"deals": 1_000_000}, rng_seed=1)
    seeded = time.monotonic() - t0
    assert seeded < 60, f"seeding took {seeded:.1f} s"
    t1 = time.monotonic()
    last = 900_000
    for _ in range(20):
        rows = p.dispatch(
            "crm.deal.list", {"filter": {">ID": last}, "order": {"ID": "ASC"}, "select": ["ID"], "start": -1}
        ).result
        last = int(rows[-1]["ID"])
    assert (time.monotonic() - t1) / 20 < 0.05  # LIMIT 50 on the primary key, no scan
    page = p.dispatch("crm.deal.list", {"select": ["ID"], "start": 0})
    assert page.total == 1_000_000 and page.cost > 20  # the COUNT over a million rows is charged


def test_a_file_portal_reopens_with_its_data_types_and_sequences(tmp_path):
    path = str(tmp_path / "portal.db")
    first = Portal(path, clock=FixedClock(NOW))
    first.seed({"deals": 80, "items": 6}, rng_seed=2)
    etid = first.dispatch("crm.type.add", {"fields": {"title": "Orders"}}).result["type"]["entityTypeId"]
    first.dispatch("crm.item.add", {"entityTypeId": etid, "fields": {"title": "kept"}})
    first.dispatch("crm.lead.userfield.add", {"fields": {"FIELD_NAME": "KEPT", "USER_TYPE_ID": "double"}})
    last = first.add("deal", {"TITLE": "last"})
    first.delete("deal", last)
    first.close()
    again = Portal(path, clock=FixedClock(NOW + 60))
    assert again.dispatch("crm.deal.list", {"select": ["ID"]}).total == 80
    assert again.add("deal", {"TITLE": "after reopen"}) == last + 1  # the deleted ID stays unused
    items = again.dispatch("crm.item.list", {"entityTypeId": etid}).result["items"]
    assert [i["title"] for i in items] == ["kept"]
    assert len(again.dispatch("crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}}).result) == 8
    assert again.dispatch("crm.lead.fields", {}).result["UF_CRM_KEPT"]["type"] == "double"
    assert "ufCrm_KEPT" in again.dispatch("crm.item.fields", {"entityTypeId": 1}).result["fields"]
