"""crm.deal|lead|contact|company|activity .fields/.list/.get/.add/.update/.delete (legacy CRM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import cost as costs
from .entities import EntitySpec, as_list, encode
from .errors import MethodResult, PortalError, not_found
from .params import param, require_id
from .records import Records, all_keys, select_legacy

Handler = Callable[[dict[str, Any]], MethodResult]

# Values a fresh record gets when the caller leaves them out (what the real portal fills in).
DEFAULTS: dict[str, dict[str, Any]] = {
    "deal": {
        "TYPE_ID": "SALE",
        "CATEGORY_ID": 0,
        "STAGE_ID": "NEW",
        "STAGE_SEMANTIC_ID": "P",
        "IS_NEW": "Y",
        "IS_RECURRING": "N",
        "IS_RETURN_CUSTOMER": "N",
        "IS_REPEATED_APPROACH": "N",
        "CURRENCY_ID": "USD",
        "OPPORTUNITY": 0.0,
        "IS_MANUAL_OPPORTUNITY": "N",
        "TAX_VALUE": 0.0,
        "OPENED": "Y",
        "CLOSED": "N",
        "ASSIGNED_BY_ID": 1,
        "CREATED_BY_ID": 1,
        "MODIFY_BY_ID": 1,
    },
    "lead": {
        "STATUS_ID": "NEW",
        "STATUS_SEMANTIC_ID": "P",
        "CURRENCY_ID": "USD",
        "OPPORTUNITY": 0.0,
        "IS_MANUAL_OPPORTUNITY": "N",
        "OPENED": "Y",
        "IS_RETURN_CUSTOMER": "N",
        "ASSIGNED_BY_ID": 1,
        "CREATED_BY_ID": 1,
        "MODIFY_BY_ID": 1,
    },
    "contact": {
        "TYPE_ID": "CLIENT",
        "OPENED": "Y",
        "EXPORT": "Y",
        "ASSIGNED_BY_ID": 1,
        "CREATED_BY_ID": 1,
        "MODIFY_BY_ID": 1,
    },
    "company": {
        "COMPANY_TYPE": "CUSTOMER",
        "OPENED": "Y",
        "IS_MY_COMPANY": "N",
        "CURRENCY_ID": "USD",
        "ASSIGNED_BY_ID": 1,
        "CREATED_BY_ID": 1,
        "MODIFY_BY_ID": 1,
    },
    "activity": {
        "COMPLETED": "N",
        "STATUS": 1,
        "PRIORITY": 2,
        "NOTIFY_TYPE": 0,
        "DESCRIPTION_TYPE": 1,
        "DIRECTION": 0,
        "AUTHOR_ID": 1,
        "EDITOR_ID": 1,
        "PROVIDER_ID": "CRM_TODO",
        "PROVIDER_TYPE_ID": "TODO",
    },
}
TITLES = {"deal": "Deal #{}", "lead": "Lead #{}"}
STAGE_SEMANTICS = {"WON": "S", "LOSE": "F", "APOLOGY": "F", "JUNK": "F", "CONVERTED": "S"}


class LegacyCrm:
    def __init__(self, records: Records, specs: dict[str, EntitySpec]) -> None:
        self.records = records
        self.specs = specs

    def register(self, table: dict[str, Handler]) -> None:
        for name in self.specs:
            prefix = f"crm.{name}."
            table[prefix + "fields"] = self._bind(self.fields, name)
            table[prefix + "list"] = self._bind(self.list, name)
            table[prefix + "get"] = self._bind(self.get, name)
            table[prefix + "add"] = self._bind(self.add, name)
            table[prefix + "update"] = self._bind(self.update, name)
            table[prefix + "delete"] = self._bind(self.delete, name)
        for name, other in (("deal", "contact"), ("contact", "company")):
            table[f"crm.{name}.{other}.items.get"] = self._bind(self.links_get, name)
            table[f"crm.{name}.{other}.items.set"] = self._bind(self.links_set, name)

    @staticmethod
    def _bind(fn: Callable[[str, dict[str, Any]], MethodResult], name: str) -> Handler:
        return lambda params: fn(name, params)

    def fields(self, name: str, params: dict[str, Any]) -> MethodResult:
        spec = self.specs[name]
        return MethodResult({k: f.describe() for k, f in spec.fields.items()}, cost=costs.META)

    def links_get(self, name: str, params: dict[str, Any]) -> MethodResult:
        rec = self.records.fetch(self.specs[name], require_id(params))
        if rec is None:
            raise not_found()
        return MethodResult(link_items(name, rec), cost=costs.get_cost(4))

    def links_set(self, name: str, params: dict[str, Any]) -> MethodResult:
        """Replace the record's links: items [{CONTACT_ID|COMPANY_ID, SORT, IS_PRIMARY}]."""
        key = "CONTACT_ID" if name == "deal" else "COMPANY_ID"
        items = [i for i in as_list(param(params, "items")) if isinstance(i, dict) and i.get(key)]
        items.sort(key=lambda i: (str(i.get("IS_PRIMARY", "N")).upper() != "Y", int(i.get("SORT") or 0)))
        self.update_record(name, require_id(params), {_LINKS[name][1]: [i[key] for i in items]})
        return MethodResult(True, cost=costs.write_cost(len(items)))

    def list(self, name: str, params: dict[str, Any]) -> MethodResult:
        spec = self.specs[name]
        keys = select_legacy(spec, param(params, "select"))
        page = self.records.page(
            spec, param(params, "filter"), param(params, "order"), keys, param(params, "start")
        )
        if page.total is None:  # start=-1: legacy answers total 0 and no next
            return MethodResult(page.rows, total=0, cost=page.cost)
        return MethodResult(page.rows, total=page.total, next=page.next, cost=page.cost)

    def get(self, name: str, params: dict[str, Any]) -> MethodResult:
        spec = self.specs[name]
        rec = self.records.fetch(spec, require_id(params))
        if rec is None:
            raise not_found()
        keys = all_keys(spec, rec)
        return MethodResult(encode(spec, rec, keys, self.records.tz), cost=costs.get_cost(len(keys)))

    def add(self, name: str, params: dict[str, Any]) -> MethodResult:
        rid = self.add_record(name, param(params, "fields") or {})
        return MethodResult(rid, cost=costs.write_cost(len(param(params, "fields") or {})))

    def add_record(self, name: str, fields: dict[str, Any]) -> int:
        spec = self.specs[name]
        data = dict(DEFAULTS.get(name, {}))
        data.update(
            {k: v for k, v in self.records.decode_fields(spec, fields, None).items() if v is not None}
        )
        if name == "activity":
            _check_activity(data)
        _derive_stage(name, data)
        _derive_links(name, data, {})
        with self.records.store.locked():  # readers never see the record before its default title
            rid = self.records.insert(spec, data)
            if name in TITLES and not data.get("TITLE"):
                self.records.replace(spec, rid, {"TITLE": TITLES[name].format(rid)})
        return rid

    def update(self, name: str, params: dict[str, Any]) -> MethodResult:
        fields = param(params, "fields") or {}
        self.update_record(name, require_id(params), fields)
        return MethodResult(True, cost=costs.write_cost(len(fields)))

    def update_record(self, name: str, rid: int, fields: dict[str, Any]) -> None:
        spec = self.specs[name]
        with self.records.store.locked():  # read-modify-write: concurrent updates must not lose changes
            cur = self.records.fetch(spec, rid)
            if cur is None:
                raise not_found()
            changes = self.records.decode_fields(spec, fields, cur)
            changes["EDITOR_ID" if name == "activity" else "MODIFY_BY_ID"] = 1
            _derive_stage(name, changes)
            _derive_links(name, changes, cur)
            self.records.replace(spec, rid, changes)

    def delete(self, name: str, params: dict[str, Any]) -> MethodResult:
        self.delete_record(name, require_id(params))
        return MethodResult(True, cost=costs.write_cost(0))

    def delete_record(self, name: str, rid: int) -> None:
        if not self.records.remove(self.specs[name], rid):
            raise not_found()


