"""Fixtures of the tap tests (helpers live in tap_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tap_support import SMALL_SEED, SPEED

from bitrix24_sandbox import Sandbox


@pytest.fixture
def small_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=SMALL_SEED, speed=SPEED) as sb:
        yield sb
