"""Errors and results the data plane hands to the wire plane."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class PortalError(Exception):
    """A Bitrix error answer: code (may be empty, as legacy 'Not found'), description, HTTP status."""

    def __init__(self, code: str, description: str, status: int = 400) -> None:
        super().__init__(f"{code or '(empty code)'}: {description}")
        self.code = code
        self.description = description
        self.status = status


@dataclass
class MethodResult:
    result: Any
    total: int | None = None
    next: int | None = None
    cost: float = 0.0


def not_found() -> PortalError:
    return PortalError("", "Not found", 400)
