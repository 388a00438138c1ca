"""singer-sdk's standard tap test suite against a seeded sandbox portal over real HTTP.

The SDK builds the test class at import time (it instantiates the tap to list the streams), so the
portal must already listen then: this module starts its sandbox on import and stops it when its
tests are done (or at exit, if they are deselected).
"""

from __future__ import annotations

import atexit
from collections.abc import Iterator

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class
from tap_support import SMALL_SEED, SPEED, tap_config

from bitrix24_sandbox import Sandbox
from tap_bitrix24.tap import TapBitrix24

SANDBOX = Sandbox(seed=SMALL_SEED, speed=SPEED).start()
atexit.register(SANDBOX.stop)

_StandardTests = get_tap_test_class(
    TapBitrix24,
    config=tap_config(SANDBOX),
    suite_config=SuiteConfig(max_records_limit=None),
)


class TestTapBitrix24Standard(_StandardTests):  # type: ignore[misc,valid-type]
    """Every standard tap, stream and attribute test of singer-sdk."""

    @pytest.fixture(scope="class", autouse=True)
    def _stop_sandbox_after(self) -> Iterator[None]:
        yield
        SANDBOX.stop()