def _derive_stage(name: str, data: dict[str, Any]) -> None:
    """Semantics follow the stage: 'C1:WON' is a success, LOSE/APOLOGY a failure; closed deals say so."""
    if name == "deal" and data.get("STAGE_ID"):
        stage = str(data["STAGE_ID"]).split(":")[-1]
        sem = STAGE_SEMANTICS.get(stage, "P")
        data["STAGE_SEMANTIC_ID"] = sem
        data["CLOSED"] = "N" if sem == "P" else "Y"
    if name == "lead" and data.get("STATUS_ID"):
        data["STATUS_SEMANTIC_ID"] = STAGE_SEMANTICS.get(str(data["STATUS_ID"]), "P")


# Deprecated single link <-> its list (deal: CONTACT_ID/CONTACT_IDS, contact: COMPANY_ID/COMPANY_IDS).
_LINKS = {"deal": ("CONTACT_ID", "CONTACT_IDS"), "contact": ("COMPANY_ID", "COMPANY_IDS")}


def _derive_links(name: str, changes: dict[str, Any], current: dict[str, Any]) -> None:
    """The list wins when sent (its first entry becomes the single link); a single link sent alone
    joins the list at the front, as the real service keeps both in step."""
    if name not in _LINKS:
        return
    one, many = _LINKS[name]
    if many in changes:
        ids = list(dict.fromkeys(changes[many] or []))
        changes[many] = ids
        changes[one] = ids[0] if ids else None
    elif one in changes:
        ids = [i for i in current.get(many) or [] if i != changes[one]]
        changes[many] = ([changes[one]] if changes[one] else []) + ids


def link_items(name: str, rec: dict[str, Any]) -> list[dict[str, Any]]:
    """crm.deal.contact.items.get / crm.contact.company.items.get rows of one record."""
    one, many = _LINKS[name]
    ids = rec.get(many) or ([rec[one]] if rec.get(one) else [])
    key = "CONTACT_ID" if name == "deal" else "COMPANY_ID"
    return [
        {key: i, "SORT": (n + 1) * 10, "ROLE_ID": 0, "IS_PRIMARY": "Y" if n == 0 else "N"}
        for n, i in enumerate(ids)
    ]


def _check_activity(data: dict[str, Any]) -> None:
    for key in ("OWNER_ID", "OWNER_TYPE_ID"):
        if not data.get(key):
            raise PortalError("", f"The field {key} is required.")
