"""The HTTP face of the portal: routing, auth, limits, faults, envelopes; threaded, keep-alive."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from .batch import Outcome, run_batch
from .clock import VirtualClock
from .counters import Counters
from .faults import BEFORE_WORK, Faults
from .limits import REQUEST_TIME_LIMIT, LeakyBucket, OperatingBudget
from .oauth import AuthRegistry, Caller
from .wire import HTML_502, HTML_504, WireError, dumps, parse_body, parse_query, time_block

log = logging.getLogger("bitrix24_sandbox")


class PortalLike(Protocol):
    def dispatch(self, method: str, params: dict[str, Any]) -> Any: ...
    def scope_of(self, method: str) -> str | None: ...


class RequestTimeout(Exception):
    """The request's simulated time passed the cloud's 60 s: the front end answers 504."""


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(status: int, data: Any) -> Reply:
    return Reply(status, dumps(data))


class _Budget:
    """Simulated seconds one HTTP request has used, against the 60 s request limit."""

    def __init__(self) -> None:
        self.spent = 0.0


class Engine:
    """Everything behind the HTTP parsing: auth, bucket, operating budget, dispatch, faults, counters."""

    def __init__(
        self,
        portal: PortalLike,
        clock: VirtualClock,
        auth: AuthRegistry,
        rate: tuple[float, float] | None,
        operating_limit: float,
        faults: Faults,
        counters: Counters,
        tz_offset_minutes: int,
    ) -> None:
        self.portal = portal
        self.clock = clock
        self.auth = auth
        self.bucket = LeakyBucket(*rate) if rate else None
        self.budget = OperatingBudget(operating_limit)
        self.faults = faults
        self.counters = counters
        self.tz = tz_offset_minutes
        self.hook: Callable[[str], None] | None = None
        self.cost_factor = 1.0  # > 1 models a loaded portal: every method takes that much longer

    def set_rate(self, rate: tuple[float, float] | None) -> None:
        self.bucket = LeakyBucket(*rate) if rate else None

    # --- one REST request -----------------------------------------------------------------------------
    def rest(
        self, method: str, params: dict[str, Any], authorize: Callable[[], Caller]
    ) -> tuple[Reply, str | None]:
        """Answer one REST request; also return the fault that strikes after the work (if any)."""
        self.counters.request()
        if self.hook is not None:
            self.hook(method)
        fault = self.faults.draw(method)
        try:
            if fault == "503":
                self.counters.fault(fault)
                raise WireError("QUERY_LIMIT_EXCEEDED", 503)
            caller = authorize()
            if fault == "expired" and caller.kind == "oauth":
                self.counters.fault(fault)
                self.auth.expire(caller.token)
                raise WireError("expired_token", 401)
            if self.bucket is not None and not self.bucket.try_take(self.clock.now()):
                self.counters.refusal("QUERY_LIMIT_EXCEEDED")
                return json_reply(503, WireError("QUERY_LIMIT_EXCEEDED", 503).body()), None
        except WireError as exc:
            self.counters.error(exc.code)
            return json_reply(exc.status, exc.body()), None
        try:
            reply = self._run(method, params, caller)
        except RequestTimeout:
            self.counters.error("GATEWAY_TIMEOUT")
            return Reply(504, HTML_504, "text/html"), None
        except Exception:  # a bug must still answer, as the cloud's 500 does
            log.error("request %s failed:\n%s", method, traceback.format_exc())
            self.counters.error("INTERNAL_SERVER_ERROR")
            return json_reply(500, WireError("INTERNAL_SERVER_ERROR", 500).body()), None
        if fault is None or fault in BEFORE_WORK:
            return reply, None
        self.counters.fault(fault)
        return reply, fault

    def _run(self, method: str, params: dict[str, Any], caller: Caller) -> Reply:
        start = self.clock.now()
        if method == "batch":
            budget = _Budget()
            result = run_batch(params, lambda m, p: self.command(m, p, caller, budget))
            finish = self.clock.now()
            block = time_block(start, finish, budget.spent, self.tz, 0.0, int(finish))
            return json_reply(200, {"result": result, "time": block})
        outcome = self.command(method, params, caller, _Budget())
        if outcome.error is not None:
            return json_reply(outcome.status, outcome.error)
        envelope: dict[str, Any] = {"result": outcome.result}
        if outcome.total is not None:
            envelope["total"] = outcome.total
        if outcome.next is not None:
            envelope["next"] = outcome.next
        envelope["time"] = outcome.time
        return json_reply(200, envelope)

    # --- one method (alone or inside a batch) ---------------------------------------------------------
    def command(self, method: str, params: dict[str, Any], caller: Caller, budget: _Budget) -> Outcome:
        start = self.clock.now()
        try:
            result, total, nxt, cost = self._execute(method, params, caller, start)
        except WireError as exc:
            if exc.code == "OPERATION_TIME_LIMIT":
                self.counters.refusal(exc.code)
            else:
                self.counters.error(exc.code)
            return Outcome(error=exc.body(), status=exc.status)
        self._spend(method, cost, budget)
        finish = self.clock.now()
        state = self.budget.charge(method, cost, finish)
        self.counters.command(method, cost, result, total is not None or method.endswith(".list"))
        block = time_block(start, finish, cost, self.tz, state.used, state.reset_at)
        return Outcome(result=result, total=total, next=nxt, time=block)

    def _execute(
        self, method: str, params: dict[str, Any], caller: Caller, now: float
    ) -> tuple[Any, int | None, int | None, float]:
        own = self._own_method(method, caller)
        if own is not None:
            return own, None, None, 0.0
        scope = self._scope_of(method)
        if not caller.allows(scope):
            text = "webhook" if caller.kind == "webhook" else "access"
            raise WireError(
                "insufficient_scope",
                403,
                f"The request requires higher privileges than provided by the {text} token",
            )
        if self.budget.state(method, now).blocked:
            raise WireError("OPERATION_TIME_LIMIT", 429)
        return self._dispatch(method, params)

    def _scope_of(self, method: str) -> str | None:
        try:
            return self.portal.scope_of(method)
        except Exception:  # an unknown method has no scope; dispatch answers it
            return None

    def _dispatch(self, method: str, params: dict[str, Any]) -> tuple[Any, int | None, int | None, float]:
        from .portal import PortalError  # the data plane's error type

        try:
            res = self.portal.dispatch(method, params)
        except PortalError as exc:
            self.counters.command(method, 0.0, None, False)  # it ran, and failed
            raise WireError(exc.code, exc.status, exc.description) from None
        except Exception:
            self.counters.command(method, 0.0, None, False)
            log.error("portal failed on %s:\n%s", method, traceback.format_exc())
            raise WireError("INTERNAL_SERVER_ERROR", 500) from None
        return res.result, res.total, res.next, float(res.cost or 0.0) * self.cost_factor

    def _spend(self, method: str, cost: float, budget: _Budget) -> None:
        """Really take the simulated time; past the 60 s request limit, give up as the cloud's front does."""
        left = REQUEST_TIME_LIMIT - budget.spent
        budget.spent += cost
        if cost > left:
            self.clock.sleep(max(0.0, left))
            self.budget.charge(method, cost, self.clock.now())  # the backend did the work all the same
            self.counters.command(method, cost, None, False)
            raise RequestTimeout(method)
        self.clock.sleep(cost)

    def _own_method(self, method: str, caller: Caller) -> Any:
        """`scope` of a restricted webhook or token lists ITS scopes (the data plane knows the portal's)."""
        if method == "scope" and caller.scopes is not None:
            return sorted(caller.scopes)
        return None

    # --- /oauth/token/ --------------------------------------------------------------------------------
    def token(self, params: dict[str, Any], base_url: str, domain: str) -> Reply:
        try:
            pair = self.auth.refresh(params)
        except WireError as exc:
            self.counters.error(exc.code)
            return json_reply(exc.status, exc.body())
        self.counters.token_refresh()
        return json_reply(
            200,
            {
                "access_token": pair.access_token,
                "expires": pair.expires,
                "expires_in": 3600,
                "scope": pair.scope,
                "domain": domain,
                "server_endpoint": f"{base_url}/rest/",
                "status": "L",
                "client_endpoint": f"{base_url}/rest/",
                "member_id": self.auth.member_id,
                "user_id": pair.user_id,
                "refresh_token": pair.refresh_token,
            },
        )


