"""Deterministic synthetic portal content (seeded RNG): realistic values, sparse IDs, dates over years.

Records are built as canonical dicts and written with executemany as JSON text, so a million deals
seed in well under a minute. Counts: deals, leads, contacts, companies, activities, users,
departments, items (smart process items of types 128 and 130), invoices (crm.item type 31).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import directory_data as dd
from .entities import EntitySpec
from .fieldmeta import enum_ids

if TYPE_CHECKING:
    from .portal import Portal

YEAR = 365 * 86400
SPAN = 5 * YEAR  # records were created over the last five years
KNOWN = ("deals", "leads", "contacts", "companies", "activities", "users", "departments", "items", "invoices")

FIRST = [
    "Anna",
    "Boris",
    "Clara",
    "David",
    "Elena",
    "Felix",
    "Greta",
    "Hugo",
    "Irina",
    "Jonas",
    "Karin",
    "Leon",
    "Maria",
    "Nikolai",
    "Olga",
    "Pavel",
    "Quentin",
    "Rosa",
    "Sergey",
    "Tanja",
    "Ulrich",
    "Vera",
    "Walter",
    "Xenia",
    "Yuri",
    "Zoe",
]
LAST = [
    "Smith",
    "Ivanov",
    "Müller",
    "Garcia",
    "Rossi",
    "Novak",
    "Kowalski",
    "Schmidt",
    "Petrov",
    "Dubois",
    "Jensen",
    "Silva",
    "Brown",
    "Fischer",
    "Weber",
    "Moreau",
    "Popescu",
    "Horvat",
    "Lindqvist",
    "Ota",
]
WORDS = [
    "Alpha",
    "Nova",
    "Blue",
    "Green",
    "Prime",
    "Delta",
    "Vector",
    "Summit",
    "North",
    "Bright",
    "Core",
    "Pioneer",
    "Atlas",
    "Union",
    "Solid",
    "Rapid",
    "Silver",
    "Urban",
    "Global",
    "Smart",
]
KINDS = [
    "Systems",
    "Logistics",
    "Foods",
    "Media",
    "Solutions",
    "Industries",
    "Labs",
    "Trading",
    "Partners",
    "Energy",
    "Motors",
    "Textiles",
]
GOODS = [
    "server rack",
    "license pack",
    "office chairs",
    "consulting",
    "CRM rollout",
    "delivery contract",
    "annual support",
    "steel pipes",
    "marketing campaign",
    "cloud storage",
    "training",
    "spare parts",
]
CITIES = ["Berlin", "Kyiv", "Warsaw", "Madrid", "Lisbon", "Prague", "Vienna", "Riga", "Austin", "Toronto"]
POSTS = ["Manager", "Director", "Engineer", "Buyer", "Accountant", "CEO", "Analyst", "Sales rep"]


class Seeder:
    def __init__(self, portal: Portal, rng_seed: int) -> None:
        self.portal = portal
        self.rng = random.Random(rng_seed)
        self.now = portal.now()
        self.counts: dict[str, int] = {}
        self.ids: dict[str, list[int]] = {}
        self._mid = portal.store.next_id("multifield")
        self._enum_cache: dict[str, list[int]] = {}

    # ---- helpers ---------------------------------------------------------------------------------
    def sparse_ids(self, table: str, n: int) -> list[int]:
        """IDs with gaps where records were deleted; the sequence moves past them (never reused)."""
        r = self.rng.random
        start = self.portal.store.next_id(table) - 1
        out = []
        cur = start
        for _ in range(n):
            cur += 1 if r() < 0.9 else 2 + int(r() * 4)
            out.append(cur)
        if out:
            self.portal.store.bump_seq(table, out[-1])
        return out

    def dates(self) -> tuple[int, int]:
        r = self.rng.random
        created = self.now - int(r() * SPAN)
        modified = created + int(r() * (self.now - created))
        return created, modified

    def user(self) -> int:
        users = self.ids.get("user") or [1]
        return users[int(self.rng.random() * len(users))]

    def pick(self, ids: list[int] | None) -> int | None:
        if not ids or self.rng.random() < 0.15:
            return None
        return ids[int(self.rng.random() * len(ids))]

    def multifields(self, name: str, mid: Callable[[], int]) -> dict[str, Any]:
        r = self.rng.random
        out: dict[str, Any] = {}
        if r() < 0.85:
            out["PHONE"] = [
                {
                    "ID": str(mid()),
                    "VALUE_TYPE": "WORK" if r() < 0.6 else "MOBILE",
                    "VALUE": f"+49{int(r() * 1e10):010d}",
                    "TYPE_ID": "PHONE",
                }
            ]
        if r() < 0.8:
            out["EMAIL"] = [
                {
                    "ID": str(mid()),
                    "VALUE_TYPE": "WORK",
                    "VALUE": f"{name.lower().replace(' ', '.')}@example.com",
                    "TYPE_ID": "EMAIL",
                }
            ]
        if r() < 0.2:
            out["WEB"] = [
                {"ID": str(mid()), "VALUE_TYPE": "WORK", "VALUE": "https://example.com", "TYPE_ID": "WEB"}
            ]
        if r() < 0.1:
            out["IM"] = [
                {
                    "ID": str(mid()),
                    "VALUE_TYPE": "TELEGRAM",
                    "VALUE": "@" + name.split()[0].lower(),
                    "TYPE_ID": "IM",
                }
            ]
        out["HAS_PHONE"] = "Y" if "PHONE" in out else "N"
        out["HAS_EMAIL"] = "Y" if "EMAIL" in out else "N"
        out["HAS_IMOL"] = "N"
        return out

    def user_fields(self, spec: EntitySpec, rec: dict[str, Any], created: int) -> None:
        r = self.rng.random
        if r() < 0.5:
            rec["UF_CRM_DELIVERY_ADDRESS"] = f"{CITIES[int(r() * len(CITIES))]}, {int(r() * 200) + 1} Main St"
        if r() < 0.7:
            rec["UF_CRM_DISCOUNT"] = round(r() * 30, 2)
        rec["UF_CRM_VIP"] = r() < 0.1
        if r() < 0.6:
            rec["UF_CRM_CONTRACT_DATE"] = day_of(created, self.portal.tz_offset_minutes)
        if r() < 0.4:
            rec["UF_CRM_NEXT_CALL"] = created + int(r() * YEAR)
        if r() < 0.6:
            rec["UF_CRM_BUDGET"] = f"{int(r() * 100000)}.00|{'USD' if r() < 0.7 else 'EUR'}"
        region = self._regions(spec)
        if r() < 0.8:
            rec["UF_CRM_REGION"] = region[int(r() * len(region))]
        if r() < 0.3:
            rec["UF_CRM_TAGS"] = ["priority", "export"][: 1 + int(r() * 2)]
        rec["UF_CRM_1721244707107"] = int(r() * 1000)

    def _regions(self, spec: EntitySpec) -> list[int]:
        cached = self._enum_cache.get(spec.name)
        if cached is None:
            cached = self._enum_cache[spec.name] = enum_ids(spec.fields["UF_CRM_REGION"])
        return cached

    def write(self, spec: EntitySpec, key: str, n: int, make: Callable[[int], dict[str, Any]]) -> None:
        ids = self.sparse_ids(spec.table, n)
        self.ids[key] = ids
        dumps = json.JSONEncoder(separators=(",", ":")).encode  # ASCII escapes: the fastest C path
        mkey = spec.modified_key

        def rows() -> Iterator[tuple[int, int | None, str]]:
            for rid in ids:
                rec = make(rid)
                rec[spec.id_key] = rid
                yield rid, rec.get(mkey) if mkey else None, dumps(rec)

        self.portal.store.put_many(spec.table, rows())

    def multi_id(self) -> Callable[[], int]:
        """Multi-field value IDs come from one sequence shared with REST adds."""
        return self._next_mid

    def _next_mid(self) -> int:
        self._mid += 1
        return self._mid

    def finish(self) -> None:
        self.portal.store.bump_seq("multifield", self._mid)

    # ---- CRM entities ----------------------------------------------------------------------------
    def companies(self, n: int) -> None:
        spec = self.portal.specs["company"]
        r = self.rng.random
        mid = self.multi_id()
        types, industries = dd.simple_ids("COMPANY_TYPE"), dd.simple_ids("INDUSTRY")
        employees = dd.simple_ids("EMPLOYEES")

        def make(rid: int) -> dict[str, Any]:
            created, modified = self.dates()
            title = f"{WORDS[int(r() * 20)]} {KINDS[int(r() * 12)]}"
            rec = {
                "TITLE": title,
                "COMPANY_TYPE": types[int(r() * len(types))],
                "INDUSTRY": industries[int(r() * len(industries))],
                "EMPLOYEES": employees[int(r() * len(employees))],
                "CURRENCY_ID": "USD",
                "REVENUE": round(r() * 5e6, 2),
                "OPENED": "Y",
                "IS_MY_COMPANY": "N",
                "ADDRESS_CITY": CITIES[int(r() * len(CITIES))],
                "ASSIGNED_BY_ID": self.user(),
                "CREATED_BY_ID": self.user(),
                "MODIFY_BY_ID": self.user(),
                "DATE_CREATE": created,
                "DATE_MODIFY": modified,
            }
            rec.update(self.multifields(title, mid))
            self.user_fields(spec, rec, created)
            return rec

        self.write(spec, "company", n, make)

    def contacts(self, n: int) -> None:
        spec = self.portal.specs["contact"]
        r = self.rng.random
        mid = self.multi_id()
        types, sources = dd.simple_ids("CONTACT_TYPE"), dd.simple_ids("SOURCE")
        companies = self.ids.get("company")

        def make(rid: int) -> dict[str, Any]:
            created, modified = self.dates()
            first, last = FIRST[int(r() * len(FIRST))], LAST[int(r() * len(LAST))]
            rec: dict[str, Any] = {
                "NAME": first,
                "LAST_NAME": last,
                "TYPE_ID": types[int(r() * len(types))],
                "SOURCE_ID": sources[int(r() * len(sources))],
                "POST": POSTS[int(r() * len(POSTS))],
                "OPENED": "Y",
                "EXPORT": "Y",
                "COMPANY_ID": self.pick(companies),
                "BIRTHDATE": day_of(self.now - int((20 + r() * 45) * YEAR), 0) if r() < 0.4 else None,
                "ASSIGNED_BY_ID": self.user(),
                "CREATED_BY_ID": self.user(),
                "MODIFY_BY_ID": self.user(),
                "DATE_CREATE": created,
                "DATE_MODIFY": modified,
            }
            if rec["COMPANY_ID"]:
                rec["COMPANY_IDS"] = [rec["COMPANY_ID"]]
            rec.update(self.multifields(f"{first} {last}", mid))
            self.user_fields(spec, rec, created)
            return _compact(rec)

        self.write(spec, "contact", n, make)

    def leads(self, n: int) -> None:
        spec = self.portal.specs["lead"]
        r = self.rng.random
        mid = self.multi_id()
        statuses, sources = dd.simple_ids("STATUS"), dd.simple_ids("SOURCE")

        def make(rid: int) -> dict[str, Any]:
            created, modified = self.dates()
            first, last = FIRST[int(r() * len(FIRST))], LAST[int(r() * len(LAST))]
            status = statuses[int(r() * len(statuses))]
            rec = {
                "TITLE": f"Inquiry: {GOODS[int(r() * len(GOODS))]}",
                "NAME": first,
                "LAST_NAME": last,
                "COMPANY_TITLE": f"{WORDS[int(r() * 20)]} {KINDS[int(r() * 12)]}",
                "STATUS_ID": status,
                "STATUS_SEMANTIC_ID": dd.LEAD_FAIL.get(status, "P"),
                "SOURCE_ID": sources[int(r() * len(sources))],
                "CURRENCY_ID": "USD",
                "OPPORTUNITY": round(r() * 50000, 2),
                "IS_MANUAL_OPPORTUNITY": "N",
                "OPENED": "Y",
                "IS_RETURN_CUSTOMER": "N",
                "ADDRESS_CITY": CITIES[int(r() * len(CITIES))],
                "ASSIGNED_BY_ID": self.user(),
                "CREATED_BY_ID": self.user(),
                "MODIFY_BY_ID": self.user(),
                "DATE_CREATE": created,
                "DATE_MODIFY": modified,
                "COMMENTS": "" if r() < 0.3 else None,
            }
            rec.update(self.multifields(f"{first} {last}", mid))
            self.user_fields(spec, rec, created)
            return _compact(rec)

        self.write(spec, "lead", n, make)

    def deals(self, n: int) -> None:
        spec = self.portal.specs["deal"]
        r = self.rng.random
        stages = {0: dd.deal_stage_ids(0), 1: dd.deal_stage_ids(1)}
        types, sources = dd.simple_ids("DEAL_TYPE"), dd.simple_ids("SOURCE")
        companies, contacts, leads = self.ids.get("company"), self.ids.get("contact"), self.ids.get("lead")
        currencies = [c[0] for c in dd.CURRENCIES]
        sem = {"WON": ("S", "Y"), "LOSE": ("F", "Y"), "APOLOGY": ("F", "Y")}
        tz = self.portal.tz_offset_minutes * 60

        def make(rid: int) -> dict[str, Any]:
            created, modified = self.dates()
            cat = 0 if r() < 0.8 else 1
            stage = stages[cat][int(r() * len(stages[cat]))]
            semantic, closed = sem.get(stage.split(":")[-1], ("P", "N"))
            begin = (created + tz) // 86400 * 86400  # date fields: 00:00 UTC of the local date
            rec: dict[str, Any] = {
                "TITLE": f"{GOODS[int(r() * 12)]} for {WORDS[int(r() * 20)]} {KINDS[int(r() * 12)]}",
                "TYPE_ID": types[int(r() * 5)],
                "CATEGORY_ID": cat,
                "STAGE_ID": stage,
                "STAGE_SEMANTIC_ID": semantic,
                "IS_NEW": "N",
                "IS_RECURRING": "N",
                "IS_RETURN_CUSTOMER": "Y" if r() < 0.2 else "N",
                "IS_REPEATED_APPROACH": "N",
                "PROBABILITY": int(r() * 10) * 10,
                "CURRENCY_ID": currencies[int(r() * 3)] if r() < 0.3 else "USD",
                "OPPORTUNITY": round(r() * 100000, 2),
                "IS_MANUAL_OPPORTUNITY": "Y" if r() < 0.3 else "N",
                "TAX_VALUE": 0.0,
                "OPENED": "Y",
                "CLOSED": closed,
                "BEGINDATE": begin,
                "CLOSEDATE": begin + 86400 * (7 + int(r() * 90)),
                "SOURCE_ID": sources[int(r() * 8)],
                "ASSIGNED_BY_ID": self.user(),
                "CREATED_BY_ID": self.user(),
                "MODIFY_BY_ID": self.user(),
                "DATE_CREATE": created,
                "DATE_MODIFY": modified,
            }
            if companies and r() < 0.7:
                rec["COMPANY_ID"] = companies[int(r() * len(companies))]
            if contacts and r() < 0.7:
                rec["CONTACT_ID"] = contacts[int(r() * len(contacts))]
                rec["CONTACT_IDS"] = [rec["CONTACT_ID"]]
            if leads and r() < 0.3:
                rec["LEAD_ID"] = leads[int(r() * len(leads))]
            if r() < 0.2:
                rec["COMMENTS"] = "Call back after the holidays" if r() < 0.5 else ""
            self.user_fields(spec, rec, created)
            return rec

        self.write(spec, "deal", n, make)

    def activities(self, n: int) -> None:
        spec = self.portal.specs["activity"]
        r = self.rng.random
        owners: list[tuple[int, list[int]]] = [
            (t, ids)
            for t, ids in ((2, self.ids.get("deal")), (1, self.ids.get("lead")), (3, self.ids.get("contact")))
            if ids
        ] or [(2, [1])]
        kinds = [
            (2, "VOXIMPLANT_CALL", "CALL", "Call"),
            (4, "CRM_EMAIL", "EMAIL", "E-mail"),
            (6, "CRM_TODO", "TODO", "To-do"),
            (1, "CRM_MEETING", "MEETING", "Meeting"),
        ]

        def make(rid: int) -> dict[str, Any]:
            created, modified = self.dates()
            otype, oids = owners[int(r() * len(owners))]
            oid = oids[int(r() * len(oids))]
            tid, prov, ptype, label = kinds[int(r() * len(kinds))]
            done = r() < 0.7
            comm_type = "EMAIL" if ptype == "EMAIL" else "PHONE"
            value = f"client{rid}@example.com" if comm_type == "EMAIL" else f"+49{int(r() * 1e10):010d}"
            return {
                "OWNER_ID": oid,
                "OWNER_TYPE_ID": otype,
                "TYPE_ID": tid,
                "PROVIDER_ID": prov,
                "PROVIDER_TYPE_ID": ptype,
                "SUBJECT": f"{label}: {GOODS[int(r() * 12)]}",
                "CREATED": created,
                "LAST_UPDATED": modified,
                "START_TIME": created,
                "END_TIME": created + 1800,
                "DEADLINE": created + 86400,
                "COMPLETED": "Y" if done else "N",
                "STATUS": 2 if done else 1,
                "RESPONSIBLE_ID": self.user(),
                "PRIORITY": 2,
                "DESCRIPTION": "",
                "DESCRIPTION_TYPE": 1,
                "DIRECTION": 2 if r() < 0.5 else 1,
                "AUTHOR_ID": self.user(),
                "EDITOR_ID": self.user(),
                "NOTIFY_TYPE": 0,
                "NOTIFY_VALUE": 0,
                "COMMUNICATIONS": [
                    {
                        "ID": str(rid * 2),
                        "TYPE": comm_type,
                        "VALUE": value,
                        "ENTITY_ID": str(oid),
                        "ENTITY_TYPE_ID": str(otype),
                    }
                ],
                "BINDINGS": [{"OWNER_ID": str(oid), "OWNER_TYPE_ID": str(otype)}],
            }

        self.write(spec, "activity", n, make)

    # ---- directories and smart processes ----------------------------------------------------------
    def departments(self, n: int) -> None:
        spec = self.portal.directories.department
        r = self.rng.random
        names = [
            "Sales",
            "Marketing",
            "Support",
            "Accounting",
            "R&D",
            "Logistics",
            "Legal",
            "HR",
            "IT",
            "Procurement",
        ]
        parents = [1]

        def make(rid: int) -> dict[str, Any]:
            parent = parents[int(r() * len(parents))]
            parents.append(rid)
            name = names[(rid - 2) % len(names)]
            return {"NAME": name if rid < 12 else f"{name} {rid}", "SORT": 500, "PARENT": parent}

        self.write(spec, "department", n, make)
        self.ids["department"] = [1, *self.ids["department"]]

    def users(self, n: int) -> None:
        spec = self.portal.directories.user
        r = self.rng.random
        departments = self.ids.get("department") or [1]

        def make(rid: int) -> dict[str, Any]:
            created, modified = self.dates()
            first, last = FIRST[int(r() * len(FIRST))], LAST[int(r() * len(LAST))]
            active = r() < 0.9
            return _compact(
                {
                    "ACTIVE": active,
                    "NAME": first,
                    "LAST_NAME": last,
                    "XML_ID": "",
                    "EMAIL": f"{first.lower()}.{last.lower()}{rid}@example.com",
                    "DATE_REGISTER": created,
                    "LAST_LOGIN": modified if active else None,
                    "TIMESTAMP_X": modified,
                    "IS_ONLINE": "N",
                    "PERSONAL_GENDER": "F" if r() < 0.5 else "M",
                    "WORK_POSITION": POSTS[int(r() * len(POSTS))],
                    "PERSONAL_CITY": CITIES[int(r() * len(CITIES))],
                    "PERSONAL_MOBILE": f"+49{int(r() * 1e10):010d}" if r() < 0.5 else None,
                    "UF_DEPARTMENT": [departments[int(r() * len(departments))]],
                    "USER_TYPE": "employee",
                    "UF_PHONE_INNER": str(100 + rid),
                }
            )

        self.write(spec, "user", n, make)
        self.ids["user"] = [1, *self.ids["user"]]

    def smart_items(self, etid: int, n: int, key: str) -> None:
        items = self.portal.items
        spec = items.specs[etid]
        r = self.rng.random
        cats = self.portal.directories.categories_of(etid)
        cid = cats[0]["id"]
        stages = [f"DT{etid}_{cid}:{s}" for s in ("NEW", "PREPARATION", "SUCCESS", "FAIL")]
        companies, contacts = self.ids.get("company"), self.ids.get("contact")
        ufs = [k for k, f in spec.fields.items() if f.dynamic]
        label = "Invoice" if etid == 31 else "Item"
        tz = self.portal.tz_offset_minutes * 60

        def make(rid: int) -> dict[str, Any]:
            created, modified = self.dates()
            begin = (created + tz) // 86400 * 86400  # date fields: 00:00 UTC of the local date
            rec: dict[str, Any] = {
                "title": f"{label} #{rid}: {GOODS[int(r() * 12)]}",
                "createdBy": self.user(),
                "updatedBy": self.user(),
                "movedBy": self.user(),
                "createdTime": created,
                "updatedTime": modified,
                "movedTime": modified,
                "categoryId": cid,
                "opened": r() < 0.8,
                "stageId": stages[int(r() * 4)],
                "begindate": begin,
                "closedate": begin + 86400 * (5 + int(r() * 60)),
                "companyId": self.pick(companies) or 0,
                "contactId": self.pick(contacts) or 0,
                "opportunity": round(r() * 20000, 2),
                "isManualOpportunity": r() < 0.2,
                "taxValue": 0.0,
                "currencyId": "USD",
                "mycompanyId": 0,
                "webformId": 0,
                "assignedById": self.user(),
                "entityTypeId": etid,
                "observers": [],
                "contactIds": [],
            }
            if ufs:
                rec[ufs[0]] = f"C-{rid:06d}"
                rec[ufs[1]] = round(r() * 500, 2)
                rec[ufs[2]] = r() < 0.3
                rec[ufs[3]] = begin + 86400 * 30
                rec[ufs[4]] = ["fragile"] if r() < 0.2 else []
            return _compact(rec)

        self.write(spec, key, n, make)


def day_of(epoch: int, offset_minutes: int) -> int:
    """A date field's stored value: 00:00 UTC of the calendar date at `epoch` in portal time."""
    return (epoch + offset_minutes * 60) // 86400 * 86400


def _compact(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rec.items() if v is not None}


def parse_counts(text: str) -> dict[str, int]:
    """'deals=100000,leads=500' -> {'deals': 100000, 'leads': 500}."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, num = part.partition("=")
        out[name.strip()] = int(num)
    return out


def seed_portal(portal: Portal, counts: dict[str, int], rng_seed: int = 1) -> None:
    unknown = set(counts) - set(KNOWN)
    if unknown:
        raise ValueError(f"unknown seed entities: {sorted(unknown)}; known: {', '.join(KNOWN)}")
    s = Seeder(portal, rng_seed)
    for key, fn in (
        ("departments", s.departments),
        ("users", s.users),
        ("companies", s.companies),
        ("contacts", s.contacts),
        ("leads", s.leads),
        ("deals", s.deals),
        ("activities", s.activities),
    ):
        if counts.get(key):
            fn(counts[key])
    if counts.get("items"):
        types = sorted(e for e in portal.items.specs if e >= 128)[:2]
        share = -(-counts["items"] // len(types))
        left = counts["items"]
        for etid in types:
            s.smart_items(etid, min(share, left), f"item{etid}")
            left -= min(share, left)
    if counts.get("invoices"):
        s.smart_items(31, counts["invoices"], "invoice")
    s.finish()
