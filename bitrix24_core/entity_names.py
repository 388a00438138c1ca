"""Short entity names as connectors' users write them ("deal", "user") -> the entities table's paths."""

from __future__ import annotations

from .entities import ENTITIES

_PATHS = {e.path for e in ENTITIES}


def entity_path(name: str) -> str:
    """``"deal"`` -> ``"crm.deal"``, ``"user"`` -> ``"user"``, a path -> itself; KeyError when the
    table has no such entity (CRM names first: ``"item"`` is ``crm.item``)."""
    for path in (f"crm.{name}", name):
        if path in _PATHS:
            return path
    raise KeyError(f"no entity named {name!r}")


def entity_paths(*names: str) -> dict[str, str]:
    """``{name: entity_path(name)}`` for each name."""
    return {name: entity_path(name) for name in names}


__all__ = ["entity_path", "entity_paths"]