# --- HTTP ------------------------------------------------------------------------------------------------


class Listener(ThreadingHTTPServer):
    """One listening address of the portal. After a domain move it answers 302 to the new address."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # many parallel clients connect at once; a backlog of 5 drops SYNs (1 s stalls)

    def __init__(self, engine: Engine, host: str = "127.0.0.1", port: int = 0) -> None:
        self.engine = engine
        self.redirect_to: str | None = None
        self.current_base: Callable[[], str] = lambda: self.base_url
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__((host, port), Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._conns_lock:
            self._conns.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._conns_lock:
                self._conns.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up on a keep-alive connection is ordinary traffic, not a server fault.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self.shutdown()
        self.close_connections()
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bitrix24-sandbox"
    sys_version = ""
    timeout = 300  # idle keep-alive connections close after this many real seconds
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall
    server: Listener

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # request lines carry webhook codes and tokens: never logged

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise WireError("INVALID_REQUEST", 400, "Bad Content-Length") from None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline().strip():  # trailers
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after each chunk

    def _handle(self) -> None:
        try:
            body = self._read_body()
        except (WireError, ValueError):
            self.close_connection = True
            self._send(json_reply(400, WireError("INVALID_REQUEST", 400, "Unreadable request body").body()))
            return
        url = urlsplit(self.path)
        listener = self.server
        if listener.redirect_to is not None and url.path.startswith("/rest/"):
            location = listener.redirect_to + self.path
            self._send(Reply(302, b"", "text/html", (("Location", location),)))
            return
        if url.path.rstrip("/") == "/oauth/token":
            params = parse_query(url.query)
            params.update(parse_body(body, self.headers.get("Content-Type", "")))
            base = listener.current_base()
            self._send(listener.engine.token(params, base, urlsplit(base).netloc))
            return
        if not url.path.startswith("/rest/"):
            self._send(json_reply(404, {"error": "NOT_FOUND", "error_description": "Not found"}))
            return
        self._rest(url.path[len("/rest/") :], url.query, body)

    def _rest(self, tail: str, query: str, body: bytes) -> None:
        engine = self.server.engine
        try:
            params = parse_query(query)
            params.update(parse_body(body, self.headers.get("Content-Type", "")))
            method, authorize = self._route(tail, params)
        except WireError as exc:
            engine.counters.request()
            engine.counters.error(exc.code)
            self._send(json_reply(exc.status, exc.body()))
            return
        reply, fault = engine.rest(method, params, authorize)
        self._deliver(reply, fault)

    def _route(self, tail: str, params: dict[str, Any]) -> tuple[str, Callable[[], Caller]]:
        parts = tail.strip("/").split("/")
        auth = self.server.engine.auth
        token = params.pop("auth", None)
        if len(parts) == 3 and parts[2]:
            user_id, code, method = parts
            return _method_name(method), lambda: auth.webhook_caller(user_id, code)
        if len(parts) == 1 and parts[0]:
            header = self.headers.get("Authorization", "")
            if not token and header.lower().startswith("bearer "):
                token = header[7:].strip()
            if isinstance(token, str) and token:
                return _method_name(parts[0]), lambda: auth.token_caller(token)

            def missing() -> Caller:
                raise WireError("NO_AUTH_FOUND", 401)

            return _method_name(parts[0]), missing
        raise WireError("ERROR_METHOD_NOT_FOUND", 404)

    def _deliver(self, reply: Reply, fault: str | None) -> None:
        if fault == "500":
            reply = json_reply(500, WireError("INTERNAL_SERVER_ERROR", 500).body())
        elif fault == "html502":
            reply = Reply(502, HTML_502, "text/html")
        elif fault == "drop":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        elif fault == "slow":
            time.sleep(self.server.engine.faults.slow_delay)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _method_name(raw: str) -> str:
    method = raw.lower()
    return method[: -len(".json")] if method.endswith(".json") else method
