"""crm.type and crm.item (smart processes 128/130, invoices 31) over real HTTP against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from bitrix24_sandbox import Sandbox


@pytest.fixture(scope="module")
def sb():
    with Sandbox(
        seed={"users": 4, "companies": 10, "contacts": 10, "items": 130, "invoices": 70}, speed=1000.0
    ) as box:
        yield box


def call(sb: Sandbox, method: str, params: dict[str, Any] | None = None, status: int = 200) -> dict[str, Any]:
    r = requests.post(sb.webhook_url + method, json=params or {}, timeout=30)
    assert r.status_code == status, r.text
    return r.json()


def test_type_list_wraps_in_types(sb):
    body = call(sb, "crm.type.list", {"order": {"id": "ASC"}})
    types = body["result"]["types"]
    assert [t["entityTypeId"] for t in types] == [128, 130] and body["total"] == 2
    assert types[0]["isCategoriesEnabled"] in ("Y", "N") and isinstance(types[0]["id"], int)
    by_etid = call(sb, "crm.type.getByEntityTypeId", {"entityTypeId": 130})["result"]["type"]
    assert by_etid["id"] == types[1]["id"] and by_etid["title"] == types[1]["title"]
    fast = call(sb, "crm.type.list", {"start": -1})
    assert "total" not in fast and "next" not in fast


def test_item_list_paging_and_json_numbers(sb):
    body = call(sb, "crm.item.list", {"entityTypeId": 128, "order": {"id": "ASC"}, "start": 0})
    items = body["result"]["items"]
    assert body["total"] == 65 and body["next"] == 50 and len(items) == 50
    item = items[0]
    assert isinstance(item["id"], int) and isinstance(item["assignedById"], int)
    assert isinstance(item["opportunity"], (int, float)) and item["opened"] in ("Y", "N")
    assert item["entityTypeId"] == 128 and item["updatedTime"].endswith("+03:00")
    assert item["stageId"].startswith("DT128_")
    assert any(k.startswith("ufCrm") for k in item)


def test_item_start_minus_one_omits_total_and_next(sb):
    last, seen = 0, []
    while True:
        body = call(
            sb,
            "crm.item.list",
            {
                "entityTypeId": 31,
                "filter": {">id": last},
                "order": {"id": "ASC"},
                "select": ["id"],
                "start": -1,
            },
        )
        assert "total" not in body and "next" not in body
        ids = [i["id"] for i in body["result"]["items"]]
        seen += ids
        if len(ids) < 50:
            break
        last = ids[-1]
    assert len(seen) == 70 == len(set(seen))


def test_item_select_filter_or_logic_and_original_uf_names(sb):
    sel = call(sb, "crm.item.list", {"entityTypeId": 130, "select": ["id", "title"], "order": {"id": "DESC"}})
    assert set(sel["result"]["items"][0]) == {"id", "title"}
    ids = [i["id"] for i in sel["result"]["items"]]
    assert ids == sorted(ids, reverse=True)
    both = call(
        sb,
        "crm.item.list",
        {
            "entityTypeId": 130,
            "select": ["id"],
            "filter": {"0": {"logic": "OR", "0": {"id": ids[0]}, "1": {"id": ids[1]}}},
        },
    )
    assert {i["id"] for i in both["result"]["items"]} == {ids[0], ids[1]}
    orig = call(sb, "crm.item.list", {"entityTypeId": 130, "useOriginalUfNames": "Y"})
    assert any(k.startswith("UF_CRM_") for k in orig["result"]["items"][0])
    fields = call(sb, "crm.item.fields", {"entityTypeId": 130})["result"]["fields"]
    uf = [k for k, f in fields.items() if f["isDynamic"]]
    assert uf and all(k.startswith("ufCrm") for k in uf)
    assert fields["id"]["upperName"] == "ID" and fields["updatedTime"]["type"] == "datetime"


def test_item_errors(sb):
    bad = call(sb, "crm.item.list", {"entityTypeId": 128, "filter": {"nope": 1}}, status=400)
    assert bad["error"] == "INVALID_ARG_VALUE" and "nope" in bad["error_description"]
    assert call(sb, "crm.item.get", {"entityTypeId": 128, "id": 999999}, status=400)["error"] == "NOT_FOUND"
    assert call(sb, "crm.item.list", {"entityTypeId": 777}, status=400)["error"] == "NOT_FOUND"
    assert call(sb, "crm.item.list", {}, status=400)["error"] == "INVALID_ARG_VALUE"


def test_item_write_cycle():
    with Sandbox(speed=1000.0) as sb:
        add = call(
            sb, "crm.item.add", {"entityTypeId": 31, "fields": {"title": "INV-1", "opportunity": 99.5}}
        )
        item = add["result"]["item"]
        assert item["title"] == "INV-1" and item["opportunity"] == 99.5 and item["entityTypeId"] == 31
        sb.clock.advance(600)
        upd = call(
            sb,
            "crm.item.update",
            {"entityTypeId": 31, "id": item["id"], "fields": {"stageId": "DT31_2:SUCCESS"}},
        )["result"]["item"]
        assert upd["previousStageId"] == item["stageId"] and upd["updatedTime"] > item["updatedTime"]
        got = call(sb, "crm.item.get", {"entityTypeId": 31, "id": item["id"]})["result"]["item"]
        assert got["stageId"] == "DT31_2:SUCCESS"
        assert call(sb, "crm.item.delete", {"entityTypeId": 31, "id": item["id"]})["result"] == []
        assert (
            call(sb, "crm.item.get", {"entityTypeId": 31, "id": item["id"]}, status=400)["error"]
            == "NOT_FOUND"
        )
        new_type = call(sb, "crm.type.add", {"fields": {"title": "Orders"}})["result"]["type"]
        assert new_type["entityTypeId"] == 132
        assert call(sb, "crm.item.add", {"entityTypeId": 132, "fields": {}})["result"]["item"]["id"] == 1
        cats = call(sb, "crm.category.list", {"entityTypeId": 132})["result"]["categories"]
        assert len(cats) == 1 and cats[0]["isDefault"] == "Y"
        assert call(sb, "crm.type.delete", {"id": new_type["id"]})["result"] == []
        assert call(sb, "crm.type.get", {"id": new_type["id"]}, status=400)["error"] == "NOT_FOUND"


def test_direct_mutation_is_seen_over_http_and_concurrent_reads_stay_consistent():
    import threading

    with Sandbox(seed={"items": 20}, speed=1000.0) as sb:
        new_id = sb.portal.add("item128", {"title": "direct", "opportunity": 5})
        got = call(sb, "crm.item.get", {"entityTypeId": 128, "id": new_id})["result"]["item"]
        assert got["title"] == "direct" and got["opportunity"] == 5
        sb.portal.update("item128", new_id, {"title": "changed"})
        assert (
            call(sb, "crm.item.get", {"entityTypeId": 128, "id": new_id})["result"]["item"]["title"]
            == "changed"
        )
        errors: list[BaseException] = []

        def writer() -> None:
            try:
                for n in range(200):
                    sb.portal.add("deal", {"TITLE": f"w{n}"})
            except BaseException as exc:  # surfaced by the assertion below
                errors.append(exc)

        threads = [threading.Thread(target=writer) for _ in range(2)]
        for t in threads:
            t.start()
        totals = []
        while any(t.is_alive() for t in threads):
            totals.append(call(sb, "crm.deal.list", {"select": ["ID"], "start": 0})["total"])
        for t in threads:
            t.join()
        assert not errors and totals == sorted(totals)
        assert call(sb, "crm.deal.list", {"select": ["ID"]})["total"] == 400
        sb.portal.delete("item128", new_id)
        assert (
            call(sb, "crm.item.get", {"entityTypeId": 128, "id": new_id}, status=400)["error"] == "NOT_FOUND"
        )


def test_crm_item_over_legacy_entities_shares_their_records():
    with Sandbox(seed={"deals": 70, "leads": 5}, speed=1000.0) as sb:
        legacy = call(sb, "crm.deal.list", {"order": {"ID": "ASC"}, "select": ["ID", "TITLE", "OPPORTUNITY"]})
        items = call(
            sb,
            "crm.item.list",
            {
                "entityTypeId": 2,
                "order": {"id": "ASC"},
                "select": ["id", "title", "opportunity", "updatedTime"],
            },
        )
        assert items["total"] == legacy["total"] == 70 and items["next"] == 50
        first, item = legacy["result"][0], items["result"]["items"][0]
        assert item["id"] == int(first["ID"]) and item["title"] == first["TITLE"]
        assert item["opportunity"] == pytest.approx(float(first["OPPORTUNITY"]))
        lead = call(
            sb,
            "crm.item.add",
            {
                "entityTypeId": 1,
                "fields": {"title": "Via item", "stageId": "IN_PROCESS", "opportunity": 999.9},
            },
        )["result"]["item"]
        assert lead["entityTypeId"] == 1 and lead["stageSemanticId"] == "P"
        via_legacy = call(sb, "crm.lead.get", {"id": lead["id"]})["result"]
        assert via_legacy["TITLE"] == "Via item" and via_legacy["STATUS_ID"] == "IN_PROCESS"
        assert via_legacy["OPPORTUNITY"] == "999.90"
        call(sb, "crm.lead.update", {"id": lead["id"], "fields": {"STATUS_ID": "JUNK"}})
        again = call(sb, "crm.item.get", {"entityTypeId": 1, "id": lead["id"]})["result"]["item"]
        assert again["stageId"] == "JUNK" and again["stageSemanticId"] == "F"
        fields = call(sb, "crm.item.fields", {"entityTypeId": 2})["result"]["fields"]
        assert fields["stageId"]["upperName"] == "STAGE_ID" and "ufCrm_REGION" in fields
