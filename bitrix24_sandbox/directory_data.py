"""Reference data every portal starts with: stages and statuses, deal pipelines, currencies."""

from __future__ import annotations

from typing import Any

# (ENTITY_ID, STATUS_ID, NAME, SORT, SEMANTICS or None, CATEGORY_ID or None)
_DEAL_STAGES_0 = [
    ("NEW", "New", 10, None),
    ("PREPARATION", "Preparing documents", 20, None),
    ("PREPAYMENT_INVOICE", "Invoice", 30, None),
    ("EXECUTING", "In progress", 40, None),
    ("FINAL_INVOICE", "Final invoice", 50, None),
    ("WON", "Deal won", 60, "S"),
    ("LOSE", "Deal lost", 70, "F"),
    ("APOLOGY", "Analyze failure", 80, "F"),
]
_DEAL_STAGES_1 = [
    ("C1:NEW", "New", 10, None),
    ("C1:PREPARATION", "Qualification", 20, None),
    ("C1:EXECUTING", "Negotiation", 30, None),
    ("C1:WON", "Deal won", 40, "S"),
    ("C1:LOSE", "Deal lost", 50, "F"),
]
_SIMPLE: dict[str, list[tuple[str, str]]] = {
    "STATUS": [
        ("NEW", "Unassigned"),
        ("IN_PROCESS", "In progress"),
        ("PROCESSED", "Processed"),
        ("CONVERTED", "Good lead"),
        ("JUNK", "Junk lead"),
    ],
    "SOURCE": [
        ("CALL", "Call"),
        ("EMAIL", "E-Mail"),
        ("WEB", "Website"),
        ("ADVERTISING", "Advertising"),
        ("PARTNER", "Existing client"),
        ("RECOMMENDATION", "By recommendation"),
        ("TRADE_SHOW", "Show"),
        ("OTHER", "Other"),
    ],
    "CONTACT_TYPE": [
        ("CLIENT", "Clients"),
        ("SUPPLIER", "Suppliers"),
        ("PARTNER", "Partners"),
        ("OTHER", "Other"),
    ],
    "COMPANY_TYPE": [
        ("CUSTOMER", "Client"),
        ("SUPPLIER", "Supplier"),
        ("COMPETITOR", "Competitor"),
        ("PARTNER", "Partner"),
        ("OTHER", "Other"),
    ],
    "DEAL_TYPE": [
        ("SALE", "Sales"),
        ("COMPLEX", "Integrated sale"),
        ("GOODS", "Merchandise sales"),
        ("SERVICES", "Service sales"),
        ("SERVICE", "After-sales service"),
    ],
    "INDUSTRY": [
        ("IT", "Information Technology"),
        ("TELECOM", "Telecommunication"),
        ("MANUFACTURING", "Manufacturing"),
        ("BANKING", "Banking"),
        ("CONSULTING", "Consulting"),
        ("FINANCE", "Finance"),
        ("GOVERNMENT", "Government"),
        ("DELIVERY", "Delivery"),
        ("ENTERTAINMENT", "Entertainment"),
        ("NOTPROFIT", "Non-profit"),
        ("OTHER", "Other"),
    ],
    "EMPLOYEES": [
        ("EMPLOYEES_1", "fewer than 50"),
        ("EMPLOYEES_2", "50-250"),
        ("EMPLOYEES_3", "250-500"),
        ("EMPLOYEES_4", "over 500"),
    ],
    "HONORIFIC": [("HNR_EN_1", "Mr."), ("HNR_EN_2", "Mrs."), ("HNR_EN_3", "Ms."), ("HNR_EN_4", "Dr.")],
}

LEAD_FAIL = {"JUNK": "F", "CONVERTED": "S"}


_COLORS = ["#39A8EF", "#2FC6F6", "#55D0E0", "#47E4C2", "#FFA900"]


