"""Bulk readers under comparison: each turns (portal, entity) into an iterator of raw records.

Every reader asks for the same thing — all records of one CRM entity with all standard and custom
fields (``select: ["*", "UF_*"]``) — in the way its library documents for reading everything.
Our tap is measured separately (bench/tapjobs.py) because it runs as its own process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .peers import SELECT_ALL, Portal, b24pysdk_client, fast_bitrix, plain_http

Record = Mapping[str, Any]
Reader = Callable[[Portal, str], Iterator[Record]]


def list_method(entity: str) -> str:
    return f"crm.{entity}.list"


def b24pysdk_as_list_fast(portal: Portal, entity: str) -> Iterator[Record]:
    with plain_http(portal.domain):
        scope = getattr(b24pysdk_client(portal).crm, entity)
        yield from scope.list(select=SELECT_ALL).as_list_fast().result


def b24pysdk_as_list(portal: Portal, entity: str) -> Iterator[Record]:
    with plain_http(portal.domain):
        scope = getattr(b24pysdk_client(portal).crm, entity)
        yield from scope.list(select=SELECT_ALL).as_list().result


def fast_bitrix24_get_all(portal: Portal, entity: str) -> Iterator[Record]:
    records = fast_bitrix(portal).get_all(list_method(entity), params={"select": SELECT_ALL})
    yield from records


def _core_client(portal: Portal) -> Any:
    from bitrix24_core import BitrixWebhook, Client

    return Client(BitrixWebhook(portal.webhook_url), time_scale=portal.speed)  # plan: standard (default)


def core_as_list_fast(portal: Portal, entity: str) -> Iterator[Record]:
    scope = getattr(_core_client(portal).crm, entity)
    yield from scope.list(select=SELECT_ALL).as_list_fast().result


PARALLEL = 8  # ID ranges read at once: enough batches in flight to reach the operating-time bound


def core_as_list_fast_parallel(portal: Portal, entity: str) -> Iterator[Record]:
    scope = getattr(_core_client(portal).crm, entity)
    yield from scope.list(select=SELECT_ALL).as_list_fast(parallel=PARALLEL).result


READERS: dict[str, Reader] = {
    "core.as_list_fast": core_as_list_fast,
    "core.as_list_fast(parallel)": core_as_list_fast_parallel,
    "b24pysdk.as_list_fast": b24pysdk_as_list_fast,
    "b24pysdk.as_list": b24pysdk_as_list,
    "fast_bitrix24.get_all": fast_bitrix24_get_all,
}

PEER_READERS = ("b24pysdk.as_list_fast", "b24pysdk.as_list", "fast_bitrix24.get_all")
