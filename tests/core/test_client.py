"""Client, scopes and lazy requests against the sandbox portal over real HTTP."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
import requests
from api_plane_support import SPEED, make_client, requests_made, stored_ids

from bitrix24_core import BitrixWebhook, Client, entities
from bitrix24_core.error import (
    BitrixAPIBadRequest,
    BitrixAPIError,
    BitrixAPIMethodNotFound,
    BitrixValidationError,
)
from bitrix24_core.requests import BitrixAPIRequest
from bitrix24_core.scopes import TREE, Scope
from bitrix24_sandbox import Sandbox

SEED = {"deals": 120, "users": 70, "departments": 8, "items": 60, "companies": 5, "activities": 5}


@pytest.fixture(scope="module", name="sb")
def sandbox_fixture() -> Iterator[Sandbox]:
    with Sandbox(seed=SEED, speed=SPEED) as sb:
        yield sb


@pytest.fixture(name="client")
def client_fixture(sb: Sandbox) -> Client:
    sb.reset_counters()
    return make_client(sb)


def test_building_sends_nothing(sb: Sandbox, client: Client) -> None:
    request = client.crm.deal.list(select=["ID"], filter={">ID": 3}, order={"ID": "ASC"})
    request.as_list()
    request.as_list_fast(descending=True)
    client.call("server.time")
    client.call_batch({"a": client.crm.deal.get(bitrix_id=1)})
    client.call_batches([client.crm.deal.get(bitrix_id=1)] * 60)
    assert requests_made(sb) == 0
    assert request.method == "crm.deal.list"
    assert request.params == {"select": ["ID"], "filter": {">ID": 3}, "order": {"ID": "ASC"}}


def test_result_sends_once_and_call_sends_again(sb: Sandbox, client: Client) -> None:
    request = client.crm.deal.list(select=["ID"], order={"ID": "ASC"})
    first = request.result
    assert request.result is first and request.response.result is first
    assert requests_made(sb) == 1
    again = request.call()
    assert requests_made(sb) == 2
    assert again is request.response and [r["ID"] for r in again.result] == [r["ID"] for r in first]


def test_response_time_total_and_next(client: Client) -> None:
    response = client.crm.deal.list(select=["ID"], order={"ID": "ASC"}).response
    assert len(response.result) == 50
    assert response.total == SEED["deals"] and response.next == 50
    t = response.time
    for name in ("start", "finish", "duration", "processing", "operating", "operating_reset_at"):
        assert isinstance(getattr(t, name), float), name
    assert t.finish >= t.start and t.duration >= 0
    assert t.date_start.endswith("+03:00") and t.date_finish.endswith("+03:00")
    last = client.crm.deal.list(select=["ID"], order={"ID": "ASC"}, start=100).response
    assert last.next is None and len(last.result) == 20


def test_deal_add_get_update_delete(client: Client) -> None:
    new_id = client.crm.deal.add(fields={"TITLE": "Lazy deal", "OPPORTUNITY": 150.5}).result
    assert isinstance(new_id, int)
    deal = client.crm.deal.get(bitrix_id=new_id).result
    assert deal["TITLE"] == "Lazy deal" and float(deal["OPPORTUNITY"]) == 150.5
    assert client.crm.deal.update(new_id, {"TITLE": "Renamed"}).result is True  # positional, table order
    assert client.crm.deal.get(new_id).result["TITLE"] == "Renamed"
    assert client.crm.deal.delete(bitrix_id=new_id).result is True
    with pytest.raises(BitrixAPIBadRequest) as caught:
        client.crm.deal.get(bitrix_id=new_id).call()
    assert caught.value.error == "" and "Not found" in str(caught.value)


def test_crm_item_crud_with_entity_type_id(client: Client) -> None:
    item = client.crm.item.add(entity_type_id=128, fields={"title": "Smart one"}).result["item"]
    assert item["title"] == "Smart one" and isinstance(item["id"], int)
    got = client.crm.item.get(entity_type_id=128, bitrix_id=item["id"]).result["item"]
    assert got["id"] == item["id"]
    listed = client.crm.item.list(
        entity_type_id=128, select=["id", "title"], filter={"=id": item["id"]}, order={"id": "ASC"}
    ).result["items"]
    assert [row["id"] for row in listed] == [item["id"]]
    client.crm.item.update(entity_type_id=128, bitrix_id=item["id"], fields={"title": "Changed"}).call()
    assert client.crm.item.get(entity_type_id=128, bitrix_id=item["id"]).result["item"]["title"] == "Changed"
    fields = client.crm.item.fields(entity_type_id=128, use_original_uf_names="N").result["fields"]
    assert "title" in fields and "updatedTime" in fields
    client.crm.item.delete(entity_type_id=128, bitrix_id=item["id"]).call()
    with pytest.raises(BitrixAPIError):
        client.crm.item.get(entity_type_id=128, bitrix_id=item["id"]).call()


def test_department_update_flat_params(client: Client) -> None:
    assert client.department.update(bitrix_id=4, name="Renamed dept", parent=2, uf_head=3).result is True
    (dept,) = client.department.get(bitrix_id=4).result
    assert dept["NAME"] == "Renamed dept" and str(dept["PARENT"]) == "2" and str(dept["UF_HEAD"]) == "3"
    new_id = client.department.add(name="Brand new", parent=1).result
    assert [d["NAME"] for d in client.department.get(bitrix_id=new_id).result] == ["Brand new"]
    assert client.department.delete(bitrix_id=new_id).result is True


def test_user_get_filter_sort_order_start(client: Client) -> None:
    users = client.user.get(filter={">ID": 5}, sort="ID", order="DESC", admin_mode=True).result
    ids = [int(u["ID"]) for u in users]
    assert ids and all(i > 5 for i in ids) and ids == sorted(ids, reverse=True)
    page2 = client.user.get(sort="ID", order="ASC", start=50).response
    assert page2.total is not None and page2.total > 50 and page2.result
    assert int(page2.result[0]["ID"]) > int(client.user.get(sort="ID", order="ASC").result[49]["ID"])


def test_call_reaches_any_method(client: Client) -> None:
    assert "TITLE" in client.call("crm.deal.fields").result
    assert client.call("server.time").result.startswith("20")
    with pytest.raises(BitrixAPIMethodNotFound):
        client.call("no.such.method").call()


def test_call_with_a_bad_method_name_is_refused_before_sending(sb: Sandbox, client: Client) -> None:
    with pytest.raises(BitrixValidationError, match="method must be a string"):
        client.call(5)  # type: ignore[arg-type]
    with pytest.raises(BitrixValidationError, match="not a REST method name"):
        client.call("crm.deal/../list")
    assert requests_made(sb) == 0


def test_small_scopes(client: Client) -> None:
    assert "crm" in client.scope().result
    assert client.profile().result["ID"]
    assert client.server.time().result
    assert client.method.get(name="crm.deal.list").result["isExisting"] is True
    assert client.app.info().result
    assert isinstance(client.feature.get(code="rest_offline_extended").result, dict)
    assert client.access.name(access=["G2"]).result


def test_unknown_argument_and_signature(client: Client) -> None:
    with pytest.raises(TypeError, match="next"):
        client.crm.lead.list(next=50)
    with pytest.raises(TypeError):
        client.crm.deal.get(1, bitrix_id=1)
    params = list(inspect.signature(client.crm.deal.list).parameters)
    assert params == ["select", "filter", "order", "start", "timeout"]
    assert "deal" in dir(client.crm) and "list" in dir(client.crm.deal)
    with pytest.raises(AttributeError):
        client.crm.no_such_entity  # noqa: B018


def test_keyword_overrides_become_call_options(sb: Sandbox) -> None:
    client = make_client(sb, timeout=7, max_retries=1, plan="enterprise")
    assert client.options.timeout == 7.0 and client.options.max_retries == 1
    assert client.options.rate_limit == (250.0, 5.0) and client.options.time_scale == SPEED
    existing = stored_ids(sb, "deal")[0]
    request = client.crm.deal.get(bitrix_id=existing, timeout=3)
    assert request.options is not None and request.options.timeout == 3 and request.options.max_retries == 1
    assert request.result["ID"] == str(existing)
    with pytest.raises(BitrixValidationError):
        make_client(sb, plan="platinum")
    with pytest.raises(BitrixValidationError):
        Client("https://example.bitrix24.com/rest/1/abc/")  # type: ignore[arg-type]


def test_same_lazy_request_in_a_batch(sb: Sandbox, client: Client) -> None:
    existing = stored_ids(sb, "deal")[1]
    request = client.crm.deal.get(bitrix_id=existing)
    batch = client.call_batch({"deal": request, "fields": client.crm.deal.fields()})
    assert batch.result.result["deal"]["ID"] == request.result["ID"] == str(existing)
    assert requests_made(sb) == 2  # the batch and the request's own send


def test_every_table_method_the_sandbox_has_is_reachable(sb: Sandbox, client: Client) -> None:
    """The tree built from the table names the same wire methods the portal serves."""
    served = set(sb.portal.methods())
    reached = 0
    for path, node in TREE.items():
        for name, (entity, verb) in node.methods.items():
            wire = entity.wire_method(verb)
            if wire not in served:
                continue
            scope: Scope | Client = client
            for part in path.split("."):
                scope = getattr(scope, part)
            built = scope if name == "__call__" else getattr(scope, name)
            assert callable(built)
            reached += 1
    assert reached >= 40


def test_entities_table_rows() -> None:
    deal = entities.entity("crm.deal")
    assert (deal.id_key, deal.modified_key, deal.list_wrapper, deal.fast_list) == (
        "ID",
        "DATE_MODIFY",
        None,
        True,
    )
    item = entities.entity("crm.item")
    assert (item.id_key, item.modified_key, item.list_wrapper, item.key_case) == (
        "id",
        "updatedTime",
        "items",
        "camel",
    )
    assert item.row_path(49) == ("items", "49", "id")
    user = entities.entity("user")
    assert user.list_wire_method == "user.get" and user.list_syntax.filter == "FILTER" and user.fast_list
    department = entities.entity("department")
    assert department.list_wire_method == "department.get" and not department.fast_list
    assert entities.entity("crm.activity").modified_key == "LAST_UPDATED"
    assert entities.entity("crm.type").list_wrapper == "types"
    assert entities.entity("crm.category").list_wrapper == "categories"
    assert entities.entity_for_method("CRM.DEAL.LIST.json") == (deal, "list")
    request = BitrixAPIRequest(BitrixWebhook("http://x/rest/1/c/"), "crm.item.list")
    assert request.entity is item


def test_sub_entities_build_their_wire_methods(sb: Sandbox, client: Client) -> None:
    cases = [
        (
            client.crm.deal.productrows.set(bitrix_id=7, rows=[{"PRODUCT_ID": 1}]),
            "crm.deal.productrows.set",
            {"id": 7, "rows": [{"PRODUCT_ID": 1}]},
        ),
        (client.crm.contact.company.items.get(bitrix_id=5), "crm.contact.company.items.get", {"id": 5}),
        (
            client.crm.deal.userfield.list(order={"SORT": "ASC"}),
            "crm.deal.userfield.list",
            {"order": {"SORT": "ASC"}},
        ),
        (
            client.crm.item.productrow.set(owner_id=3, owner_type="D", product_rows=[]),
            "crm.item.productrow.set",
            {"ownerId": 3, "ownerType": "D", "productRows": []},
        ),
        (
            client.crm.type.get_by_entity_type_id(entity_type_id=128),
            "crm.type.getbyentitytypeid",
            {"entityTypeId": 128},
        ),
        (
            client.user.add(fields={"EMAIL": "a@b.c", "NAME": "A"}),
            "user.add",
            {"EMAIL": "a@b.c", "NAME": "A"},
        ),
        (
            client.socialnetwork.sonet_group.get(filter={"ACTIVE": "Y"}),
            "sonet_group.get",
            {"FILTER": {"ACTIVE": "Y"}},
        ),
        (client.app.option.set(options={"a": 1}), "app.option.set", {"options": {"a": 1}}),
    ]
    for request, method, params in cases:
        assert (request.method, request.params) == (method, params)
    # The base currency as the portal itself lists it (BASE = "Y"), read without the SDK.
    listed = requests.post(sb.webhook_url + "crm.currency.list", json={}, timeout=10).json()["result"]
    assert client.crm.currency.base.get().result == next(c["CURRENCY"] for c in listed if c["BASE"] == "Y")
