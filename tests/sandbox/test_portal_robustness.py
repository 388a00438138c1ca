"""Malformed parameters get Bitrix errors, never a crash (a crash would be a 500 on the wire)."""

from __future__ import annotations

from typing import Any

import requests

from bitrix24_sandbox import Sandbox
from bitrix24_sandbox.portal import Portal, PortalError

BAD: list[Any] = [
    None,
    "",
    "x",
    [],
    {},
    ["a"],
    {"a": {"b": 1}},
    -1,
    "-1",
    {"0": "ID"},
    True,
    [{"x": [1]}],
    1e300,
    10**30,
    float("nan"),
    "2024-13-45",
    "0000-01-01",
    "9999-12-31T23:59:59-14:00",
]
KEYS = [
    "filter",
    "select",
    "order",
    "start",
    "id",
    "ID",
    "fields",
    "entityTypeId",
    "FILTER",
    "sort",
    "NAME",
    "PARENT",
    "ACCESS",
    "useOriginalUfNames",
    "items",
]
FIELD_KEYS = [
    "TITLE",
    "OPPORTUNITY",
    "BEGINDATE",
    "PHONE",
    "UF_CRM_TAGS",
    "UF_CRM_VIP",
    "title",
    "opportunity",
    "begindate",
    "CONTACT_IDS",
    "COMMUNICATIONS",
]


def test_every_method_answers_malformed_params_with_portal_errors_only():
    portal = Portal()
    portal.seed(
        {"users": 2, "contacts": 3, "deals": 5, "leads": 3, "activities": 3, "items": 4, "invoices": 2}
    )
    crashes: list[str] = []
    for method in portal.methods():
        for key in KEYS:
            for value in BAD:
                for params in (
                    {key: value},
                    {"filter": {key: value, f">={key}": value}},
                    {"id": 1, "fields": {k: value for k in FIELD_KEYS}},
                ):
                    if method.startswith("crm.item") and "entityTypeId" not in params:
                        params = {**params, "entityTypeId": 128}
                    try:
                        portal.dispatch(method, params)
                    except PortalError:
                        pass
                    except Exception as exc:  # collected: the assertion names every one
                        crashes.append(f"{method} {params!r}: {type(exc).__name__}: {exc}")
    assert not crashes, "\n".join(crashes[:20])


def test_malformed_calls_are_400_over_http():
    with Sandbox(seed={"deals": 3}, speed=1000.0) as sb:
        for method, params in (
            ("crm.deal.add", {"fields": "TITLE"}),
            ("crm.deal.update", {"id": 1, "fields": {"OPPORTUNITY": "lots"}}),
            ("crm.item.list", {"entityTypeId": 128, "order": {"id": "UP"}}),
        ):
            r = requests.post(sb.webhook_url + method, json=params, timeout=30)
            assert r.status_code == 400 and "error" in r.json(), (method, r.text)
