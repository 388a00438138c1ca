"""Did a read return exactly the seeded records? Cheap enough to run inside the measured client.

A read is compared with the portal's own answer by a fingerprint of the ID set (count, sum, sum of
squares modulo a prime) plus a bitmap that catches duplicates, and by the set of field names each record
carries. Hashing every record's content would cost the client more CPU than some clients spend reading;
content equality is checked record by record in tests/sandbox/test_peers.py on small seeds instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

_PRIME = (1 << 61) - 1


@dataclass
class Fingerprint:
    """What a reader saw: IDs (as a multiset fingerprint), duplicates, and field-name anomalies."""

    count: int = 0
    id_sum: int = 0
    id_sq: int = 0
    duplicates: int = 0
    bad_fields: int = 0  # records whose field names differ from the expected set
    fields: list[str] = field(default_factory=list)  # field names of the first record

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class IdChecker:
    """Feeds records (or bare IDs) into a Fingerprint; a bytearray bitmap finds repeated IDs."""

    def __init__(self, id_key: str = "ID", max_id: int = 0, fields: Iterable[str] | None = None) -> None:
        self.id_key = id_key
        self.fp = Fingerprint()
        self._seen = bytearray((max_id >> 3) + 1)
        self._fields = frozenset(fields) if fields is not None else None

    def add_id(self, raw: Any) -> None:
        ident = int(raw)
        fp = self.fp
        fp.count += 1
        fp.id_sum += ident
        fp.id_sq = (fp.id_sq + ident * ident) % _PRIME
        byte, bit = ident >> 3, 1 << (ident & 7)
        if byte >= len(self._seen):
            self._seen.extend(bytearray(byte - len(self._seen) + 1))
        if self._seen[byte] & bit:
            fp.duplicates += 1
        self._seen[byte] |= bit

    def add(self, record: Mapping[str, Any]) -> None:
        # the first record's names are compared in full (verdict); the rest by count, which is cheap
        if self.fp.count == 0:
            self.fp.fields = sorted(record)
        if self._fields is not None and len(record) != len(self._fields):
            self.fp.bad_fields += 1
        self.add_id(record[self.id_key])


def expected_fingerprint(ids: Iterable[int], fields: Iterable[str]) -> Fingerprint:
    checker = IdChecker()
    for ident in ids:
        checker.add_id(ident)
    checker.fp.fields = sorted(fields)
    return checker.fp


def verdict(seen: Mapping[str, Any], expected: Mapping[str, Any], check_fields: bool = True) -> str:
    """ "exact" or a short reason why the read is not exactly the seeded records."""
    problems = []
    if seen["count"] != expected["count"]:
        problems.append(f"{seen['count']} rows, expected {expected['count']}")
    if seen["duplicates"]:
        problems.append(f"{seen['duplicates']} duplicates")
    if seen["count"] == expected["count"] and (
        seen["id_sum"] != expected["id_sum"] or seen["id_sq"] != expected["id_sq"]
    ):
        problems.append("different IDs")
    if check_fields and seen["count"] and (seen["bad_fields"] or seen["fields"] != expected["fields"]):
        problems.append("missing or extra fields")
    return "; ".join(problems) or "exact"
