"""Directories and small methods over real HTTP: user, department, crm.status/category/currency, profile."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from bitrix24_sandbox import Sandbox


@pytest.fixture(scope="module")
def sb():
    with Sandbox(seed={"departments": 6, "users": 120}, speed=1000.0) as box:
        yield box


def call(sb: Sandbox, method: str, params: dict[str, Any] | None = None, status: int = 200) -> dict[str, Any]:
    r = requests.post(sb.webhook_url + method, json=params or {}, timeout=30)
    assert r.status_code == status, r.text
    return r.json()


def test_user_get_paging_filter_and_values(sb):
    body = call(sb, "user.get", {"sort": "ID", "order": "ASC", "start": 0})
    assert body["total"] == 121 and body["next"] == 50
    admin = body["result"][0]
    assert admin["ID"] == "1" and admin["ACTIVE"] is True and admin["UF_DEPARTMENT"] == [1]
    assert admin["TIMESTAMP_X"].endswith("+03:00")
    assert any(u["ACTIVE"] is False for u in call(sb, "user.get", {"start": 50})["result"])
    after = call(sb, "user.get", {"FILTER": {">ID": 100}, "sort": "ID", "order": "ASC", "start": -1})
    assert after["total"] == 0 and "next" not in after and all(int(u["ID"]) > 100 for u in after["result"])
    active = call(sb, "user.get", {"FILTER": {"ACTIVE": True}})
    inactive = call(sb, "user.get", {"FILTER": {"ACTIVE": False}})
    assert active["total"] + inactive["total"] == 121 and inactive["total"] > 0
    desc = call(sb, "user.get", {"sort": "ID", "order": "DESC"})["result"]
    assert [int(u["ID"]) for u in desc] == sorted((int(u["ID"]) for u in desc), reverse=True)
    name = admin["NAME"]
    assert call(sb, "user.get", {"FILTER": {"NAME": name[:2] + "%"}})["total"] >= 1
    dept = call(sb, "user.get", {"UF_DEPARTMENT": 1})  # top-level filter keys, as in the docs' example
    assert dept["total"] >= 1 and all(1 in u["UF_DEPARTMENT"] for u in dept["result"])


def test_user_fields_are_labels(sb):
    fields = call(sb, "user.fields")["result"]
    assert fields["ID"] == "ID" and isinstance(fields["NAME"], str) and "UF_DEPARTMENT" in fields
    user = call(sb, "user.get", {"FILTER": {"ID": 1}})["result"][0]
    assert set(user) == set(fields)  # every described field comes back, unset ones as ""
    assert user["PERSONAL_FAX"] == "" and user["PERSONAL_BIRTHDAY"] == ""


def test_department_crud_with_flat_params(sb):
    top = call(sb, "department.get", {"PARENT": 1, "sort": "ID", "order": "ASC"})
    assert top["total"] >= 1 and all(d["PARENT"] == "1" for d in top["result"])
    assert isinstance(top["result"][0]["SORT"], int) and isinstance(top["result"][0]["ID"], str)
    new_id = call(sb, "department.add", {"NAME": "Export", "PARENT": 1, "UF_HEAD": 5})["result"]
    got = call(sb, "department.get", {"ID": new_id})["result"]
    assert got == [{"ID": str(new_id), "NAME": "Export", "SORT": 500, "PARENT": "1", "UF_HEAD": "5"}]
    assert call(sb, "department.update", {"ID": new_id, "NAME": "Exports"})["result"] is True
    assert call(sb, "department.get", {"ID": new_id})["result"][0]["NAME"] == "Exports"
    assert call(sb, "department.delete", {"ID": new_id})["result"] is True
    assert call(sb, "department.get", {"ID": new_id})["result"] == []
    assert set(call(sb, "department.fields")["result"]) == {"ID", "NAME", "SORT", "PARENT", "UF_HEAD"}


def test_statuses_categories_currencies(sb):
    stages = call(sb, "crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}, "order": {"SORT": "ASC"}})
    assert [s["STATUS_ID"] for s in stages["result"]][:2] == ["NEW", "PREPARATION"] and "next" not in stages
    assert all(isinstance(s["SORT"], str) for s in stages["result"])
    cats = call(sb, "crm.category.list", {"entityTypeId": 2})["result"]["categories"]
    assert [c["id"] for c in cats] == [0, 1]
    currencies = call(sb, "crm.currency.list", {"order": {"SORT": "ASC"}})
    assert currencies["total"] == 0 and currencies["result"][0]["CURRENCY"] == "USD"
    usd = call(sb, "crm.currency.get", {"id": "USD"})["result"]
    assert usd["BASE"] == "Y" and usd["AMOUNT"] == "1.0000" and usd["LANG"]["de"]["FORMAT_STRING"]
    assert usd["LANG"]["de"]["DEC_POINT"] == ","
    assert call(sb, "crm.currency.get", {"id": "XXX"}, status=400) == {
        "error": "",
        "error_description": "Not found",
    }


def test_small_methods(sb):
    assert call(sb, "profile")["result"]["ADMIN"] is True
    assert "crm.deal.list" in call(sb, "methods")["result"]
    assert call(sb, "method.get", {"name": "crm.item.list"})["result"]["isExisting"] is True
    assert call(sb, "method.get", {"name": "crm.nope"})["result"]["isExisting"] is False
    assert call(sb, "app.info")["result"]["INSTALLED"] is True
    assert call(sb, "access.name", {"ACCESS": ["U1", "D1"]})["result"]["U1"]["name"]
    assert call(sb, "no.such.method", status=404)["error"] == "ERROR_METHOD_NOT_FOUND"
