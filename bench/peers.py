"""How the peer clients (b24pysdk, fast_bitrix24) are pointed at the plain-HTTP sandbox portal.

Neither peer's logic is changed. Two things are adapted, and only these:

- b24pysdk builds every URL as ``https://{domain}/rest/...`` and offers no scheme setting. The sandbox
  speaks plain HTTP, so :func:`plain_http` mounts, on each ``requests`` session the peer opens, a transport
  adapter that sends ``https://<sandbox host>/...`` as ``http://<sandbox host>/...``. It touches nothing
  but the scheme of requests to that one host; every session still opens its own connections, as the
  peer does against a real portal.
- Both peers wait in real seconds. The sandbox runs on a virtual clock F times faster than real time, so
  every real-time setting is scaled by F to mean the same portal time: b24pysdk's 503 retry delays are
  divided by F; fast_bitrix24's leaky-bucket drain (2 requests/s) and its operating-time allowance
  (480 s per 600 s window) are multiplied by F. fast_bitrix24's window length (600 real seconds) is a
  module constant; scaling the allowance instead keeps the same rate.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

SELECT_ALL = ["*", "UF_*"]


@dataclass(frozen=True)
class Portal:
    """A sandbox portal as the peers see it: its webhook and its clock's speed factor."""

    webhook_url: str  # http://127.0.0.1:PORT/rest/1/<code>/
    speed: float = 1.0

    @property
    def domain(self) -> str:
        return urlsplit(self.webhook_url).netloc

    @property
    def webhook_token(self) -> str:
        """``user_id/code`` as b24pysdk's BitrixWebhook wants it."""
        path = urlsplit(self.webhook_url).path.strip("/")
        prefix = "rest/"
        if not path.startswith(prefix):
            raise ValueError("webhook URL must look like http://host/rest/<user>/<code>/")
        return path[len(prefix) :]


class _PlainHTTPAdapter(HTTPAdapter):
    """Sends ``https://`` requests as ``http://``; mounted only for the sandbox host."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if request.url and request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://") :]
        return super().send(request, *args, **kwargs)


_patch_lock = threading.Lock()
_plain_hosts: dict[str, int] = {}
_original_get_adapter = requests.Session.get_adapter


def _get_adapter(self: requests.Session, url: str) -> Any:
    for host in _plain_hosts:
        prefix = f"https://{host}/"
        if url.lower().startswith(prefix):
            if prefix not in self.adapters:
                self.mount(prefix, _PlainHTTPAdapter())
            return self.adapters[prefix]
    return _original_get_adapter(self, url)


@contextmanager
def plain_http(domain: str) -> Iterator[None]:
    """While open, requests to ``https://<domain>/`` go out as ``http://<domain>/``."""
    host = domain.lower()
    with _patch_lock:
        _plain_hosts[host] = _plain_hosts.get(host, 0) + 1
        requests.Session.get_adapter = _get_adapter  # type: ignore[method-assign]
    try:
        yield
    finally:
        with _patch_lock:
            _plain_hosts[host] -= 1
            if not _plain_hosts[host]:
                del _plain_hosts[host]
            if not _plain_hosts:
                requests.Session.get_adapter = _original_get_adapter  # type: ignore[method-assign]


def b24pysdk_client(portal: Portal) -> Any:
    """A b24pysdk client on the sandbox webhook; use it inside ``plain_http(portal.domain)``.

    b24pysdk retries a 503 after ``initial_retry_delay`` real seconds, growing by
    ``retry_delay_increment``; both are scaled by 1/F so the waits last the same portal time.
    """
    from b24pysdk import BitrixWebhook, Client

    token = BitrixWebhook(domain=portal.domain, webhook_token=portal.webhook_token)
    return Client(
        token,
        initial_retry_delay=1.0 / portal.speed,
        retry_delay_increment=1.0 / portal.speed,
        timeout=(10.0, 600.0),
    )


def fast_bitrix(portal: Portal) -> Any:
    """A fast_bitrix24 client whose real-time throttles are scaled to the portal clock."""
    from fast_bitrix24 import Bitrix

    return Bitrix(
        portal.webhook_url,
        verbose=False,
        request_pool_size=50,
        requests_per_second=2.0 * portal.speed,
        operating_time_limit=int(480 * portal.speed),
    )
