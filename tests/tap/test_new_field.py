"""A custom field added on the portal appears at the next discovery, labelled and typed."""

from __future__ import annotations

import requests
from tap_support import SPEED, discover, run_tap, select, tap_config

from bitrix24_sandbox import Sandbox


def _call(sb: Sandbox, method: str, params: dict) -> object:
    answer = requests.post(sb.webhook_url + method, json=params, timeout=30).json()
    assert "error" not in answer, answer
    return answer["result"]


def test_field_added_on_the_portal_appears_at_next_discovery() -> None:
    with Sandbox(seed={"deals": 10}, speed=SPEED) as sb:
        config = tap_config(sb)
        before = discover(config)
        deals = next(s for s in before["streams"] if s["tap_stream_id"] == "deals")["schema"]["properties"]
        assert "UF_CRM_SHOE_SIZE" not in deals

        _call(
            sb,
            "crm.deal.userfield.add",
            {
                "fields": {
                    "FIELD_NAME": "SHOE_SIZE",
                    "USER_TYPE_ID": "enumeration",
                    "LIST_COLUMN_LABEL": "Shoe size",
                    "EDIT_FORM_LABEL": "Shoe size",
                    "MULTIPLE": "N",
                    "LIST": [{"VALUE": "small"}, {"VALUE": "large"}],
                }
            },
        )
        after = discover(config)
        deals = next(s for s in after["streams"] if s["tap_stream_id"] == "deals")["schema"]["properties"]
        field = deals["UF_CRM_SHOE_SIZE"]
        assert field["title"] == "Shoe size" and "custom field" in field["description"]
        assert "integer" in field["type"] and len([v for v in field["enum"] if v is not None]) == 2
        assert "=small" in field["description"] and "=large" in field["description"]

        deal_id = int(_call(sb, "crm.deal.list", {"select": ["ID"], "start": -1})[0]["ID"])  # type: ignore[index]
        large = max(v for v in field["enum"] if v is not None)
        _call(sb, "crm.deal.update", {"id": deal_id, "fields": {"UF_CRM_SHOE_SIZE": large}})
        run = run_tap(config, catalog=select(after, ["deals"]))
        assert {r["ID"]: r for r in run.records("deals")}[deal_id]["UF_CRM_SHOE_SIZE"] == large
