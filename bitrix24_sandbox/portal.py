"""The portal's data plane: entities in SQLite behind `Portal.dispatch(method, params)`.

The wire plane (server.py) decodes HTTP into (method, params) and writes MethodResult or PortalError
back as Bitrix envelopes. Contract: docs/architecture.md, "Sandbox: data plane <-> wire plane".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from .entities import EntitySpec, crm_specs
from .errors import MethodResult, PortalError
from .methods_app import AppMethods
from .methods_crm import LegacyCrm
from .methods_directory import Directories
from .methods_item import SmartItems
from .methods_userfield import UserFields
from .records import Records
from .store import Store

__all__ = ["ClockLike", "MethodResult", "Portal", "PortalError"]

Handler = Callable[[dict[str, Any]], MethodResult]


class ClockLike(Protocol):
    def now(self) -> float: ...


class _WallClock:
    def now(self) -> float:
        return time.time()


class Portal:
    def __init__(
        self, db_path: str = ":memory:", clock: ClockLike | None = None, tz_offset_minutes: int = 180
    ) -> None:
        self.clock: ClockLike = clock or _WallClock()
        self.tz_offset_minutes = tz_offset_minutes
        self.store = Store(db_path)
        self.records = Records(self.store, tz_offset_minutes, self.now)
        self.specs = crm_specs()
        for spec in self.specs.values():
            self.store.ensure_table(spec.table)
        fresh = self.store.count("status", "1", []) == 0 if "status" in self.store.tables() else True
        self.crm = LegacyCrm(self.records, self.specs)
        self.directories = Directories(self.records)
        self.directories.install(self.now())
        self.items = SmartItems(self.records, self.directories, self.crm)
        self.userfields = UserFields(self.records, self.specs, self.items.refresh_views)
        self.userfields.install(fresh)
        self.items.install(fresh)
        self._methods: dict[str, Handler] = {}
        self.crm.register(self._methods)
        self.directories.register(self._methods)
        self.items.register(self._methods)
        self.userfields.register(self._methods)
        AppMethods(self.now, tz_offset_minutes, self.methods).register(self._methods)

    # ---- clock -----------------------------------------------------------------------------------
    def now(self) -> int:
        return int(self.clock.now())

    # ---- the wire plane's entry point -------------------------------------------------------------
    def dispatch(self, method: str, params: dict[str, Any] | None) -> MethodResult:
        name = method.lower().removesuffix(".json")
        handler = self._methods.get(name)
        if handler is None:
            raise PortalError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)
        return handler(params if isinstance(params, dict) else {})

    def methods(self) -> list[str]:
        return sorted(self._methods)

    def scope_of(self, method: str) -> str | None:
        name = method.lower().removesuffix(".json")
        if name not in self._methods:
            return None
        head = name.split(".", 1)[0]
        return head if head in ("crm", "user", "department") else None

    # ---- direct mutation for tests: same code path as REST ------------------------------------------
    # entity: deal, lead, contact, company, activity, invoice, item<entityTypeId> (e.g. item128),
    # user, department. Items take camelCase fields; the others Bitrix's UPPER_CASE ones.
    def add(self, entity: str, fields: dict[str, Any]) -> int:
        if entity in self.specs:
            return self.crm.add_record(entity, fields)
        if entity in ("user", "department"):
            spec = self.directories.user if entity == "user" else self.directories.department
            data = self.records.decode_fields(spec, fields, None)
            if entity == "user":
                data.setdefault("ACTIVE", True)
                data.setdefault("USER_TYPE", "employee")
            return self.records.insert(spec, data)
        return int(self.items.add_item(self._item_spec(entity), fields)["id"])

    def update(self, entity: str, id: int, fields: dict[str, Any]) -> None:
        if entity in self.specs:
            self.crm.update_record(entity, int(id), fields)
        elif entity in ("user", "department"):
            spec = self.directories.user if entity == "user" else self.directories.department
            with self.store.locked():
                cur = self.records.fetch(spec, int(id))
                if cur is None:
                    raise PortalError("", "Not found")
                self.records.replace(spec, int(id), self.records.decode_fields(spec, fields, cur))
        else:
            self.items.update_item(self._item_spec(entity), int(id), fields)

    def delete(self, entity: str, id: int) -> None:
        if entity in self.specs:
            self.crm.delete_record(entity, int(id))
            return
        if entity in ("user", "department"):
            spec = self.directories.user if entity == "user" else self.directories.department
        else:
            spec = self._item_spec(entity)
        if not self.records.remove(spec, int(id)):
            raise PortalError("NOT_FOUND", "Item not found")

    def _item_spec(self, entity: str) -> EntitySpec:
        name = entity.replace(":", "")
        etid = (
            31
            if name == "invoice"
            else int(name[4:])
            if name.startswith("item") and name[4:].isdigit()
            else None
        )
        if etid is None or etid not in self.items.specs:
            raise KeyError(f"unknown entity {entity!r}")
        return self.items.specs[etid]

    # ---- seeding ---------------------------------------------------------------------------------
    def seed(self, counts: dict[str, int], rng_seed: int = 1) -> None:
        from .seed import seed_portal

        seed_portal(self, counts, rng_seed)

    def close(self) -> None:
        self.store.close()
