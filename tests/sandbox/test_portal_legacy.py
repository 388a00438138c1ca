"""Legacy CRM methods (crm.deal/lead/contact/company/activity) over real HTTP against the sandbox."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
import requests

from bitrix24_sandbox import Sandbox

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+03:00$")
SEED = {"users": 5, "companies": 40, "contacts": 60, "leads": 80, "deals": 260, "activities": 120}


@pytest.fixture(scope="module")
def sb():
    with Sandbox(seed=SEED, speed=1000.0, rng_seed=3) as box:
        yield box


def call(sb: Sandbox, method: str, params: dict[str, Any] | None = None, status: int = 200) -> dict[str, Any]:
    r = requests.post(sb.webhook_url + method, json=params or {}, timeout=30)
    assert r.status_code == status, r.text
    return r.json()


def all_ids(sb: Sandbox, entity: str, flt: dict[str, Any] | None = None) -> list[int]:
    """The documented fast export: order ID ASC, >ID cursor, start=-1, stop at a short page."""
    last, ids = 0, []
    while True:
        page = call(
            sb,
            f"crm.{entity}.list",
            {
                "order": {"ID": "ASC"},
                "filter": {**(flt or {}), ">ID": last},
                "select": ["ID"],
                "start": -1,
            },
        )
        assert page["total"] == 0 and "next" not in page
        ids += [int(r["ID"]) for r in page["result"]]
        if len(page["result"]) < 50:
            return ids
        last = ids[-1]


def test_list_values_are_encoded_as_the_real_service(sb):
    body = call(sb, "crm.deal.list", {"order": {"ID": "ASC"}, "start": 0})
    deal = body["result"][0]
    assert body["total"] == SEED["deals"] and body["next"] == 50 and len(body["result"]) == 50
    assert isinstance(deal["ID"], str) and deal["ID"].isdigit()
    assert re.fullmatch(r"\d+\.\d{2}", deal["OPPORTUNITY"])
    assert deal["OPENED"] in ("Y", "N") and deal["CLOSED"] in ("Y", "N")
    assert ISO.match(deal["DATE_CREATE"]) and ISO.match(deal["DATE_MODIFY"]) and ISO.match(deal["BEGINDATE"])
    assert deal["DATE_CREATE"] <= deal["DATE_MODIFY"]
    # default select is '*' + 'UF_*': user fields present, multi-fields and CONTACT_IDS absent
    assert "UF_CRM_REGION" in deal and "UF_CRM_TAGS" in deal and isinstance(deal["UF_CRM_TAGS"], list)
    assert "PHONE" not in deal and "CONTACT_IDS" not in deal
    assert any(d["COMMENTS"] is None for d in body["result"])  # unset is null


def test_select_star_excludes_user_fields_and_named_multifields_appear(sb):
    star = call(sb, "crm.contact.list", {"select": ["*"], "order": {"ID": "ASC"}})["result"][0]
    assert not any(k.startswith("UF_") for k in star) and "PHONE" not in star and "NAME" in star
    named = call(sb, "crm.contact.list", {"select": ["ID", "PHONE", "EMAIL"], "filter": {"HAS_PHONE": "Y"}})
    row = named["result"][0]
    assert set(row) <= {"ID", "PHONE", "EMAIL"} and row["PHONE"][0]["TYPE_ID"] == "PHONE"
    assert set(row["PHONE"][0]) == {"ID", "VALUE_TYPE", "VALUE", "TYPE_ID"}
    uf = call(sb, "crm.deal.list", {"select": ["UF_*"]})["result"][0]
    assert set(uf) == {"ID"} | {k for k in uf if k.startswith("UF_CRM_")}


def test_start_is_rounded_down_to_50_and_next_stops_on_the_last_page(sb):
    a = call(sb, "crm.deal.list", {"order": {"ID": "ASC"}, "select": ["ID"], "start": 73})
    b = call(sb, "crm.deal.list", {"order": {"ID": "ASC"}, "select": ["ID"], "start": 50})
    assert a["result"] == b["result"] and a["next"] == 100
    last = call(sb, "crm.deal.list", {"order": {"ID": "ASC"}, "select": ["ID"], "start": 250})
    assert len(last["result"]) == 10 and "next" not in last and last["total"] == 260


def test_fast_export_reads_every_id_once_and_ids_are_sparse(sb):
    ids = all_ids(sb, "deal")
    assert len(ids) == SEED["deals"] == len(set(ids)) and ids == sorted(ids)
    assert ids[-1] > len(ids)  # gaps left by deleted records


def test_filter_operators(sb):
    rows = call(
        sb,
        "crm.deal.list",
        {
            "select": ["ID", "OPPORTUNITY", "STAGE_ID", "TITLE", "CATEGORY_ID"],
            "order": {"ID": "ASC"},
            "start": -1,
        },
    )["result"]
    ids = [int(r["ID"]) for r in rows]

    def ids_of(flt: dict[str, Any]) -> set[int]:
        return set(all_ids(sb, "deal", flt))

    assert ids_of({"@ID": ids[:3]}) == set(ids[:3])
    assert ids_of({"!@ID": ids[:3]}).isdisjoint(ids[:3])
    band = {int(x["ID"]) for x in _all(sb) if 50000 <= float(x["OPPORTUNITY"]) < 70000}
    assert band and ids_of({">=OPPORTUNITY": 50000, "<OPPORTUNITY": "70000"}) == band
    won = ids_of({"STAGE_ID": "WON"})
    assert won and won == {int(x["ID"]) for x in _all(sb) if x["STAGE_ID"] == "WON"}
    assert ids_of({"!STAGE_ID": "WON"}) == {int(x["ID"]) for x in _all(sb)} - won
    assert ids_of({"%TITLE": "LICENSE"}) == {int(x["ID"]) for x in _all(sb) if "license" in x["TITLE"]}
    assert ids_of({"=%TITLE": "license%"}) == {
        int(x["ID"]) for x in _all(sb) if x["TITLE"].startswith("license")
    }
    assert ids_of({"CATEGORY_ID": 1}) == {int(x["ID"]) for x in _all(sb) if x["CATEGORY_ID"] == "1"}
    assert ids_of({"NO_SUCH_FIELD": 5}) == {int(x["ID"]) for x in _all(sb)}  # legacy ignores it


def _all(sb: Sandbox) -> list[dict[str, Any]]:
    out, start = [], 0
    while True:
        page = call(
            sb,
            "crm.deal.list",
            {
                "select": ["ID", "OPPORTUNITY", "STAGE_ID", "TITLE", "CATEGORY_ID", "DATE_MODIFY"],
                "order": {"ID": "ASC"},
                "start": start,
            },
        )
        out += page["result"]
        if "next" not in page:
            return out
        start = page["next"]


def test_date_filters_compare_instants_in_any_offset(sb):
    rows = _all(sb)
    pivot = sorted(rows, key=lambda r: r["DATE_MODIFY"])[len(rows) // 2]["DATE_MODIFY"]
    instant = datetime.fromisoformat(pivot)
    expected = {int(r["ID"]) for r in rows if datetime.fromisoformat(r["DATE_MODIFY"]) >= instant}
    utc = instant.astimezone(datetime.fromisoformat("2020-01-01T00:00:00+00:00").tzinfo).isoformat()
    local = instant.strftime("%Y-%m-%d %H:%M:%S")  # portal local time, no offset
    assert set(all_ids(sb, "deal", {">=DATE_MODIFY": pivot})) == expected
    assert set(all_ids(sb, "deal", {">=DATE_MODIFY": utc})) == expected
    assert set(all_ids(sb, "deal", {">=DATE_MODIFY": local})) == expected


def test_php_bracket_query_works_like_json(sb):
    url = (
        sb.webhook_url
        + "crm.deal.list.json?filter[>ID]=100&order[ID]=ASC&select[]=ID&select[]=TITLE&start=-1"
    )
    body = requests.get(url, timeout=30).json()
    assert (
        body["total"] == 0
        and int(body["result"][0]["ID"]) > 100
        and set(body["result"][0]) == {"ID", "TITLE"}
    )


def test_get_missing_record_is_400_with_empty_code(sb):
    body = call(sb, "crm.deal.get", {"id": 99999999}, status=400)
    assert body == {"error": "", "error_description": "Not found"}
    body = call(sb, "crm.deal.get", {}, status=400)
    assert body["error"] == "" and "ID" in body["error_description"]


def test_activity_communications_only_when_selected(sb):
    plain = call(sb, "crm.activity.list", {"order": {"ID": "ASC"}})["result"][0]
    assert "COMMUNICATIONS" not in plain and ISO.match(plain["LAST_UPDATED"])
    named = call(sb, "crm.activity.list", {"select": ["ID", "COMMUNICATIONS"], "order": {"ID": "ASC"}})
    assert named["result"][0]["COMMUNICATIONS"][0]["TYPE"] in ("PHONE", "EMAIL")
    got = call(sb, "crm.activity.get", {"id": plain["ID"]})["result"]
    assert got["COMMUNICATIONS"] and got["ID"] == plain["ID"]


def test_fields_metadata_shape(sb):
    fields = call(sb, "crm.deal.fields")["result"]
    assert fields["ID"] == {
        "type": "integer",
        "isRequired": False,
        "isReadOnly": True,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": False,
        "title": "ID",
    }
    assert fields["STAGE_ID"]["statusType"] == "DEAL_STAGE"
    region = fields["UF_CRM_REGION"]
    assert (
        region["type"] == "enumeration"
        and region["isDynamic"]
        and region["items"][0].keys() == {"ID", "VALUE"}
    )
    assert {"listLabel", "formLabel", "filterLabel", "settings"} <= region.keys()
    types = {f["type"] for k, f in fields.items() if k.startswith("UF_")}
    assert {"string", "double", "boolean", "date", "datetime", "money", "enumeration"} <= types
    assert fields["UF_CRM_TAGS"]["isMultiple"]
    assert call(sb, "crm.lead.fields")["result"]["PHONE"]["type"] == "crm_multifield"


def test_write_cycle_dates_and_ids_never_reused():
    with Sandbox(seed={"deals": 3}, speed=1000.0) as sb:
        before = sb.clock.now()
        add = call(
            sb,
            "crm.deal.add",
            {
                "fields": {
                    "TITLE": "Pipes",
                    "OPPORTUNITY": 1500,
                    "CURRENCY_ID": "EUR",
                    "UF_CRM_VIP": "Y",
                    "BEGINDATE": "2024-08-30",
                    "UF_CRM_NEXT_CALL": "2024-08-30T14:29:00+00:00",
                    "UF_CRM_TAGS": ["a", "b"],
                    "UF_CRM_BUDGET": "100.00|EUR",
                }
            },
        )
        new_id = add["result"]
        assert isinstance(new_id, int)
        got = call(sb, "crm.deal.get", {"id": new_id})["result"]
        assert got["OPPORTUNITY"] == "1500.00" and got["CURRENCY_ID"] == "EUR" and got["UF_CRM_VIP"] == "1"
        # date fields come back as 00:00 UTC of the date in the portal offset (docs crm-deal-get.md)
        assert got["BEGINDATE"] == "2024-08-30T03:00:00+03:00"
        assert "CONTACT_IDS" not in got  # described by crm.deal.fields, never returned by get
        assert got["UF_CRM_NEXT_CALL"] == "2024-08-30T17:29:00+03:00"
        assert got["UF_CRM_TAGS"] == ["a", "b"] and got["UF_CRM_BUDGET"] == "100.00|EUR"
        created = datetime.fromisoformat(got["DATE_MODIFY"]).timestamp()
        assert int(before) <= created <= sb.clock.now()  # the portal's (virtual) now
        sb.clock.advance(7200)
        before = sb.clock.now()
        assert (
            call(sb, "crm.deal.update", {"id": new_id, "fields": {"TITLE": "Steel pipes"}})["result"] is True
        )
        got2 = call(sb, "crm.deal.get", {"id": new_id})["result"]
        assert got2["TITLE"] == "Steel pipes" and got2["DATE_CREATE"] == got["DATE_CREATE"]
        assert int(before) <= datetime.fromisoformat(got2["DATE_MODIFY"]).timestamp() <= sb.clock.now()
        assert datetime.fromisoformat(got2["DATE_MODIFY"]).timestamp() - created >= 7200
        assert call(sb, "crm.deal.delete", {"id": new_id})["result"] is True
        assert (
            call(sb, "crm.deal.update", {"id": new_id, "fields": {"TITLE": "x"}}, status=400)["error"] == ""
        )
        again = call(sb, "crm.deal.add", {"fields": {"TITLE": "next"}})["result"]
        assert again > new_id
        assert call(sb, "crm.deal.get", {"id": again})["result"]["TITLE"] == "next"


def test_multifield_update_rules():
    with Sandbox(speed=1000.0) as sb:
        cid = call(
            sb,
            "crm.contact.add",
            {
                "fields": {
                    "NAME": "Ann",
                    "PHONE": [{"VALUE": "+100", "VALUE_TYPE": "WORK"}],
                    "EMAIL": [{"VALUE": "a@x.io"}],
                }
            },
        )
        contact = call(sb, "crm.contact.get", {"id": cid["result"]})["result"]
        assert contact["HAS_PHONE"] == "Y" and contact["PHONE"][0]["VALUE"] == "+100"
        pid = contact["PHONE"][0]["ID"]
        call(
            sb,
            "crm.contact.update",
            {
                "id": cid["result"],
                "fields": {
                    "PHONE": [{"ID": pid, "VALUE": "+200"}, {"VALUE": "+300", "VALUE_TYPE": "MOBILE"}]
                },
            },
        )
        phones = call(sb, "crm.contact.get", {"id": cid["result"]})["result"]["PHONE"]
        assert [p["VALUE"] for p in phones] == ["+200", "+300"] and phones[0]["ID"] == pid
        call(
            sb,
            "crm.contact.update",
            {
                "id": cid["result"],
                "fields": {
                    "PHONE": [{"ID": phones[0]["ID"], "DELETE": "Y"}, {"ID": phones[1]["ID"], "VALUE": ""}]
                },
            },
        )
        after = call(sb, "crm.contact.get", {"id": cid["result"]})["result"]
        assert "PHONE" not in after and after["HAS_PHONE"] == "N"
        assert call(sb, "crm.contact.list", {"filter": {"EMAIL": "a@x.io"}, "select": ["ID"]})["total"] == 1


def test_userfield_list_and_deal_contact_links(sb):
    ufs = call(sb, "crm.deal.userfield.list", {"filter": {"USER_TYPE_ID": "enumeration"}})["result"]
    assert [u["FIELD_NAME"] for u in ufs] == ["UF_CRM_REGION"] and ufs[0]["ENTITY_ID"] == "CRM_DEAL"
    fields_items = call(sb, "crm.deal.fields")["result"]["UF_CRM_REGION"]["items"]
    assert [i["ID"] for i in ufs[0]["LIST"]] == [i["ID"] for i in fields_items]
    linked = call(sb, "crm.deal.list", {"filter": {">CONTACT_ID": 0}, "select": ["ID", "CONTACT_ID"]})[
        "result"
    ][0]
    items = call(sb, "crm.deal.contact.items.get", {"id": linked["ID"]})["result"]
    assert items[0]["CONTACT_ID"] == int(linked["CONTACT_ID"]) and items[0]["IS_PRIMARY"] == "Y"
    as_item = call(sb, "crm.item.get", {"entityTypeId": 2, "id": linked["ID"]})["result"]["item"]
    assert as_item["contactIds"] == [int(linked["CONTACT_ID"])]


def test_link_items_set_keeps_the_single_link_in_step():
    with Sandbox(seed={"contacts": 4}, speed=1000.0) as sb:
        deal = call(sb, "crm.deal.add", {"fields": {"TITLE": "x", "CONTACT_ID": 1}})["result"]
        call(
            sb,
            "crm.deal.contact.items.set",
            {
                "id": deal,
                "items": [{"CONTACT_ID": 3, "SORT": 20}, {"CONTACT_ID": 2, "SORT": 30, "IS_PRIMARY": "Y"}],
            },
        )
        got = call(sb, "crm.deal.get", {"id": deal})["result"]
        assert got["CONTACT_ID"] == "2" and "CONTACT_IDS" not in got
        assert [i["CONTACT_ID"] for i in call(sb, "crm.deal.contact.items.get", {"id": deal})["result"]] == [
            2,
            3,
        ]


def test_concurrent_updates_of_one_record_lose_nothing():
    import threading

    with Sandbox(speed=1000.0) as sb:
        cid = call(sb, "crm.contact.add", {"fields": {"NAME": "Busy"}})["result"]

        def append(tag: str) -> None:
            for n in range(25):
                call(sb, "crm.contact.update", {"id": cid, "fields": {"PHONE": [{"VALUE": f"{tag}{n}"}]}})

        threads = [threading.Thread(target=append, args=(t,)) for t in ("+1", "+2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        phones = call(sb, "crm.contact.get", {"id": cid})["result"]["PHONE"]
        assert len(phones) == 50 and len({p["ID"] for p in phones}) == 50


def test_a_user_field_added_over_rest_appears_everywhere():
    with Sandbox(seed={"deals": 3}, speed=1000.0) as sb:
        uid = call(
            sb,
            "crm.deal.userfield.add",
            {
                "fields": {
                    "FIELD_NAME": "SHOE_SIZE",
                    "USER_TYPE_ID": "enumeration",
                    "LABEL": "Shoe size",
                    "MULTIPLE": "Y",
                    "LIST": [{"VALUE": "40", "SORT": 10}, {"VALUE": "42", "SORT": 20}, {"VALUE": ""}],
                }
            },
        )["result"]
        assert isinstance(uid, int)
        meta = call(sb, "crm.deal.fields")["result"]["UF_CRM_SHOE_SIZE"]
        assert meta["type"] == "enumeration" and meta["isMultiple"] and meta["listLabel"] == "Shoe size"
        values = [i["VALUE"] for i in meta["items"]]
        assert values == ["40", "42"]
        size42 = meta["items"][1]["ID"]
        deal = call(sb, "crm.deal.add", {"fields": {"TITLE": "shoes", "UF_CRM_SHOE_SIZE": [size42]}})[
            "result"
        ]
        rows = call(sb, "crm.deal.list", {"filter": {"UF_CRM_SHOE_SIZE": size42}, "select": ["ID", "UF_*"]})
        assert [r["ID"] for r in rows["result"]] == [str(deal)] and rows["result"][0]["UF_CRM_SHOE_SIZE"] == [
            size42
        ]
        item = call(sb, "crm.item.get", {"entityTypeId": 2, "id": deal})["result"]["item"]
        assert item["ufCrm_SHOE_SIZE"] == [int(size42)]
        listed = call(sb, "crm.deal.userfield.list", {"filter": {"FIELD_NAME": "UF_CRM_SHOE_SIZE"}})["result"]
        assert [u["ID"] for u in listed] == [str(uid)]
        dup = call(
            sb,
            "crm.deal.userfield.add",
            {"fields": {"FIELD_NAME": "SHOE_SIZE", "USER_TYPE_ID": "string"}},
            status=400,
        )
        assert dup["error"] == ""
        bad = call(sb, "crm.deal.userfield.add", {"fields": {"FIELD_NAME": "X"}}, status=400)
        assert bad["error_description"] == "The 'USER_TYPE_ID' field is not found."
        assert (
            call(sb, "crm.deal.userfield.update", {"id": uid, "fields": {"LABEL": "Size"}})["result"] is True
        )
        assert call(sb, "crm.deal.fields")["result"]["UF_CRM_SHOE_SIZE"]["formLabel"] == "Size"
        assert call(sb, "crm.deal.userfield.delete", {"id": uid})["result"] is True
        assert "UF_CRM_SHOE_SIZE" not in call(sb, "crm.deal.fields")["result"]
        assert "UF_CRM_SHOE_SIZE" not in call(sb, "crm.deal.get", {"id": deal})["result"]
