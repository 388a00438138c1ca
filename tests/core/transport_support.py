"""Shared helpers of the core transport plane's tests (imported by test_transport*, test_errors*, ...)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bitrix24_core.config import Config
from bitrix24_core.credentials import BitrixApp, BitrixToken, BitrixWebhook
from bitrix24_core.log import StreamLogger
from bitrix24_sandbox import Sandbox

SPEED = 1000.0


@pytest.fixture(name="config")
def config_fixture() -> Iterator[Config]:
    """The process-wide Config, restored after the test."""
    cfg = Config()
    saved = {k: v for k, v in vars(cfg).items() if k != "_lock"}
    cfg.configure(time_scale=SPEED, default_initial_retry_delay=0.5, default_max_retries=5)
    try:
        yield cfg
    finally:
        for key, value in saved.items():
            setattr(cfg, key, value)


@pytest.fixture(name="log_buffer")
def log_buffer_fixture(config: Config) -> Iterator[io.StringIO]:
    """Everything the SDK logs at DEBUG during the test."""
    buffer = io.StringIO()
    logger = StreamLogger(buffer, level=logging.DEBUG)
    config.configure(logger=logger)
    yield buffer
    logger.close()


@pytest.fixture(name="sandbox")
def sandbox_fixture() -> Iterator[Sandbox]:
    with Sandbox(seed={"deals": 120, "contacts": 10}, speed=SPEED) as sb:
        yield sb


def webhook(sb: Sandbox) -> BitrixWebhook:
    return BitrixWebhook(sb.webhook_url)


def token(sb: Sandbox, cls: type[BitrixToken] = BitrixToken, **kwargs: Any) -> BitrixToken:
    o = sb.oauth
    app = BitrixApp(o.client_id, o.client_secret, oauth_server=o.server)
    return cls(sb.base_url, o.access_token, o.refresh_token, o.expires, app, **kwargs)


def all_deal_ids(creds: Any, **call: Any) -> list[int]:
    """Every deal ID, by the documented fast export (order ID, filter >ID, start=-1)."""
    ids: list[int] = []
    last = 0
    while True:
        page = creds.call(
            "crm.deal.list",
            {"order": {"ID": "ASC"}, "filter": {">ID": last}, "select": ["ID", "TITLE"], "start": -1},
            **call,
        )["result"]
        ids.extend(int(row["ID"]) for row in page)
        if len(page) < 50:
            return ids
        last = int(page[-1]["ID"])


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def existing_ids(creds: Any, count: int) -> list[int]:
    """The first ``count`` deal IDs (the seed leaves gaps, as deletions do on a real portal)."""
    return all_deal_ids(creds)[:count]
