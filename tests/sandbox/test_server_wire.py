"""The wire over real HTTP: GET/POST, JSON and PHP brackets, method names, envelopes, keep-alive."""

from __future__ import annotations

import http.client as httpclient
import json
import re
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from bitrix24_sandbox import Sandbox
from bitrix24_sandbox.wire import parse_query

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+03:00$")


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(speed=1000.0, plan="unlimited") as sandbox:
        for i in range(1, 121):
            sandbox.portal.add("deal", {"TITLE": f"Deal {i}", "OPPORTUNITY": i})
        yield sandbox


@pytest.fixture()
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def test_post_json_and_get_brackets_give_the_same_page(sb: Sandbox, http: requests.Session) -> None:
    body = {"filter": {">ID": 10, "<=ID": 15}, "select": ["ID", "TITLE"], "order": {"ID": "ASC"}}
    by_json = http.post(sb.webhook_url + "crm.deal.list", json=body).json()
    # keys are percent-encoded as PHP clients do ("=" inside "<=ID" would end the key otherwise)
    query = urlencode(
        [
            ("filter[>ID]", 10),
            ("filter[<=ID]", 15),
            ("select[]", "ID"),
            ("select[]", "TITLE"),
            ("order[ID]", "ASC"),
        ]
    )
    by_get = http.get(sb.webhook_url + "crm.deal.list?" + query).json()
    by_form = http.post(
        sb.webhook_url + "crm.deal.list",
        data=query,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ).json()
    assert [r["ID"] for r in by_json["result"]] == ["11", "12", "13", "14", "15"]
    assert by_get["result"] == by_json["result"] == by_form["result"]
    assert set(by_json["result"][0]) == {"ID", "TITLE"}


