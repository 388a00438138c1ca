"""Every example of the seed (b24pysdk-architecture.md) run against the sandbox portal over real HTTP.

The examples are read from a verbatim copy of the seed (``seed_b24pysdk_architecture.txt``: not .md, so
formatters leave its code blocks alone; a test checks it still matches the shared original when that is
present) and executed as they are, changed only by the substitutions in ``CHANGES``: import lines
(``b24pysdk`` -> ``bitrix24_core``), the client's construction, and the places where the example
contradicts the real API (docs/core-api.md explains each). Examples without an import line run with
``client`` and ``BitrixAPIError`` predefined.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from api_plane_support import SPEED, make_client, stored_ids

from bitrix24_core import BitrixApp, Client, Config
from bitrix24_core.error import BitrixAPIError
from bitrix24_sandbox import Sandbox

SEED_COPY = Path(__file__).with_name("seed_b24pysdk_architecture.txt")
SEED_ORIGINAL = Path("/work/shared/seed/b24pysdk-architecture.md")
NAMES = [
    "fields",
    "add",
    "get",
    "update",
    "delete",
    "list",
    "as_list",
    "as_list_fast",
    "errors",
    "batch",
    "batches",
    "config",
    "events",
]

# (text in the example, what runs instead). Each must occur in its example.
CHANGES: dict[str, list[tuple[str, str]]] = {
    # contradiction: crm.item.fields answers {"fields": {...}} (docs crm/universal/crm-item-fields.md)
    "fields": [('request["webformId"]', 'request["fields"]["webformId"]')],
    # contradiction: crm.type.delete answers [] on success (docs .../crm-type-delete.md), which is falsy
    "delete": [("if request.result:", "if request.result is not None:")],
    # contradiction: list methods take `start`; there is no `next` parameter (`next` is in the answer)
    "list": [("next=50,", "start=50,")],
    "errors": [
        ("from b24pysdk import Client", "from bitrix24_core import BitrixWebhook, Client"),
        ("from b24pysdk.error import (", "from bitrix24_core.error import ("),
        ("client = Client()", "client = Client(BitrixWebhook(WEBHOOK_URL), time_scale=SPEED)"),
    ],
    # contradiction: crm.company.add answers the new ID (an integer), not a record with 'ID'
    "batch": [("{company['ID']}", "{company}")],
    # contradiction: crm.activity.update answers true, not the activity
    "batches": [('print(activity["TITLE"])', "print(activity)")],
    "config": [
        ("from b24pysdk import Config", "from bitrix24_core import Config"),
        ("from b24pysdk.log import StreamLogger", "from bitrix24_core.log import StreamLogger"),
    ],
    "events": [
        ("from b24pysdk import BitrixToken", "from bitrix24_core import BitrixToken"),
        ("from ..events import", "from bitrix24_core.events import"),
    ],
}


def seed_blocks(path: Path) -> dict[str, str]:
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == len(NAMES)
    return dict(zip(NAMES, blocks, strict=True))


EXAMPLES = seed_blocks(SEED_COPY)


def run_example(name: str, namespace: dict[str, Any]) -> dict[str, Any]:
    code = EXAMPLES[name]
    for old, new in CHANGES.get(name, []):
        assert old in code, f"{name}: {old!r} not in the example"
        code = code.replace(old, new)
    exec(compile(code, f"<seed example {name}>", "exec"), namespace)  # noqa: S102 - the seed's own code
    return namespace


@pytest.fixture(scope="module", name="sb")
def sandbox_fixture() -> Iterator[Sandbox]:
    seed = {
        "deals": 150,
        "leads": 20,
        "departments": 8,
        "users": 20,
        "companies": 12,
        "contacts": 90,
        "activities": 10,
    }
    with Sandbox(seed=seed, speed=SPEED) as sb:
        yield sb


@pytest.fixture(name="client")
def client_fixture(sb: Sandbox) -> Client:
    return make_client(sb)


def given(client: Client) -> dict[str, Any]:
    """What the examples without an import line assume exists."""
    return {"client": client, "BitrixAPIError": BitrixAPIError}


def raw(sb: Sandbox, method: str, params: dict[str, Any]) -> Any:
    """A plain HTTP call, independent of the SDK, to check what an example did."""
    answer = requests.post(sb.webhook_url + method, json=params, timeout=10)
    return answer.json().get("result")


def test_copy_matches_the_shared_seed() -> None:
    if not SEED_ORIGINAL.exists():
        pytest.skip("shared seed not on this machine")
    assert seed_blocks(SEED_ORIGINAL) == EXAMPLES


def test_fields(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    if not any(t["entityTypeId"] == 1268 for t in raw(sb, "crm.type.list", {})["types"]):
        raw(sb, "crm.type.add", {"fields": {"title": "Example type", "entityTypeId": 1268}})
    run_example("fields", given(client))
    assert capsys.readouterr().out == "Created by CRM form\n"


def test_add(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    run_example("add", given(client))
    match = re.fullmatch(r"ID:  (\d+)\n", capsys.readouterr().out)
    assert match
    deal = raw(sb, "crm.deal.get", {"id": match.group(1)})
    assert (
        deal["TITLE"] == "New Deal #1" and deal["CURRENCY_ID"] == "EUR" and deal["STAGE_ID"] == "PREPARATION"
    )
    assert float(deal["OPPORTUNITY"]) == 1000000


def test_get(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    run_example("get", given(client))
    de = raw(sb, "crm.currency.get", {"id": "USD"})["LANG"]["de"]
    assert capsys.readouterr().out == f"{de['FORMAT_STRING']} {de['DEC_POINT']}\n"


def test_update(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    assert {3, 5} <= set(stored_ids(sb, "department"))  # (the sandbox's user IDs are sparse: no 12)
    run_example("update", given(client))
    assert capsys.readouterr().out == "Department updated.\n"
    (dept,) = raw(sb, "department.get", {"ID": 3})
    assert (dept["NAME"], str(dept["PARENT"]), str(dept["UF_HEAD"])) == ("New department title", "5", "12")


def test_delete(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    while not any(t["id"] == 5 for t in raw(sb, "crm.type.list", {})["types"]):
        raw(sb, "crm.type.add", {"fields": {"title": "Filler type"}})
    run_example("delete", given(client))
    assert capsys.readouterr().out == "Deal deleted successfully.\n"
    assert all(t["id"] != 5 for t in raw(sb, "crm.type.list", {})["types"])


def test_list(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(70):
        sb.portal.add(
            "lead", {"TITLE": f"Cheap lead {n:02}", "OPPORTUNITY": 100 + n, "IS_MANUAL_OPPORTUNITY": "Y"}
        )
    run_example("list", given(client))
    flt = {"<=OPPORTUNITY": 20000, "IS_MANUAL_OPPORTUNITY": "Y"}
    want = raw(
        sb,
        "crm.lead.list",
        {"select": ["ID", "TITLE"], "filter": flt, "order": {"TITLE": "ASC"}, "start": 50},
    )
    assert len(want) >= 20
    assert capsys.readouterr().out == "".join(f"{lead['ID']}  -  {lead['TITLE']}\n" for lead in want)


def test_as_list(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    run_example("as_list", given(client))
    want = raw(sb, "crm.deal.list", {"select": ["TITLE"], "order": {"ID": "ASC"}})
    assert capsys.readouterr().out == "".join(f"{deal['TITLE']}\n" for deal in want)


def test_as_list_fast(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    run_example("as_list_fast", given(client))
    stored = sb.portal.store.query("deal", "1", [], "id DESC", None)
    assert len(stored) >= 150
    assert capsys.readouterr().out == "".join(f"{deal['TITLE']}\n" for deal in stored)


def test_errors(sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    assert 9999 not in stored_ids(sb, "deal")
    run_example("errors", {"WEBHOOK_URL": sb.webhook_url, "SPEED": SPEED})
    assert capsys.readouterr().out == "Bad requests: <empty code>: Not found (crm.deal.get) [HTTP 400]\n"


def test_batch(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    run_example("batch", given(client))
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": ")[0] for line in lines] == ["company1", "company2"]
    titles, phones = ["Updated Company 1", "Updated Company 2"], ["+1234567890", "+0987654321"]
    for line, title, phone in zip(lines, titles, phones, strict=True):
        company = raw(sb, "crm.company.get", {"id": line.split(": ")[1]})
        assert company["TITLE"] == title and company["PHONE"][0]["VALUE"] == phone


def test_batches(sb: Sandbox, client: Client, capsys: pytest.CaptureFixture[str]) -> None:
    assert {1, 2} <= set(stored_ids(sb, "activity"))
    run_example("batches", given(client))
    assert capsys.readouterr().out == "True\nTrue\n"
    assert [raw(sb, "crm.activity.get", {"id": i})["RESPONSIBLE_ID"] for i in (1, 2)] == ["1", "1"]


def test_config(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = Config()
    saved = {k: v for k, v in vars(cfg).items() if k != "_lock"}
    try:
        namespace = run_example("config", {})
        assert namespace["cfg"] is Config() and Config().logger is namespace["logger"]
        assert (cfg.default_timeout, cfg.default_max_retries) == (10.0, 3)
        assert (cfg.default_initial_retry_delay, cfg.default_retry_delay_increment) == (1, 0)
    finally:
        for key, value in saved.items():
            setattr(cfg, key, value)


def test_events(sb: Sandbox, capsys: pytest.CaptureFixture[str]) -> None:
    namespace = run_example("events", {})
    o = sb.oauth
    app = BitrixApp(o.client_id, o.client_secret, oauth_server=o.server)
    token = namespace["MyBitrixToken"](sb.base_url, o.access_token, o.refresh_token, o.expires, app)
    client = Client(token, time_scale=SPEED)
    old_domain = token.domain
    sb.expire_tokens()
    assert client.server.time().result
    assert "Renewed oauth token: " in capsys.readouterr().out
    new_base = sb.move_domain()
    assert client.server.time().result
    out = capsys.readouterr().out
    assert f"Old domain: {old_domain}, new domain: {new_base.split('://')[1]}" in out