def statuses() -> list[dict[str, Any]]:
    """crm.status rows (canonical values) in a stable order; IDs 1..N."""
    rows: list[dict[str, Any]] = []

    def add(entity: str, sid: str, name: str, sort: int, sem: str | None, cat: int | None) -> None:
        """As docs crm-status-list.md shows: system rows keep NAME_INIT, the general pipeline has
        CATEGORY_ID null, APOLOGY's extra semantics is 'apology'."""
        code = sid.split(":")[-1]
        system = sort == 10 or code in ("WON", "LOSE", "CONVERTED", "JUNK")
        color = (
            _COLORS[(sort // 10 - 1) % len(_COLORS)]
            if sem is None
            else ("#7BD500" if sem == "S" else "#FF5752")
        )
        row: dict[str, Any] = {
            "ID": len(rows) + 1,
            "ENTITY_ID": entity,
            "STATUS_ID": sid,
            "NAME": name,
            "NAME_INIT": name if system else "",
            "SORT": sort,
            "SYSTEM": "Y" if system else "N",
            "CATEGORY_ID": cat,
            "COLOR": color,
        }
        if sem is not None or entity.startswith(("DEAL_STAGE", "STATUS", "DYNAMIC")):
            row["SEMANTICS"] = sem
            extra = {"S": "success", "F": "failure"}.get(sem or "", "process")
            row["EXTRA"] = {"SEMANTICS": "apology" if code == "APOLOGY" else extra, "COLOR": color}
        rows.append(row)

    for sid, name, sort, sem in _DEAL_STAGES_0:
        add("DEAL_STAGE", sid, name, sort, sem, None)
    for sid, name, sort, sem in _DEAL_STAGES_1:
        add("DEAL_STAGE_1", sid, name, sort, sem, 1)
    for entity, items in _SIMPLE.items():
        for i, (sid, name) in enumerate(items):
            add(entity, sid, name, (i + 1) * 10, LEAD_FAIL.get(sid) if entity == "STATUS" else None, None)
    return rows


def dynamic_stages(entity_type_id: int, category_id: int) -> list[dict[str, Any]]:
    """Stages of a smart process or invoice pipeline: DT128_1:NEW ... (STATUS ids assigned by caller)."""
    prefix = f"DT{entity_type_id}_{category_id}"
    entity = f"DYNAMIC_{entity_type_id}_STAGE_{category_id}"
    names = [
        ("NEW", "New", None),
        ("PREPARATION", "In progress", None),
        ("SUCCESS", "Success", "S"),
        ("FAIL", "Fail", "F"),
    ]
    out = []
    for i, (code, name, sem) in enumerate(names):
        out.append(
            {
                "ENTITY_ID": entity,
                "STATUS_ID": f"{prefix}:{code}",
                "NAME": name,
                "NAME_INIT": name,
                "SORT": (i + 1) * 10,
                "SYSTEM": "Y" if sem or i == 0 else "N",
                "CATEGORY_ID": category_id,
                "COLOR": "#39A8EF",
                "SEMANTICS": sem,
                "EXTRA": {
                    "SEMANTICS": {"S": "success", "F": "failure"}.get(sem or "", "process"),
                    "COLOR": "#39A8EF",
                },
            }
        )
    return out


def deal_stage_ids(category_id: int) -> list[str]:
    return [s[0] for s in (_DEAL_STAGES_0 if category_id == 0 else _DEAL_STAGES_1)]


def simple_ids(entity: str) -> list[str]:
    return [s[0] for s in _SIMPLE[entity]]


DEAL_CATEGORIES: list[dict[str, Any]] = [
    {"id": 0, "name": "General", "sort": 100, "entityTypeId": 2, "isDefault": "Y"},
    {"id": 1, "name": "Wholesale", "sort": 200, "entityTypeId": 2, "isDefault": "N"},
]

# (code, rate to base, nominal, sort, full name, symbol format, decimals)
CURRENCIES: list[tuple[str, float, int, int, str, str]] = [
    ("USD", 1.0, 1, 100, "US Dollar", "$#"),
    ("EUR", 1.08, 1, 200, "Euro", "&euro;#"),
    ("GBP", 1.27, 1, 300, "British Pound Sterling", "&pound;#"),
    ("RUB", 0.011, 100, 400, "Russian Ruble", "# &#8381;"),
    ("UAH", 0.024, 10, 500, "Hryvnia", "# грн."),
]
BASE_CURRENCY = "USD"
CURRENCY_LANGS = {
    "en": {"DEC_POINT": ".", "THOUSANDS_SEP": ",", "THOUSANDS_VARIANT": "C"},
    "de": {"DEC_POINT": ",", "THOUSANDS_SEP": ".", "THOUSANDS_VARIANT": "D"},
    "ru": {"DEC_POINT": ",", "THOUSANDS_SEP": " ", "THOUSANDS_VARIANT": "B"},
    "ua": {"DEC_POINT": ",", "THOUSANDS_SEP": " ", "THOUSANDS_VARIANT": "B"},
}
