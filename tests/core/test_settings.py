"""bitrix24_core.settings (flat connector settings -> CallOptions, OAuth credentials with a rotating
refresh-token file) and bitrix24_core.entity_names, against the sandbox over real HTTP."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_plane_support import SPEED

from bitrix24_core import BitrixToken, Client
from bitrix24_core.entity_names import entity_path, entity_paths
from bitrix24_core.error import BitrixOAuthInvalidGrant, BitrixValidationError
from bitrix24_core.settings import call_options, missing_oauth_settings, oauth_token
from bitrix24_sandbox import Sandbox


@pytest.fixture(scope="module", name="sb")
def sandbox_fixture() -> Iterator[Sandbox]:
    with Sandbox(seed={"deals": 5}, speed=SPEED) as sb:
        yield sb


def oauth_settings(sb: Sandbox, **extra: Any) -> dict[str, Any]:
    oauth = sb.oauth
    return {
        "domain": sb.base_url,
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
        "refresh_token": oauth.refresh_token,
        "oauth_server": oauth.server,
        "time_scale": SPEED,
        **extra,
    }


def test_call_options_from_plan_or_explicit_limits() -> None:
    default = call_options({})
    assert (default.rate_limit, default.timeout, default.time_scale) == ((50, 2), (10.0, 70.0), 1.0)
    assert call_options({"plan": "Enterprise"}).rate_limit == (250, 5)
    explicit = call_options({"rate_limit_bucket": 10, "rate_limit_drain": 1, "request_timeout": 5})
    assert explicit.rate_limit == (10.0, 1.0) and explicit.timeout == (10.0, 5.0)
    with pytest.raises(BitrixValidationError, match="rate_limit_bucket and rate_limit_drain"):
        call_options({"rate_limit_bucket": 10})
    with pytest.raises(BitrixValidationError, match="Unknown plan 'gold'"):
        call_options({"plan": "gold"})


def test_missing_oauth_settings_are_named() -> None:
    assert missing_oauth_settings({"domain": "x", "client_id": "", "refresh_token": "r"}) == [
        "client_id",
        "client_secret",
    ]


def test_oauth_token_rotates_through_the_token_file(sb: Sandbox, tmp_path: Path) -> None:
    token_file = tmp_path / "refresh_token"
    settings = oauth_settings(sb, refresh_token_file=str(token_file))
    options = call_options(settings)
    token = oauth_token(settings, options, BitrixToken)
    first = token_file.read_text()
    assert (
        first and first != sb.oauth.refresh_token == settings["refresh_token"]
    )  # the configured one is spent
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    client = Client(token, time_scale=SPEED)
    assert client.crm.deal.list(select=["ID"]).result
    sb.expire_tokens()  # the renewal during a call is written to the file too
    assert client.crm.deal.list(select=["ID"]).result
    assert token_file.read_text() not in ("", first) and token_file.read_text() == token.refresh_token
    again = oauth_token(settings, options, BitrixToken)  # the next run starts from the file
    assert again.refresh_token == token_file.read_text()
    with pytest.raises(BitrixOAuthInvalidGrant):  # without the file the spent token is refused
        oauth_token(oauth_settings(sb), options, BitrixToken)


def test_entity_paths() -> None:
    assert entity_paths("deal", "item", "user", "department") == {
        "deal": "crm.deal",
        "item": "crm.item",
        "user": "user",
        "department": "department",
    }
    assert entity_path("crm.contact") == "crm.contact"
    with pytest.raises(KeyError, match="nothing"):
        entity_path("nothing")
