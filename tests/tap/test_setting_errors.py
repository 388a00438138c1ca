"""A wrong or unreachable portal, a bad webhook code or a missing scope: one sentence naming the setting."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tap_support import SPEED, discover, oauth_config, run_tap, select, tap_config

from bitrix24_sandbox import Sandbox
from tap_bitrix24.errors import SettingError
from tap_bitrix24.tap import TapBitrix24

NO_STREAMS: dict = {"streams": []}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_portal_names_webhook_url() -> None:
    url = f"http://127.0.0.1:{_free_port()}/rest/1/abcdef/"
    with pytest.raises(SettingError, match=r"Cannot reach the portal .*fix webhook_url"):
        discover({"webhook_url": url, "time_scale": SPEED})


def test_bad_webhook_code_names_webhook_url_and_hides_the_code() -> None:
    with Sandbox(speed=SPEED) as sb:
        url = sb.webhook_url.replace(sb.webhook_url.rstrip("/").rsplit("/", 1)[1], "wrongcode123")
        with pytest.raises(SettingError, match=r"rejected the credentials: fix webhook_url") as caught:
            discover({"webhook_url": url, "time_scale": SPEED})
        assert "wrongcode123" not in str(caught.value)


def test_missing_scope_names_the_scope_problem() -> None:
    with Sandbox(seed={"deals": 5}, speed=SPEED) as sb:
        url = sb.create_webhook(scopes=["user", "department"])
        with pytest.raises(SettingError, match=r"webhook \(webhook_url\) lacks the crm scope needed for "):
            discover({"webhook_url": url, "time_scale": SPEED})


def test_missing_scope_at_sync_time_names_the_stream() -> None:
    with Sandbox(seed={"deals": 5}, speed=SPEED) as sb:
        catalog = select(discover(tap_config(sb)), ["deals"])
        limited = sb.create_webhook(scopes=["user"])
        with pytest.raises(SettingError, match=r"lacks the crm scope needed for reading deals"):
            run_tap({**tap_config(sb), "webhook_url": limited}, catalog=catalog)


def test_no_credentials_at_all() -> None:
    with pytest.raises(
        SettingError, match=r"set webhook_url, or domain, client_id, client_secret and refresh_token"
    ):
        TapBitrix24(config={"time_scale": SPEED}, catalog=NO_STREAMS).portal  # noqa: B018


def test_oauth_bad_refresh_token_names_refresh_token() -> None:
    with Sandbox(speed=SPEED) as sb:
        oauth = sb.oauth
        config = {
            "domain": sb.base_url,
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret,
            "refresh_token": "not-a-refresh-token",
            "oauth_server": oauth.server,
            "time_scale": SPEED,
        }
        with pytest.raises(SettingError, match=r"set refresh_token"):
            discover(config)
        with pytest.raises(SettingError, match=r"fix client_id and client_secret"):
            discover({**config, "client_secret": "wrong-secret", "refresh_token": oauth.refresh_token})


def test_oauth_reads_and_keeps_the_rotated_refresh_token(tmp_path: Path) -> None:
    with Sandbox(seed={"deals": 30}, speed=SPEED) as sb:
        token_file = tmp_path / "refresh_token"
        config = oauth_config(sb, token_file)
        catalog = select(discover(config), ["deals"])
        first_rotation = token_file.read_text()
        assert first_rotation and first_rotation != config["refresh_token"]
        run = run_tap(config, catalog=catalog)  # the used refresh token in config is dead now
        assert len(run.ids("deals")) == 30
        assert token_file.read_text() != first_rotation


def test_cli_ends_with_one_sentence(tmp_path: Path) -> None:
    with Sandbox(speed=SPEED) as sb:
        url = sb.webhook_url.replace(sb.webhook_url.rstrip("/").rsplit("/", 1)[1], "badcode9")
        config = tmp_path / "config.json"
        config.write_text(json.dumps({"webhook_url": url, "time_scale": SPEED}))
        done = subprocess.run(
            [sys.executable, "-m", "tap_bitrix24.tap", "--config", str(config), "--discover"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "fix webhook_url" in last and "badcode9" not in done.stderr


class _NotBitrix(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = b"<html><body>Welcome to nginx</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_an_address_that_is_not_a_portal_names_webhook_url() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotBitrix)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/rest/1/abcdef/"
        with pytest.raises(SettingError, match=r"does not answer like a Bitrix24 portal.*fix webhook_url"):
            discover({"webhook_url": url, "time_scale": SPEED})
    finally:
        server.shutdown()


def test_rate_limit_settings_are_checked() -> None:
    # an empty catalog: no discovery, so nothing is sent to the (absent) portal
    base = {"webhook_url": "http://127.0.0.1:9/rest/1/abc/", "time_scale": SPEED}
    with pytest.raises(SettingError, match="rate_limit_bucket and rate_limit_drain"):
        TapBitrix24(config={**base, "rate_limit_bucket": 50}, catalog=NO_STREAMS).portal  # noqa: B018
    portal = TapBitrix24(
        config={**base, "rate_limit_bucket": 250, "rate_limit_drain": 5}, catalog=NO_STREAMS
    ).portal
    assert portal.options.rate_limit == (250.0, 5.0)
    assert TapBitrix24(
        config={**base, "plan": "enterprise"}, catalog=NO_STREAMS
    ).portal.options.rate_limit == (250.0, 5.0)
    assert TapBitrix24(config=base, catalog=NO_STREAMS).portal.options.rate_limit == (50.0, 2.0)
