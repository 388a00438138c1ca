"""Who may call, over real HTTP: webhooks, OAuth tokens, scopes, and the portal's domain move."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from bitrix24_sandbox import Sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(speed=1000.0, plan="unlimited") as sandbox:
        sandbox.portal.add("deal", {"TITLE": "Only deal"})
        yield sandbox


def test_webhook_call_runs_as_its_user(sb: Sandbox) -> None:
    answer = requests.post(sb.webhook_url + "crm.deal.list", json={"select": ["ID", "TITLE"]})
    assert answer.status_code == 200
    assert answer.json()["result"] == [{"ID": "1", "TITLE": "Only deal"}]


def test_wrong_webhook_code_is_invalid_credentials(sb: Sandbox) -> None:
    answer = requests.post(f"{sb.base_url}/rest/1/wrongcode123/crm.deal.list", json={})
    assert answer.status_code == 401
    assert answer.json()["error"] == "INVALID_CREDENTIALS"
    other_user = sb.webhook_url.replace("/rest/1/", "/rest/2/")
    assert requests.post(other_user + "crm.deal.list", json={}).json()["error"] == "INVALID_CREDENTIALS"


def test_oauth_without_auth_is_no_auth_found(sb: Sandbox) -> None:
    answer = requests.post(f"{sb.base_url}/rest/crm.deal.list", json={})
    assert answer.status_code == 401
    assert answer.json() == {"error": "NO_AUTH_FOUND", "error_description": "Wrong authorization data"}


def test_oauth_token_in_query_body_or_bearer_header(sb: Sandbox) -> None:
    token = sb.oauth.access_token
    url = f"{sb.base_url}/rest/crm.deal.get"
    in_query = requests.get(url, params={"auth": token, "id": "1"})
    in_body = requests.post(url, json={"auth": token, "id": 1})
    in_form = requests.post(url, data={"auth": token, "id": "1"})
    by_header = requests.post(url, json={"id": 1}, headers={"Authorization": f"Bearer {token}"})
    for answer in (in_query, in_body, in_form, by_header):
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"]["ID"] == "1"


def test_unknown_token_is_invalid_token(sb: Sandbox) -> None:
    answer = requests.post(f"{sb.base_url}/rest/crm.deal.list", json={"auth": "0" * 64})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"


def test_access_token_expires_on_the_virtual_clock(sb: Sandbox) -> None:
    creds = sb.issue_token(expires_in=600)
    url = f"{sb.base_url}/rest/crm.deal.list"
    assert requests.post(url, json={"auth": creds.access_token}).status_code == 200
    sb.clock.advance(601)
    expired = requests.post(url, json={"auth": creds.access_token})
    assert expired.status_code == 401
    assert expired.json() == {
        "error": "expired_token",
        "error_description": "The access token provided has expired.",
    }


def test_expire_tokens_on_demand(sb: Sandbox) -> None:
    creds = sb.issue_token()
    sb.expire_tokens(creds.access_token)
    answer = requests.post(f"{sb.base_url}/rest/crm.deal.list", json={"auth": creds.access_token})
    assert answer.json()["error"] == "expired_token"


def test_webhook_with_limited_scopes(sb: Sandbox) -> None:
    user_only = sb.create_webhook(scopes=["user"])
    refused = requests.post(user_only + "crm.deal.list", json={})
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"
    assert requests.get(user_only + "scope").json()["result"] == ["user"]
    crm = sb.create_webhook(scopes=["crm"])
    assert requests.post(crm + "crm.deal.list", json={}).status_code == 200


def test_token_with_limited_scopes(sb: Sandbox) -> None:
    creds = sb.issue_token(scopes=["department"])
    assert creds.scope == "department"
    answer = requests.post(f"{sb.base_url}/rest/crm.deal.list", json={"auth": creds.access_token})
    assert answer.status_code == 403 and answer.json()["error"] == "insufficient_scope"


def test_scope_inside_batch_fails_per_command(sb: Sandbox) -> None:
    user_only = sb.create_webhook(scopes=["user"])
    answer = requests.post(user_only + "batch", json={"cmd": {"d": "crm.deal.list", "s": "scope"}}).json()
    assert answer["result"]["result_error"]["d"]["error"] == "insufficient_scope"
    assert answer["result"]["result"]["s"] == ["user"]


def test_domain_move_redirects_old_address() -> None:
    with Sandbox(speed=1000.0, plan="unlimited") as sandbox:
        old_base, old_hook = sandbox.base_url, sandbox.webhook_url
        new_base = sandbox.move_domain()
        assert new_base != old_base and sandbox.base_url == new_base
        assert sandbox.webhook_url.startswith(new_base) and sandbox.old_base_urls == [old_base]
        moved = requests.post(old_hook + "crm.deal.list?start=0", json={}, allow_redirects=False)
        assert moved.status_code == 302
        assert moved.headers["Location"] == sandbox.webhook_url + "crm.deal.list?start=0"
        again = requests.post(moved.headers["Location"], json={})
        assert again.status_code == 200 and again.json()["total"] == 0
        oauth = requests.post(
            f"{old_base}/rest/crm.deal.list", json={"auth": sandbox.oauth.access_token}, allow_redirects=False
        )
        assert oauth.status_code == 302 and oauth.headers["Location"] == f"{new_base}/rest/crm.deal.list"
