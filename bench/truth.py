"""What the portal holds, read straight from its data plane: no HTTP, no limits, no client.

This is the reference every reader is compared with. Records pass through a JSON round trip so they
look exactly as a client decodes them from the wire.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from .verify import Fingerprint, expected_fingerprint

PAGE = 50


def portal_records(portal: Any, entity: str, select: Sequence[str]) -> Iterator[dict[str, Any]]:
    """All records of a legacy CRM entity in ID order, as the list method answers them."""
    last = 0
    while True:
        params = {"order": {"ID": "ASC"}, "filter": {">ID": last}, "select": list(select), "start": -1}
        page = json.loads(json.dumps(portal.dispatch(f"crm.{entity}.list", params).result))
        yield from page
        if len(page) < PAGE:
            return
        last = int(page[-1]["ID"])


def portal_ids(portal: Any, entity: str) -> Iterator[int]:
    for record in portal_records(portal, entity, ["ID"]):
        yield int(record["ID"])


def reference(portal: Any, entity: str, select: Sequence[str]) -> Fingerprint:
    """The fingerprint of a perfect read (IDs and the field names of the first record)."""
    first = next(portal_records(portal, entity, select), {})
    return expected_fingerprint(portal_ids(portal, entity), first)
