"""Counters over real HTTP: requests, commands, rows, server time per method, refusals, errors."""

from __future__ import annotations

import requests

from bitrix24_sandbox import Sandbox


def test_counters_tally_what_the_portal_did() -> None:
    with Sandbox(speed=0.5, plan="standard", cost_factor=1e-3) as sb, requests.Session() as http:
        for i in range(70):
            sb.portal.add("deal", {"TITLE": f"D{i}"})
        sb.reset_counters()
        page = http.post(sb.webhook_url + "crm.deal.list", json={"select": ["ID"]}).json()
        cmd = {"a": "crm.deal.list?select[]=ID&start=50", "b": "crm.deal.get?id=999999", "c": "scope"}
        http.post(sb.webhook_url + "batch", json={"cmd": cmd})
        http.post(sb.webhook_url + "crm.nothing", json={})
        http.post(f"{sb.base_url}/rest/1/badcode/scope", json={})
        for _ in range(52):
            http.get(sb.webhook_url + "scope")
        counters = sb.counters()
        assert counters["requests"] == 4 + 52
        assert counters["rows"] == 70  # 50 + 20 rows of list answers
        assert counters["calls"]["crm.deal.list"] == 2 and counters["calls"]["scope"] >= 1
        assert counters["server_time"]["crm.deal.list"] > page["time"]["processing"] > 0
        assert counters["errors"]["ERROR_METHOD_NOT_FOUND"] == 1
        assert counters["errors"][""] == 1  # the batch command's legacy "Not found"
        assert counters["errors"]["INVALID_CREDENTIALS"] == 1
        assert counters["refusals"]["QUERY_LIMIT_EXCEEDED"] >= 1
        refused = counters["refusals"]["QUERY_LIMIT_EXCEEDED"]
        # executed methods, failed ones included: list, 3 batch commands, crm.nothing, the unrefused scopes
        assert counters["commands"] == 1 + 3 + 1 + (52 - refused)
        sb.reset_counters()
        assert sb.counters()["requests"] == 0 and sb.counters()["server_time"] == {}
