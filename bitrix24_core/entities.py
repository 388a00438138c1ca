"""The one declarative table of Bitrix24 entities.

Each ``Entity`` row says how an entity looks on the wire: its method prefix, the methods it has and the
parameters each takes, its id and modified-date keys, the key that wraps list/get results, the case of
its keys, its list syntax (filter/order/select names, whether ``start=-1`` and ``>ID`` cursors work).
The SDK builds ``client.crm.deal.list(...)`` and friends from this table (``scopes.py``), the list
strategies read their cursor rules from it (``lists.py``), and the tap's streams and the target's sinks
use the same rows. Adding an entity is one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

KeyCase = Literal["upper", "camel"]


@dataclass(frozen=True)
class Param:
    """One keyword argument of an SDK method and the wire name it is sent as.

    ``wire="*"`` spreads a mapping into the top level (``user.add(fields={...})`` sends ``NAME=...``).
    """

    name: str
    wire: str


@dataclass(frozen=True)
class ListSyntax:
    """How a list method takes its filter, order, select and page offset."""

    filter: str | None = "filter"  # None: filter keys are flat top-level params (department.get)
    order: Literal["map", "sort", "none"] = "map"  # map: order={FIELD: DIR}; sort: sort=FIELD&order=DIR
    select: str | None = "select"  # None: the method always returns every field
    start: str | None = "start"  # None: no paging, one call returns everything
    operators: bool = True  # filter keys take operator prefixes such as ">ID"
    start_minus_one: bool = True  # start=-1 skips the COUNT (docs settings/performance/huge-data.md)


CRM_LIST = ListSyntax()
USER_LIST = ListSyntax(filter="FILTER", order="sort", select=None)
DEPARTMENT_LIST = ListSyntax(filter=None, order="sort", select=None, operators=False, start_minus_one=False)
UNPAGED_LIST = ListSyntax(start=None, start_minus_one=False)


@dataclass(frozen=True)
class Entity:
    """One row of the table. ``path`` is both the SDK attribute path and the wire method prefix
    (``crm.deal`` -> ``client.crm.deal.list`` -> ``crm.deal.list``) unless ``prefix`` differs."""

    path: str
    methods: Mapping[str, tuple[Param, ...]]
    prefix: str = ""
    id_key: str | None = "ID"
    modified_key: str | None = None
    created_key: str | None = None
    list_method: str | None = None  # the method that lists (user.get, department.get); None: no list
    list_wrapper: str | None = None  # list result is {wrapper: [...]} (crm.item: "items")
    item_wrapper: str | None = None  # get/add/update result is {wrapper: {...}} (crm.item: "item")
    key_case: KeyCase = "upper"
    list_syntax: ListSyntax = CRM_LIST
    entity_type_id: int | None = None  # fixed entityTypeId (crm.item rows for a given type)
    extra: Mapping[str, str] = field(default_factory=dict)  # free notes: "fast_list": why not

    def __post_init__(self) -> None:
        if not self.prefix:
            object.__setattr__(self, "prefix", self.path)
        object.__setattr__(self, "methods", MappingProxyType(dict(self.methods)))

    @property
    def scope(self) -> str:
        return self.prefix.split(".", 1)[0]

    def wire_method(self, verb: str) -> str:
        """``crm.deal`` + ``list`` -> ``crm.deal.list``; the verb ``""`` is the prefix itself."""
        return f"{self.prefix}.{verb}" if verb else self.prefix

    @property
    def list_wire_method(self) -> str | None:
        return self.wire_method(self.list_method) if self.list_method is not None else None

    @property
    def fast_list(self) -> bool:
        """True when an ``>ID`` cursor with ``start=-1`` can page this entity (as_list_fast's chain)."""
        s = self.list_syntax
        return (
            self.list_method is not None
            and self.id_key is not None
            and s.start_minus_one
            and s.operators
            and s.start is not None
        )

    def cursor_key(self, descending: bool) -> str:
        return ("<" if descending else ">") + str(self.id_key)

    def row_path(self, index: int) -> tuple[str, ...]:
        """Path from a list result down to row ``index``'s id (batch references)."""
        head = (self.list_wrapper,) if self.list_wrapper else ()
        return (*head, str(index), str(self.id_key))


def _p(*pairs: str) -> tuple[Param, ...]:
    """``_p("bitrix_id=id", "fields")``: keyword ``bitrix_id`` sent as ``id``; ``fields`` as itself."""
    out = []
    for pair in pairs:
        name, _, wire = pair.partition("=")
        out.append(Param(name, wire or name))
    return tuple(out)


# Parameter shapes shared by many rows.
_LEGACY_METHODS = {
    "fields": _p(),
    "add": _p("fields", "params"),
    "get": _p("bitrix_id=id"),
    "list": _p("select", "filter", "order", "start"),
    "update": _p("bitrix_id=id", "fields", "params"),
    "delete": _p("bitrix_id=id"),
}
_TYPE_ID = "entity_type_id=entityTypeId"
_UF_NAMES = "use_original_uf_names=useOriginalUfNames"
_ITEM_METHODS = {
    "fields": _p(_TYPE_ID, _UF_NAMES),
    "add": _p(_TYPE_ID, "fields", _UF_NAMES),
    "get": _p(_TYPE_ID, "bitrix_id=id", _UF_NAMES),
    "list": _p(_TYPE_ID, "select", "filter", "order", "start", _UF_NAMES),
    "update": _p(_TYPE_ID, "bitrix_id=id", "fields", _UF_NAMES),
    "delete": _p(_TYPE_ID, "bitrix_id=id"),
}
_USERFIELD_METHODS = {
    "add": _p("fields"),
    "get": _p("bitrix_id=id"),
    "list": _p("order", "filter"),
    "update": _p("bitrix_id=id", "fields"),
    "delete": _p("bitrix_id=id"),
}
_PRODUCTROWS_METHODS = {"get": _p("bitrix_id=id"), "set": _p("bitrix_id=id", "rows")}
_LINK_METHODS = {
    "fields": _p(),
    "add": _p("bitrix_id=id", "fields"),
    "delete": _p("bitrix_id=id", "fields"),
}
_LINK_ITEMS_METHODS = {
    "get": _p("bitrix_id=id"),
    "set": _p("bitrix_id=id", "items"),
    "delete": _p("bitrix_id=id"),
}


def _legacy(name: str, modified: str = "DATE_MODIFY", created: str = "DATE_CREATE") -> list[Entity]:
    """A legacy CRM entity (deal, lead, contact, company, quote) and its user fields."""
    return [
        Entity(
            f"crm.{name}",
            _LEGACY_METHODS,
            modified_key=modified,
            created_key=created,
            list_method="list",
        ),
        Entity(f"crm.{name}.userfield", _USERFIELD_METHODS, list_method="list", list_syntax=UNPAGED_LIST),
    ]


def _links(owner: str, other: str) -> list[Entity]:
    """``crm.deal.contact.add/delete/fields`` and ``crm.deal.contact.items.get/set/delete``."""
    return [
        Entity(f"crm.{owner}.{other}", _LINK_METHODS, id_key=f"{other.upper()}_ID"),
        Entity(f"crm.{owner}.{other}.items", _LINK_ITEMS_METHODS, id_key=f"{other.upper()}_ID"),
    ]


_CRM: list[Entity] = [
    *_legacy("deal"),
    *_legacy("lead"),
    *_legacy("contact"),
    *_legacy("company"),
    *_legacy("quote"),
    Entity(
        "crm.activity",
        {
            "fields": _p(),
            "add": _p("fields"),
            "get": _p("bitrix_id=id"),
            "list": _p("select", "filter", "order", "start"),
            "update": _p("bitrix_id=id", "fields"),
            "delete": _p("bitrix_id=id"),
        },
        modified_key="LAST_UPDATED",
        created_key="CREATED",
        list_method="list",
    ),
    Entity("crm.deal.productrows", _PRODUCTROWS_METHODS),
    Entity("crm.lead.productrows", _PRODUCTROWS_METHODS),
    Entity("crm.quote.productrows", _PRODUCTROWS_METHODS),
    *_links("deal", "contact"),
    *_links("contact", "company"),
    *_links("company", "contact"),
    *_links("lead", "contact"),
    Entity(
        "crm.item",
        _ITEM_METHODS,
        id_key="id",
        modified_key="updatedTime",
        created_key="createdTime",
        list_method="list",
        list_wrapper="items",
        item_wrapper="item",
        key_case="camel",
    ),
    Entity(
        "crm.item.productrow",
        {
            "fields": _p(),
            "add": _p("fields"),
            "get": _p("bitrix_id=id"),
            "list": _p("select", "filter", "order", "start"),
            "set": _p("owner_id=ownerId", "owner_type=ownerType", "product_rows=productRows"),
            "update": _p("bitrix_id=id", "fields"),
            "delete": _p("bitrix_id=id"),
            "getAvailableForPayment": _p("owner_id=ownerId", "owner_type=ownerType"),
        },
        id_key="id",
        list_method="list",
        list_wrapper="productRows",
        item_wrapper="productRow",
        key_case="camel",
    ),
    Entity(
        "crm.type",
        {
            "fields": _p(),
            "add": _p("fields"),
            "get": _p("bitrix_id=id"),
            "getByEntityTypeId": _p(_TYPE_ID),
            "list": _p("order", "filter", "start"),
            "update": _p("bitrix_id=id", "fields"),
            "delete": _p("bitrix_id=id"),
        },
        id_key="id",
        modified_key="updatedTime",
        created_key="createdTime",
        list_method="list",
        list_wrapper="types",
        item_wrapper="type",
        key_case="camel",
        extra={"fast_list": "select is not a parameter; the list is small"},
    ),
    Entity(
        "crm.category",
        {
            "fields": _p(_TYPE_ID),
            "add": _p(_TYPE_ID, "fields"),
            "get": _p(_TYPE_ID, "bitrix_id=id"),
            "list": _p(_TYPE_ID),
            "update": _p(_TYPE_ID, "bitrix_id=id", "fields"),
            "delete": _p(_TYPE_ID, "bitrix_id=id"),
        },
        id_key="id",
        list_method="list",
        list_wrapper="categories",
        item_wrapper="category",
        key_case="camel",
        list_syntax=ListSyntax(
            filter=None, order="none", select=None, start=None, operators=False, start_minus_one=False
        ),
    ),
    Entity(
        "crm.status",
        {
            "fields": _p(),
            "add": _p("fields"),
            "get": _p("bitrix_id=id"),
            "list": _p("order", "filter"),
            "update": _p("bitrix_id=id", "fields"),
            "delete": _p("bitrix_id=id", "params"),
        },
        list_method="list",
        list_syntax=ListSyntax(select=None, start=None, start_minus_one=False),
    ),
    Entity("crm.status.entity", {"types": _p(), "items": _p("entity_id=entityId")}, id_key=None),
    Entity(
        "crm.currency",
        {
            "fields": _p(),
            "add": _p("fields"),
            "get": _p("bitrix_id=id"),
            "list": _p("order"),
            "update": _p("bitrix_id=id", "fields"),
            "delete": _p("bitrix_id=id"),
            "base.get": _p(),
            "base.set": _p("bitrix_id=id"),
        },
        id_key="CURRENCY",
        modified_key="DATE_UPDATE",
        list_method="list",
        list_syntax=ListSyntax(filter=None, select=None, start=None, operators=False, start_minus_one=False),
    ),
]

_USER: list[Entity] = [
    Entity(
        "user",
        {
            "fields": _p(),
            "add": _p("fields=*"),
            "get": _p("filter=FILTER", "sort", "order", "admin_mode=ADMIN_MODE", "start"),
            "current": _p(),
            "search": _p("filter=FILTER", "sort", "order", "start"),
            "update": _p("bitrix_id=ID", "fields=*"),
        },
        modified_key="TIMESTAMP_X",
        created_key="DATE_REGISTER",
        list_method="get",
        list_syntax=USER_LIST,
    ),
    Entity(
        "user.userfield",
        {
            "add": _p("fields"),
            "list": _p("order", "filter"),
            "update": _p("bitrix_id=id", "fields"),
            "delete": _p("bitrix_id=id"),
        },
        list_method="list",
        list_syntax=UNPAGED_LIST,
    ),
    Entity(
        "department",
        {
            "fields": _p(),
            "add": _p("name=NAME", "sort=SORT", "parent=PARENT", "uf_head=UF_HEAD"),
            "get": _p(
                "sort", "order", "bitrix_id=ID", "name=NAME", "parent=PARENT", "uf_head=UF_HEAD", "start"
            ),
            "update": _p("bitrix_id=ID", "name=NAME", "sort=SORT", "parent=PARENT", "uf_head=UF_HEAD"),
            "delete": _p("bitrix_id=ID"),
        },
        list_method="get",
        list_syntax=DEPARTMENT_LIST,
        extra={"fast_list": "department.get filters by exact values only: no >ID cursor, no start=-1"},
    ),
]

_SOCIALNETWORK: list[Entity] = [
    Entity(
        "socialnetwork.api.workgroup",
        {"get": _p("params"), "list": _p("filter", "select", "is_admin=IS_ADMIN")},
        list_method="list",
        list_syntax=ListSyntax(order="map", start=None, start_minus_one=False),
    ),
    Entity(
        "socialnetwork.sonet_group",
        {"get": _p("order=ORDER", "filter=FILTER", "is_admin=IS_ADMIN", "start"), "create": _p("fields=*")},
        prefix="sonet_group",
        list_method="get",
        list_syntax=ListSyntax(filter="FILTER", order="map", select=None, start_minus_one=False),
    ),
]

_SYSTEM: list[Entity] = [
    Entity("app", {"info": _p()}, id_key=None),
    Entity("app.option", {"get": _p("option"), "set": _p("options")}, id_key=None),
    Entity("access", {"name": _p("access=ACCESS")}, id_key=None),
    Entity("feature", {"get": _p("code=CODE")}, id_key=None),
    Entity("method", {"get": _p("name")}, id_key=None),
    Entity("profile", {"": _p()}, id_key=None),
    Entity("scope", {"": _p("full")}, id_key=None),
    Entity("server", {"time": _p()}, id_key=None),
]

ENTITIES: tuple[Entity, ...] = (*_CRM, *_USER, *_SOCIALNETWORK, *_SYSTEM)

_BY_PATH: dict[str, Entity] = {e.path: e for e in ENTITIES}
_BY_METHOD: dict[str, tuple[Entity, str]] = {
    e.wire_method(verb).lower(): (e, verb) for e in ENTITIES for verb in e.methods
}


def entity(path: str) -> Entity:
    """The row for ``"crm.deal"``, ``"user"``, ...; KeyError names the known paths."""
    try:
        return _BY_PATH[path]
    except KeyError:
        raise KeyError(f"unknown entity {path!r}; known: {', '.join(sorted(_BY_PATH))}") from None


def entity_for_method(method: str) -> tuple[Entity, str] | None:
    """``"crm.deal.list"`` -> (the crm.deal row, ``"list"``); None for a method not in the table."""
    name = method.lower()
    if name.endswith(".json"):
        name = name[: -len(".json")]
    return _BY_METHOD.get(name)


def list_entities() -> Iterable[Entity]:
    """Rows that have a list method (what a tap can stream)."""
    return (e for e in ENTITIES if e.list_method is not None)


__all__ = [
    "DEPARTMENT_LIST",
    "ENTITIES",
    "USER_LIST",
    "Entity",
    "ListSyntax",
    "Param",
    "entity",
    "entity_for_method",
    "list_entities",
]
