"""The cost model: a COUNT over the filter when start >= 0, offset depth, rows and fields returned."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from bitrix24_sandbox import Sandbox
from bitrix24_sandbox.cost import list_cost


def call(sb: Sandbox, method: str, params: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(sb.webhook_url + method, json=params, timeout=30)
    assert r.status_code == 200, r.text
    return r.json()


def test_calibrated_on_the_documented_huge_data_numbers():
    """docs settings/performance/huge-data.md: 2,387,743 leads, 3 fields, 49.9 s counted vs 0.097 s."""
    counted = list_cost(rows=50, fields=3, offset=0, counted=2_387_743)
    fast = list_cost(rows=50, fields=3, offset=0, counted=None)
    assert counted == pytest.approx(49.9, abs=0.05)
    assert fast == pytest.approx(0.097, abs=0.002)


def test_portal_charges_the_count_depth_and_fields_over_http():
    with Sandbox(seed={"deals": 3000}, speed=1000.0) as sb:
        base = {"order": {"ID": "ASC"}, "select": ["ID", "TITLE", "DATE_CREATE"]}
        counted = call(sb, "crm.deal.list", {**base, "start": 0})
        fast = call(sb, "crm.deal.list", {**base, "start": -1})
        deep = call(sb, "crm.deal.list", {**base, "start": 2900})
        wide = call(sb, "crm.deal.list", {"order": {"ID": "ASC"}, "start": -1})
        narrow_filter = call(sb, "crm.deal.list", {**base, "filter": {"STAGE_ID": "WON"}, "start": 0})
        t = {
            k: v["time"]["processing"]
            for k, v in {
                "counted": counted,
                "fast": fast,
                "deep": deep,
                "wide": wide,
                "narrow": narrow_filter,
            }.items()
        }
        assert t["counted"] == pytest.approx(list_cost(50, 3, 0, 3000), rel=1e-3)
        assert t["fast"] == pytest.approx(list_cost(50, 3, 0, None), rel=1e-3)
        assert t["counted"] - t["fast"] == pytest.approx(3000 * 49.8 / 2_387_743, rel=0.01)
        assert t["deep"] > t["counted"]  # offset depth costs
        assert t["wide"] > t["fast"]  # every selected field costs a little
        assert t["narrow"] < t["counted"]  # the COUNT covers the filtered rows only
