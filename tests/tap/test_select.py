"""Only the catalog's selected properties go into `select`: fewer fields, less server time."""

from __future__ import annotations

from tap_support import SPEED, discover, portal_ids, run_tap, select, tap_config

from bitrix24_sandbox import Sandbox


def test_deselected_fields_are_not_requested() -> None:
    with Sandbox(seed={"deals": 2000}, speed=SPEED) as sb:
        config = tap_config(sb)
        catalog = discover(config)
        deal_fields = next(s for s in catalog["streams"] if s["tap_stream_id"] == "deals")["schema"][
            "properties"
        ]
        keep = {"ID", "TITLE", "DATE_MODIFY"}
        narrow = select(catalog, ["deals"], {"deals": [f for f in deal_fields if f not in keep]})

        sb.reset_counters()
        full = run_tap(config, catalog=select(catalog, ["deals"]))
        full_time = sb.counters()["server_time"]["crm.deal.list"]
        sb.reset_counters()
        small = run_tap(config, catalog=narrow)
        small_time = sb.counters()["server_time"]["crm.deal.list"]

    assert sorted(small.ids("deals")) == sorted(full.ids("deals")) and len(full.ids("deals")) == 2000
    assert set(small.records("deals")[0]) == keep
    assert set(small.schema("deals")["properties"]) == keep
    assert small_time < full_time * 0.7, f"server time {small_time:.2f}s with 3 fields vs {full_time:.2f}s"


def test_custom_fields_can_be_left_out() -> None:
    with Sandbox(seed={"deals": 20}, speed=SPEED) as sb:
        config = tap_config(sb, include_user_fields=False)
        catalog = discover(config)
        deals = next(s for s in catalog["streams"] if s["tap_stream_id"] == "deals")["schema"]["properties"]
        assert deals and not [name for name in deals if name.startswith("UF_")]
        run = run_tap(config, catalog=select(catalog, ["deals"]))
        assert sorted(run.ids("deals")) == portal_ids(sb)
        assert not [k for r in run.records("deals") for k in r if k.startswith("UF_")]