def test_nested_bracket_fields_reach_the_portal(sb: Sandbox, http: requests.Session) -> None:
    form = "fields[TITLE]=Phones&fields[PHONE][0][VALUE]=%2B100&fields[PHONE][0][VALUE_TYPE]=WORK"
    added = http.post(
        sb.webhook_url + "crm.contact.add",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert added.status_code == 200, added.text
    got = http.get(sb.webhook_url + f"crm.contact.get?id={added.json()['result']}").json()["result"]
    assert [p["VALUE"] for p in got["PHONE"]] == ["+100"]


def test_php_bracket_decoding_rules() -> None:
    assert parse_query("filter[>ID]=10&select[]=ID&select[]=TITLE") == {
        "filter": {">ID": "10"},
        "select": ["ID", "TITLE"],
    }
    assert parse_query("fields[PHONE][0][VALUE]=1&fields[PHONE][1][VALUE]=2") == {
        "fields": {"PHONE": [{"VALUE": "1"}, {"VALUE": "2"}]}
    }
    assert parse_query("a[x]=1&a[x]=2&b=&c[5]=z") == {"a": {"x": "2"}, "b": "", "c": {"5": "z"}}
    assert parse_query("cmd[k]=crm.deal.get%3Fid%3D1") == {"cmd": {"k": "crm.deal.get?id=1"}}
    assert parse_query("0=a&1=b") == {"0": "a", "1": "b"}


def test_method_names_are_case_insensitive_and_json_suffix_optional(
    sb: Sandbox, http: requests.Session
) -> None:
    plain = http.get(sb.webhook_url + "crm.deal.get?id=3").json()["result"]
    for name in ("CRM.Deal.Get", "crm.deal.get.json", "CRM.DEAL.GET.JSON"):
        answer = http.get(sb.webhook_url + f"{name}?id=3")
        assert answer.status_code == 200
        assert answer.json()["result"]["ID"] == plain["ID"] == "3"


def test_unknown_method_is_404_method_not_found(sb: Sandbox, http: requests.Session) -> None:
    answer = http.post(sb.webhook_url + "crm.nothing.here", json={})
    assert answer.status_code == 404
    assert answer.json() == {"error": "ERROR_METHOD_NOT_FOUND", "error_description": "Method not found!"}


def test_webhook_url_without_user_id_is_404(sb: Sandbox, http: requests.Session) -> None:
    code = urlsplit(sb.webhook_url).path.split("/")[3]
    answer = http.post(f"{sb.base_url}/rest/{code}/crm.deal.list", json={})
    assert answer.status_code == 404
    assert answer.json()["error"] == "ERROR_METHOD_NOT_FOUND"


def test_list_envelope_has_total_next_and_time(sb: Sandbox, http: requests.Session) -> None:
    first = http.post(sb.webhook_url + "crm.deal.list", json={"order": {"ID": "ASC"}}).json()
    assert len(first["result"]) == 50 and first["total"] == 120 and first["next"] == 50
    last = http.post(sb.webhook_url + "crm.deal.list", json={"order": {"ID": "ASC"}, "start": 100}).json()
    assert len(last["result"]) == 20 and "next" not in last
    t = first["time"]
    assert set(t) == {
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
        "operating",
        "operating_reset_at",
    }
    assert t["finish"] >= t["start"] and t["duration"] >= t["processing"] > 0
    assert ISO.match(t["date_start"]) and ISO.match(t["date_finish"])
    assert isinstance(t["operating_reset_at"], int) and t["operating_reset_at"] > t["start"]
    assert abs(t["start"] - sb.clock.now()) < 600


def test_single_record_answer_has_no_total(sb: Sandbox, http: requests.Session) -> None:
    answer = http.get(sb.webhook_url + "crm.deal.get?id=1").json()
    assert "total" not in answer and "next" not in answer and answer["result"]["TITLE"] == "Deal 1"


def test_errors_carry_code_description_and_status(sb: Sandbox, http: requests.Session) -> None:
    missing = http.get(sb.webhook_url + "crm.deal.get?id=999999")
    assert missing.status_code == 400
    assert missing.json() == {"error": "", "error_description": "Not found"}
    broken = http.post(
        sb.webhook_url + "crm.deal.list", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["error"] == "INVALID_REQUEST"


def test_answers_are_utf8_json(sb: Sandbox, http: requests.Session) -> None:
    added = http.post(sb.webhook_url + "crm.deal.add", json={"fields": {"TITLE": "Сделка ✓"}}).json()
    answer = http.get(sb.webhook_url + f"crm.deal.get?id={added['result']}")
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["result"]["TITLE"] == "Сделка ✓"


def test_keep_alive_serves_many_requests_on_one_connection(sb: Sandbox) -> None:
    url = urlsplit(sb.webhook_url)
    conn = httpclient.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        conn.request("GET", url.path + "crm.deal.get?id=1")
        first = conn.getresponse()
        assert first.status == 200 and first.getheader("Connection") != "close"
        first.read()
        sock = conn.sock
        for _ in range(3):
            conn.request(
                "POST",
                url.path + "crm.deal.get",
                body=json.dumps({"id": 2}),
                headers={"Content-Type": "application/json"},
            )
            answer = conn.getresponse()
            assert json.loads(answer.read())["result"]["ID"] == "2"
        assert conn.sock is sock  # the same socket all along
    finally:
        conn.close()


def test_requests_are_served_concurrently() -> None:
    # At speed 10 a call costing 3 simulated seconds takes 0.3 s of real time; four in parallel
    # must finish in about that, not in 1.2 s.
    with Sandbox(speed=10.0, plan="unlimited", cost_factor=1.0) as sandbox:
        sandbox.set_cost_factor(3.0 / 0.0515)  # crm.deal.add costs ~0.05 s: scale it to ~3 s
        url = sandbox.webhook_url + "crm.deal.add"
        statuses: list[int] = []

        def call() -> None:
            statuses.append(requests.post(url, json={"fields": {"TITLE": "x"}}, timeout=10).status_code)

        began = time.monotonic()
        threads = [threading.Thread(target=call) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - began
        assert statuses == [200] * 4
        assert 0.25 < elapsed < 0.9, elapsed


def test_clock_offset_moves_portal_time() -> None:
    with Sandbox(speed=1.0, clock_offset=-7200.0, plan="unlimited") as sandbox:
        answer = requests.get(sandbox.webhook_url + "server.time").json()
        assert abs(answer["time"]["start"] - (time.time() - 7200)) < 5
        sandbox.clock.set_offset(3600.0)
        later = requests.get(sandbox.webhook_url + "server.time").json()
        assert abs(later["time"]["start"] - (time.time() + 3600)) < 5
        assert later["result"].endswith("+03:00")


def test_chunked_request_body_is_read(sb: Sandbox) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"id": '
        yield b"4}"

    answer = requests.post(
        sb.webhook_url + "crm.deal.get", data=chunks(), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 200 and answer.json()["result"]["ID"] == "4"


def test_stop_closes_the_port_and_kept_alive_connections() -> None:
    sandbox = Sandbox(speed=1000.0, plan="unlimited").start()
    http = requests.Session()
    assert http.get(sandbox.webhook_url + "scope").status_code == 200  # leaves a kept-alive connection
    base = sandbox.base_url
    began = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - began < 2.0
    with pytest.raises(requests.ConnectionError):
        http.get(base + "/rest/scope", timeout=2)
    http.close()


def test_many_parallel_clients_are_all_served(sb: Sandbox) -> None:
    failures: list[str] = []

    def client() -> None:
        with requests.Session() as session:
            for _ in range(5):
                answer = session.get(sb.webhook_url + "crm.deal.get?id=1", timeout=10)
                if answer.status_code != 200:
                    failures.append(answer.text)

    began = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert time.monotonic() - began < 5.0
