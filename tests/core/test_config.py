"""Process-wide Config (visible from every thread), CallOptions overrides, loggers, encode_query."""

from __future__ import annotations

import datetime as dt
import io
import logging
import threading
from decimal import Decimal
from typing import Any

import pytest
from transport_support import config_fixture, sandbox_fixture, webhook  # noqa: F401

from bitrix24_core.config import PLANS, Config
from bitrix24_core.encoding import encode_query
from bitrix24_core.error import BitrixValidationError
from bitrix24_core.log import AbstractLogger, BaseLogger, NullLogger, StreamLogger
from bitrix24_core.retry import is_read, is_read_batch
from bitrix24_core.transport import CallOptions
from bitrix24_sandbox import Sandbox
from bitrix24_sandbox.wire import parse_query


def test_config_is_one_object_seen_by_every_thread(config: Config) -> None:
    seen: list[Any] = []
    config.configure(default_timeout=(3.0, 7.0), default_max_retries=2)
    thread = threading.Thread(target=lambda: seen.append((Config(), Config().default_timeout)))
    thread.start()
    thread.join()
    assert seen == [(config, (3.0, 7.0))]

    def change() -> None:
        Config().configure(time_scale=42.0)

    thread = threading.Thread(target=change)
    thread.start()
    thread.join()
    assert config.time_scale == 42.0


def test_call_options_override_config(config: Config) -> None:
    config.configure(default_max_retries=2, plan="enterprise", default_timeout=5)
    resolved = CallOptions(max_retries=7, time_scale=3.0).resolve()
    assert (resolved.max_retries, resolved.time_scale, resolved.timeout) == (7, 3.0, 5.0)
    assert resolved.rate_limit == PLANS["enterprise"] == (250.0, 5.0)
    assert CallOptions(rate_limit=False).resolve().rate_limit is False
    merged = CallOptions(max_retries=1, timeout=2.0).merged(CallOptions(max_retries=4))
    assert (merged.max_retries, merged.timeout) == (4, 2.0)
    config.configure(rate_limit=False, operating_limit=False)
    assert CallOptions().resolve().rate_limit is False
    assert CallOptions().resolve().operating_limit is False


@pytest.mark.parametrize(
    ("setting", "fragment"),
    [
        ({"default_max_retries": 1.5}, "default_max_retries must be a non-negative int"),
        ({"time_scale": float("nan")}, "time_scale must be a positive number"),
        ({"default_initial_retry_delay": float("nan")}, "default_initial_retry_delay must be"),
        ({"operating_window": 0}, "operating_window must be a positive number"),
        ({"oauth_server": "oauth.bitrix.info"}, "oauth_server must be an http"),
        ({"logger": "debug"}, "logger must be an AbstractLogger"),
        ({"plan": 2}, "unknown plan"),
    ],
)
def test_bad_config_values_are_refused_and_leave_config_unchanged(
    config: Config, setting: dict[str, Any], fragment: str
) -> None:
    before = repr(config), config.oauth_server, config.logger
    with pytest.raises(BitrixValidationError, match=fragment):
        config.configure(**setting)
    assert (repr(config), config.oauth_server, config.logger) == before


def test_call_options_refuse_nan() -> None:
    with pytest.raises(BitrixValidationError, match="initial_retry_delay"):
        CallOptions(initial_retry_delay=float("nan"))


def test_loggers_are_abstract_logger_and_mask() -> None:
    buffer = io.StringIO()
    logger = StreamLogger(buffer, level=logging.DEBUG)
    assert isinstance(logger, BaseLogger) and isinstance(logger, AbstractLogger)
    logger.debug("POST http://h/rest/1/topsecretcode/crm.deal.list", {"auth": "tok123456"})
    logger.info("visible")
    NullLogger().error("nothing")
    text = buffer.getvalue()
    assert "DEBUG" in text and "visible" in text and "topsecretcode" not in text and "tok123456" not in text
    quiet = StreamLogger(buffer, level=logging.WARNING)
    quiet.info("hidden-line")
    assert "hidden-line" not in buffer.getvalue()
    with pytest.raises(TypeError):
        AbstractLogger()  # type: ignore[abstract]


