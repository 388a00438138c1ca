"""What each stream reads: entity, keys, replication key and how it is listed.

Stream names are stable: smart processes are named by their entityTypeId (`smart_process_128`),
which never changes, while their titles go into the catalog description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Reading strategies.
FAST = "fast"  # ID cursor with start=-1, chained in batches (large entities)
DIRECTORY = "directory"  # small lists read whole every run

INVOICE_TYPE_ID = 31
_SMART = re.compile(r"^smart_process_(\d+)$")


@dataclass(frozen=True)
class StreamSpec:
    name: str
    entity: (
        str  # bitrix24_core entity name: deal, lead, ..., item, status, category, currency, user, department
    )
    key: str
    replication_key: str | None = None
    strategy: str = FAST
    entity_type_id: int | None = None  # crm.item / crm.category
    title: str = ""

    @property
    def is_item(self) -> bool:
        return self.entity == "item"


LEGACY = (
    StreamSpec("deals", "deal", "ID", "DATE_MODIFY", title="Deals"),
    StreamSpec("leads", "lead", "ID", "DATE_MODIFY", title="Leads"),
    StreamSpec("contacts", "contact", "ID", "DATE_MODIFY", title="Contacts"),
    StreamSpec("companies", "company", "ID", "DATE_MODIFY", title="Companies"),
    StreamSpec("activities", "activity", "ID", "LAST_UPDATED", title="Activities"),
)
INVOICES = StreamSpec(
    "invoices", "item", "id", "updatedTime", entity_type_id=INVOICE_TYPE_ID, title="Invoices (crm.item 31)"
)
DIRECTORIES = (
    StreamSpec(
        "deal_categories", "category", "id", strategy=DIRECTORY, entity_type_id=2, title="Deal pipelines"
    ),
    StreamSpec("statuses", "status", "ID", strategy=DIRECTORY, title="Stages and dictionaries"),
    StreamSpec("currencies", "currency", "CURRENCY", strategy=DIRECTORY, title="Currencies"),
    # TIMESTAMP_X of users comes in inconsistent formats (wire facts): read users whole, they are few.
    StreamSpec("users", "user", "ID", strategy=DIRECTORY, title="Users"),
    StreamSpec("departments", "department", "ID", strategy=DIRECTORY, title="Departments"),
)
FIXED = (*LEGACY, INVOICES, *DIRECTORIES)

# Fields `*.fields` lists but `*.list` never returns (only `*.get` does): left out of the schema so the
# warehouse gets no column that is always empty. Deal<->contact links: crm.deal.contact.items.get.
LIST_UNAVAILABLE: dict[str, frozenset[str]] = {
    "deals": frozenset({"CONTACT_IDS"}),
    "contacts": frozenset({"COMPANY_IDS"}),
}
BY_NAME = {spec.name: spec for spec in FIXED}


def smart_process(entity_type_id: int, title: str = "") -> StreamSpec:
    return StreamSpec(
        f"smart_process_{entity_type_id}",
        "item",
        "id",
        "updatedTime",
        entity_type_id=entity_type_id,
        title=title or f"Smart process {entity_type_id}",
    )


def spec_for(stream_name: str) -> StreamSpec | None:
    """The spec of a stream named in a catalog (fixed names or smart_process_<entityTypeId>)."""
    if stream_name in BY_NAME:
        return BY_NAME[stream_name]
    match = _SMART.match(stream_name)
    return smart_process(int(match.group(1))) if match else None
