"""bitrix24_sandbox: a local Bitrix24 REST portal over HTTP, on a virtual clock, for tests and benchmarks.

with Sandbox(seed={"deals": 1000}, speed=100.0) as sb:
    requests.post(sb.webhook_url + "crm.deal.list", json={"start": -1})
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .clock import VirtualClock
from .counters import Counters
from .faults import Faults
from .limits import DEFAULT_OPERATING_LIMIT, plan_rate
from .oauth import ACCESS_TTL, AuthRegistry
from .server import Engine, Listener

if TYPE_CHECKING:
    from .portal import Portal

__all__ = ["OAuthCredentials", "Sandbox"]


@dataclass(frozen=True)
class OAuthCredentials:
    """An OAuth app and one token pair of it. `server` is the token endpoint's base URL."""

    client_id: str
    client_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    server: str
    client_endpoint: str
    member_id: str
    domain: str
    scope: str
    expires: int
    user_id: int = 1


class Sandbox:
    """A running sandbox portal: HTTP listener, virtual clock, limits, faults, OAuth and the data Portal.

    Everything is built in the constructor; `start()` (or `with`) begins listening on `port` (0 = free).
    """

    def __init__(
        self,
        seed: Mapping[str, int] | None = None,
        speed: float = 100.0,
        plan: str = "standard",
        faults: str | None = None,
        db: str = ":memory:",
        clock_offset: float = 0.0,
        rng_seed: int = 1,
        operating_limit: float = DEFAULT_OPERATING_LIMIT,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tz_offset_minutes: int = 180,
        fault_seed: int = 1,
        webhook_scopes: Iterable[str] | None = None,
        cost_factor: float = 1.0,
    ) -> None:
        from .portal import Portal  # the data plane

        self.clock = VirtualClock(speed=speed, offset=clock_offset)
        self.portal: Portal = Portal(db_path=db, clock=self.clock, tz_offset_minutes=tz_offset_minutes)
        if seed:
            self.portal.seed(dict(seed), rng_seed=rng_seed)
        self._counters = Counters()
        self._auth = AuthRegistry(self.clock.now)
        self.engine = Engine(
            portal=self.portal,
            clock=self.clock,
            auth=self._auth,
            rate=plan_rate(plan),
            operating_limit=operating_limit,
            faults=Faults(faults, fault_seed),
            counters=self._counters,
            tz_offset_minutes=tz_offset_minutes,
        )
        self.set_cost_factor(cost_factor)
        self.plan = plan
        self._host, self._port = host, port
        self._webhook = self._auth.add_webhook(user_id=1, scopes=webhook_scopes)
        self._app = self._auth.add_app()
        self._pair = self._auth.issue(self._app.client_id)
        self._listeners: list[Listener] = []

    # --- lifecycle ---
    def start(self) -> Sandbox:
        if not self._listeners:
            self._listen(self._port)
        return self

    def stop(self) -> None:
        for listener in self._listeners:
            listener.stop()
        self._listeners.clear()
        close = getattr(self.portal, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _listen(self, port: int) -> Listener:
        listener = Listener(self.engine, self._host, port)
        listener.current_base = lambda: self.base_url
        listener.serve_in_thread()
        self._listeners.append(listener)
        return listener

    def _current(self) -> Listener:
        if not self._listeners:
            raise RuntimeError("the sandbox is not started: use `with Sandbox(...) as sb` or sb.start()")
        return self._listeners[-1]

    # --- addresses and credentials ---
    @property
    def base_url(self) -> str:
        """ "http://127.0.0.1:PORT" of the portal's current address."""
        return self._current().base_url

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[1]

    @property
    def webhook_url(self) -> str:
        return self.webhook_url_for(self._webhook.user_id, self._webhook.code)

    def webhook_url_for(self, user_id: int, code: str) -> str:
        return f"{self.base_url}/rest/{user_id}/{code}/"

    def create_webhook(self, scopes: Iterable[str] | None = None, user_id: int = 1) -> str:
        """A new inbound webhook limited to `scopes` (None = all); returns its URL."""
        hook = self._auth.add_webhook(user_id=user_id, scopes=scopes)
        return self.webhook_url_for(hook.user_id, hook.code)

    @property
    def oauth(self) -> OAuthCredentials:
        """The sandbox's OAuth app and the token pair issued at start (it is not updated by refreshes)."""
        return self._credentials(self._pair)

    def issue_token(
        self, scopes: Iterable[str] | None = None, expires_in: float = ACCESS_TTL, user_id: int = 1
    ) -> OAuthCredentials:
        """A fresh token pair of the sandbox's app, optionally with fewer scopes or a shorter life."""
        return self._credentials(self._auth.issue(self._app.client_id, user_id, scopes, expires_in))

    def _credentials(self, pair: Any) -> OAuthCredentials:
        return OAuthCredentials(
            client_id=self._app.client_id,
            client_secret=self._app.client_secret,
            access_token=pair.access_token,
            refresh_token=pair.refresh_token,
            server=self.base_url,
            client_endpoint=f"{self.base_url}/rest/",
            member_id=self._auth.member_id,
            domain=self.domain,
            scope=pair.scope,
            expires=pair.expires,
            user_id=pair.user_id,
        )

    def expire_tokens(self, access_token: str | None = None) -> None:
        """Expire one access token (or all) now: the next call with it answers expired_token."""
        self._auth.expire(access_token)

    def move_domain(self) -> str:
        """Move the portal to a new address (a new port). The old address then answers every /rest/ call
        with 302 and `Location: <new base><same path and query>`; /oauth/token/ keeps working on both (the
        OAuth server does not move) and its answers carry the new client_endpoint. Returns the new base."""
        self._current()  # must be started
        new = self._listen(0)
        for listener in self._listeners[:-1]:
            listener.redirect_to = new.base_url
        return new.base_url

    @property
    def old_base_urls(self) -> list[str]:
        return [listener.base_url for listener in self._listeners[:-1]]

    # --- limits, faults, counters, hooks ---
    def set_plan(self, plan: str) -> None:
        self.engine.set_rate(plan_rate(plan))
        self.plan = plan

    def set_cost_factor(self, factor: float) -> None:
        """Multiply every method's simulated server time (a loaded portal, or a very slow method)."""
        if factor <= 0:
            raise ValueError("cost factor must be positive")
        self.engine.cost_factor = factor

    def set_faults(self, spec: str | None, seed: int = 1) -> None:
        """A seeded share of requests fail: "503=0.05,500=0.02,html502=0.01,drop=0.01,slow=0.01,expired=0.01"
        (plus slow_delay=<real seconds>). None turns random faults off."""
        self.engine.faults.configure(spec, seed)

    def queue_faults(self, *kinds: str, method: str | None = None) -> None:
        """The next requests (of `method`, if given) each get one of `kinds`, in order."""
        self.engine.faults.queue(kinds, method)

    def clear_faults(self) -> None:
        self.engine.faults.clear()

    def set_hook(self, hook: Callable[[str], None] | None) -> None:
        """Call `hook(method)` at the start of every REST request (e.g. to change records mid-read)."""
        self.engine.hook = hook

    def counters(self) -> dict[str, Any]:
        return self._counters.snapshot()

    def reset_counters(self) -> None:
        self._counters.reset()

    def __repr__(self) -> str:
        where = self._listeners[-1].base_url if self._listeners else "not started"
        return f"Sandbox({where}, speed={self.clock.speed}, plan={self.plan!r})"