def test_encode_query_round_trips_through_php_brackets() -> None:
    params = {
        "filter": {">ID": 10, "@STAGE_ID": ["NEW", "WON"], "=OPENED": "Y", "DATE": dt.date(2024, 8, 30)},
        "select": ["ID", "TITLE"],
        "fields": {"PHONE": [{"VALUE": "+1 555&x=1", "VALUE_TYPE": "WORK"}], "SUM": Decimal("10.50")},
        "flag": True,
        "off": False,
        "none": None,
        "empty": [],
        "when": dt.datetime(2024, 8, 30, 14, 29, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "ratio": 0.25,
    }
    query = encode_query(params)
    assert "filter[>ID]=10" in query and "select[0]=ID" in query
    decoded = parse_query(query)
    assert decoded == {
        "filter": {">ID": "10", "@STAGE_ID": ["NEW", "WON"], "=OPENED": "Y", "DATE": "2024-08-30"},
        "select": ["ID", "TITLE"],
        "fields": {"PHONE": [{"VALUE": "+1 555&x=1", "VALUE_TYPE": "WORK"}], "SUM": "10.50"},
        "flag": "1",
        "off": "0",
        "none": "",
        "empty": "",
        "when": "2024-08-30T14:29:00+02:00",
        "ratio": "0.25",
    }
    assert encode_query({"ref": "$result[c0][49][ID]"}) == "ref=$result[c0][49][ID]"
    with pytest.raises(BitrixValidationError):
        encode_query({"x": object()})
    with pytest.raises(BitrixValidationError):
        encode_query({"x": float("nan")})


def test_encoded_batch_command_reads_the_same_as_json(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    params = {"filter": {">ID": 20, "<=ID": 90}, "select": ["ID", "TITLE"], "order": {"ID": "DESC"}}
    direct = hook.call("crm.deal.list", params)["result"]
    batch = hook.call("batch", {"cmd": {"a": "crm.deal.list?" + encode_query(params)}})["result"]
    assert batch["result"]["a"] == direct and len(direct) > 10
    assert [int(r["ID"]) for r in direct] == sorted((int(r["ID"]) for r in direct), reverse=True)


def test_read_classification() -> None:
    for method in ("crm.deal.list", "crm.deal.get", "crm.deal.fields", "user.get", "department.get",
                   "CRM.ITEM.LIST.json", "server.time"):  # fmt: skip
        assert is_read(method), method
    for method in ("crm.deal.add", "crm.deal.update", "crm.deal.delete", "event.offline.get", "batch"):
        assert not is_read(method), method
    assert is_read_batch(["crm.deal.list", "user.get"])
    assert not is_read_batch(["crm.deal.list", "crm.deal.update"])
    assert not is_read_batch([])


def test_json_bodies_carry_dates_decimals_and_sets(config: Config, sandbox: Sandbox) -> None:
    hook = webhook(sandbox)
    fields = {"TITLE": "typed", "OPPORTUNITY": Decimal("12.50"), "BEGINDATE": dt.date(2024, 8, 30)}
    new_id = hook.call("crm.deal.add", {"fields": fields})["result"]
    got = hook.call("crm.deal.get", {"id": new_id})["result"]
    assert got["TITLE"] == "typed" and float(got["OPPORTUNITY"]) == 12.5
    assert got["BEGINDATE"].startswith("2024-08-30")
    listed = hook.call("crm.deal.list", {"filter": {"@ID": {int(new_id)}}, "select": ["ID"]})["result"]
    assert listed == [{"ID": str(new_id)}]
    with pytest.raises(BitrixValidationError):
        hook.call("crm.deal.add", {"fields": {"TITLE": object()}})
