"""The OAuth token endpoint over real HTTP: refresh, rotation, errors, expiry on the virtual clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from bitrix24_sandbox import OAuthCredentials, Sandbox

ANSWER_KEYS = {
    "access_token",
    "refresh_token",
    "expires_in",
    "expires",
    "client_endpoint",
    "server_endpoint",
    "domain",
    "member_id",
    "scope",
    "status",
    "user_id",
}


@pytest.fixture()
def sb() -> Iterator[Sandbox]:
    with Sandbox(speed=1000.0, plan="unlimited") as sandbox:
        yield sandbox


def refresh(
    sb: Sandbox, creds: OAuthCredentials, refresh_token: str, post: bool = False
) -> requests.Response:
    params = {
        "grant_type": "refresh_token",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": refresh_token,
    }
    if post:
        return requests.post(f"{creds.server}/oauth/token/", data=params)
    return requests.get(f"{creds.server}/oauth/token/", params=params)


def test_refresh_answers_a_new_pair(sb: Sandbox) -> None:
    creds = sb.oauth
    answer = refresh(sb, creds, creds.refresh_token)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == ANSWER_KEYS
    assert body["expires_in"] == 3600
    assert abs(body["expires"] - (sb.clock.now() + 3600)) < 60
    assert body["client_endpoint"] == f"{sb.base_url}/rest/"
    assert body["member_id"] == creds.member_id and body["user_id"] == 1
    assert body["access_token"] != creds.access_token and body["refresh_token"] != creds.refresh_token
    call = requests.post(f"{sb.base_url}/rest/crm.deal.list", json={"auth": body["access_token"]})
    assert call.status_code == 200
    assert sb.counters()["token_refreshes"] == 1


def test_refresh_token_rotates_and_a_used_one_dies(sb: Sandbox) -> None:
    creds = sb.oauth
    first = refresh(sb, creds, creds.refresh_token, post=True)
    assert first.status_code == 200
    reused = refresh(sb, creds, creds.refresh_token)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    second = refresh(sb, creds, first.json()["refresh_token"])
    assert second.status_code == 200


def test_bad_client_and_bad_request(sb: Sandbox) -> None:
    creds = sb.oauth
    wrong_secret = requests.get(
        f"{creds.server}/oauth/token/",
        params={
            "grant_type": "refresh_token",
            "client_id": creds.client_id,
            "client_secret": "nope",
            "refresh_token": creds.refresh_token,
        },
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    missing = requests.get(f"{creds.server}/oauth/token/", params={"grant_type": "refresh_token"})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    # the failed attempts did not burn the refresh token
    assert refresh(sb, creds, creds.refresh_token).status_code == 200


def test_expired_access_then_refresh_then_retry(sb: Sandbox) -> None:
    creds = sb.oauth
    url = f"{sb.base_url}/rest/crm.deal.list"
    sb.clock.advance(3600)
    assert requests.post(url, json={"auth": creds.access_token}).json()["error"] == "expired_token"
    fresh = refresh(sb, creds, creds.refresh_token).json()
    assert requests.post(url, json={"auth": fresh["access_token"]}).status_code == 200


def test_token_answer_follows_a_domain_move(sb: Sandbox) -> None:
    creds = sb.oauth
    new_base = sb.move_domain()
    answer = refresh(sb, creds, creds.refresh_token)  # the token endpoint does not move
    assert answer.status_code == 200
    assert answer.json()["client_endpoint"] == f"{new_base}/rest/"


def test_secrets_stay_out_of_reprs(sb: Sandbox) -> None:
    creds = sb.oauth
    text = repr(creds) + repr(sb)
    for secret in (creds.client_secret, creds.access_token, creds.refresh_token):
        assert secret not in text
