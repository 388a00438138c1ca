"""The attribute tree ``client.crm.deal.list(...)``, built from the entities table (no class per entity).

Every node is a ``Scope``; its methods are the table's verbs, named in snake case
(``crm.type.getByEntityTypeId`` -> ``client.crm.type.get_by_entity_type_id``), taking the table's
keyword arguments (positionally too, in table order) plus ``timeout``. Calling one builds a lazy
``BitrixAPIRequest``; ``None`` arguments are left out.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .entities import ENTITIES, Entity
from .error import BitrixValidationError
from .requests import BitrixAPIRequest
from .transport import CallOptions

if TYPE_CHECKING:
    from .client import Client


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


@dataclass
class _Node:
    children: set[str] = field(default_factory=set)
    methods: dict[str, tuple[Entity, str]] = field(default_factory=dict)


def _build_tree(entities: tuple[Entity, ...]) -> dict[str, _Node]:
    tree: dict[str, _Node] = {"": _Node()}

    def node(path: str) -> _Node:
        if path not in tree:
            tree[path] = _Node()
            parent, _, name = path.rpartition(".")
            node(parent).children.add(name)
        return tree[path]

    for entity in entities:
        node(entity.path)
        for verb in entity.methods:
            *nested, last = verb.split(".") if verb else [""]
            owner = ".".join([entity.path, *nested])
            target = node(owner)
            name = "__call__" if not last else snake(last)
            target.methods[name] = (entity, verb)
            if last and last != name:
                target.methods[last] = (entity, verb)  # the wire's camelCase name works too
    return tree


TREE = _build_tree(ENTITIES)


def build_params(
    entity: Entity, verb: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> dict[str, Any]:
    """Wire parameters from a call's arguments, by the table's ``Param`` list."""
    spec = entity.methods[verb]
    method = entity.wire_method(verb)
    if len(args) > len(spec):
        raise TypeError(f"{method}() takes {len(spec)} positional arguments, got {len(args)}")
    values: dict[str, Any] = {p.name: a for p, a in zip(spec, args, strict=False)}
    known = {p.name for p in spec}
    for name, value in kwargs.items():
        if name not in known:
            hint = ", ".join(p.name for p in spec) or "none"
            raise TypeError(f"{method}() got an unexpected keyword argument {name!r} (takes: {hint})")
        if name in values:
            raise TypeError(f"{method}() got multiple values for argument {name!r}")
        values[name] = value
    params: dict[str, Any] = {}
    for p in spec:
        value = values.get(p.name)
        if value is None:
            continue
        if p.wire == "*":
            if not isinstance(value, Mapping):
                raise BitrixValidationError(f"{method}(): {p.name} must be a mapping")
            params.update(value)
        else:
            params[p.wire] = value
    return params


class Scope:
    """One node of the tree (``client.crm``, ``client.crm.deal``, ...)."""

    __slots__ = ("_client", "_path")

    def __init__(self, client: Client, path: str) -> None:
        self._client = client
        self._path = path

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        node = TREE.get(self._path)
        if node is not None and name in node.methods:
            return self._method(*node.methods[name])
        child = f"{self._path}.{name}" if self._path else name
        if child in TREE:
            return Scope(self._client, child)
        raise AttributeError(f"{self._path or 'client'} has no method or scope {name!r}")

    def __call__(self, *args: Any, **kwargs: Any) -> BitrixAPIRequest:
        node = TREE.get(self._path)
        if node is None or "__call__" not in node.methods:
            raise TypeError(f"{self._path} is a scope, not a method")
        return self._method(*node.methods["__call__"])(*args, **kwargs)

    def _method(self, entity: Entity, verb: str) -> Callable[..., BitrixAPIRequest]:
        client = self._client
        spec = entity.methods[verb]
        wire = entity.wire_method(verb)

        def method(*args: Any, timeout: Any = None, **kwargs: Any) -> BitrixAPIRequest:
            params = build_params(entity, verb, args, kwargs)
            options = client.options.merged(CallOptions(timeout=timeout)) if timeout is not None else None
            return BitrixAPIRequest(
                client.credentials, wire, params, options=options or client.options, entity=entity, verb=verb
            )

        method.__name__ = snake(verb.rpartition(".")[2]) or entity.path.rpartition(".")[2]
        method.__qualname__ = f"client.{entity.path}.{verb}" if verb else f"client.{entity.path}"
        method.__doc__ = f"Build a lazy ``{wire}`` request (parameters: {', '.join(p.wire for p in spec)})."
        parameters = [
            inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None) for p in spec
        ]
        parameters.append(inspect.Parameter("timeout", inspect.Parameter.KEYWORD_ONLY, default=None))
        method.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        return method

    def __dir__(self) -> list[str]:
        node = TREE.get(self._path, _Node())
        return sorted(node.children | {m for m in node.methods if m != "__call__"})

    def __repr__(self) -> str:
        return f"<Scope {self._path or 'client'}>"


__all__ = ["TREE", "Scope", "build_params", "snake"]
