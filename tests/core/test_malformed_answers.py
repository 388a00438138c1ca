"""Answers no Bitrix24 portal should send, but a proxy or a broken node can: each must raise a specific
error, never read as data (a short read) or crash with an unrelated KeyError/TypeError.

The sandbox never sends these, so a tiny HTTP server replays the given body over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from transport_support import config_fixture  # noqa: F401

from bitrix24_core import BitrixWebhook, Client
from bitrix24_core.config import Config
from bitrix24_core.credentials import BitrixApp, BitrixToken
from bitrix24_core.error import BitrixResponseJSONDecodeError, BitrixValidationError
from bitrix24_core.lists import BitrixListError

CODE = "replaycode123"


class _Replay:
    def __init__(self) -> None:
        self.status = 200
        self.body = b"{}"
        self.requests = 0


@pytest.fixture(name="replay")
def replay_fixture() -> Iterator[tuple[_Replay, str]]:
    state = _Replay()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name): the OAuth token endpoint
            self.do_POST()

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests += 1
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(state.body)))
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/rest/1/{CODE}/"
    finally:
        server.shutdown()
        server.server_close()


def _client(url: str) -> Client:
    return Client(BitrixWebhook(url), max_retries=0, rate_limit=False, operating_limit=False)


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"result": [{"ID": "1"}', "answer is not JSON"),  # truncated
        (b"[1, 2]", "answer is not a JSON object"),
        (b'"ok"', "answer is not a JSON object"),
        (b"{}", "neither 'result' nor 'error'"),
        (b'{"time": {"start": 1}}', "neither 'result' nor 'error'"),
    ],
)
def test_malformed_success_answers_raise(
    config: Config, replay: tuple[_Replay, str], body: bytes, fragment: str
) -> None:
    state, url = replay
    state.body = body
    with pytest.raises(BitrixResponseJSONDecodeError, match=fragment) as caught:
        _client(url).crm.deal.get(bitrix_id=1).call()
    assert caught.value.status_code == 200
    assert CODE not in str(caught.value) and CODE not in repr(caught.value)


@pytest.mark.parametrize(
    "result",
    [b'{"item": {"id": 1}}', b'{"itemz": [{"id": 1}]}'],
)
def test_wrapped_list_without_its_wrapper_raises(
    config: Config, replay: tuple[_Replay, str], result: bytes
) -> None:
    state, url = replay
    state.body = b'{"result": ' + result + b', "total": 1, "time": {}}'
    request = _client(url).crm.item.list(entity_type_id=128)
    with pytest.raises(BitrixListError, match="expected rows under 'items'"):
        list(request.as_list().result)


def test_empty_wrapped_list_is_an_empty_page(config: Config, replay: tuple[_Replay, str]) -> None:
    state, url = replay
    for body in (b'{"result": {"items": []}, "total": 0}', b'{"result": [], "total": 0}'):
        state.body = body
        assert _client(url).crm.item.list(entity_type_id=128).as_list().result == []


@pytest.mark.parametrize(
    "body",
    [b"[]", b'"ok"', b'{"access_token": "new-access-0001"}', b'{"result": {"access_token": "x"}}'],
)
def test_token_endpoint_answer_without_a_token_pair_raises(
    config: Config, replay: tuple[_Replay, str], body: bytes
) -> None:
    state, url = replay
    state.body = body
    server = url.split("/rest/")[0]
    app = BitrixApp("app.replay", "replay-secret-0001", oauth_server=server)
    creds = BitrixToken(server, "old-access-0001", "old-refresh-0001", None, app)
    with pytest.raises(BitrixResponseJSONDecodeError, match="not a token pair") as caught:
        creds.refresh()
    assert creds.auth_token == "old-access-0001" and creds.refresh_count == 0
    assert "replay-secret-0001" not in str(caught.value) and "old-refresh-0001" not in str(caught.value)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("app", "secret-1", "oauth.bitrix.info"), "oauth_server must be an http"),
        ((5, "secret-1"), "client_id and client_secret"),
        (("app", None), "client_id and client_secret"),
    ],
)
def test_bad_app_arguments_are_validation_errors(args: tuple[object, ...], fragment: str) -> None:
    with pytest.raises(BitrixValidationError, match=fragment):
        BitrixApp(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'{"result": [], "time": {}}', "not the map of command sections"),
        (b'{"result": "ok", "time": {}}', "not the map of command sections"),
        # without halt every command runs: "b" answered neither a result nor an error
        (b'{"result": {"result": {"a": 1}, "result_error": []}, "time": {}}', "1 of 2 commands"),
    ],
)
def test_malformed_batch_answers_raise(
    config: Config, replay: tuple[_Replay, str], body: bytes, fragment: str
) -> None:
    state, url = replay
    state.body = body
    client = _client(url)
    batch = client.call_batch({"a": client.crm.deal.get(bitrix_id=1), "b": client.crm.deal.get(bitrix_id=2)})
    with pytest.raises(BitrixResponseJSONDecodeError, match=fragment):
        batch.call()
