"""Loggers: the SDK logs through an ``AbstractLogger``; the concrete ones sit on the logging module.

Every message goes through ``masking.mask`` before it reaches a handler, so secrets never get logged.
"""

from __future__ import annotations

import logging
import sys
from abc import ABC, abstractmethod
from typing import Any, TextIO

from .masking import mask


class AbstractLogger(ABC):
    """What the SDK needs from a logger."""

    @abstractmethod
    def log(self, level: int, message: str, context: dict[str, Any] | None = None) -> None: ...

    def debug(self, message: str, context: dict[str, Any] | None = None) -> None:
        self.log(logging.DEBUG, message, context)

    def info(self, message: str, context: dict[str, Any] | None = None) -> None:
        self.log(logging.INFO, message, context)

    def warning(self, message: str, context: dict[str, Any] | None = None) -> None:
        self.log(logging.WARNING, message, context)

    def error(self, message: str, context: dict[str, Any] | None = None) -> None:
        self.log(logging.ERROR, message, context)

    def critical(self, message: str, context: dict[str, Any] | None = None) -> None:
        self.log(logging.CRITICAL, message, context)


class BaseLogger(AbstractLogger):
    """Logs masked messages to a ``logging.Logger`` (by default ``"bitrix24_core"``)."""

    def __init__(self, logger: logging.Logger | None = None, level: int | None = None) -> None:
        self.logger = logger or logging.getLogger("bitrix24_core")
        if level is not None:
            self.logger.setLevel(level)

    def log(self, level: int, message: str, context: dict[str, Any] | None = None) -> None:
        if not self.logger.isEnabledFor(level):
            return
        text = mask(message)
        if context:
            text += " " + mask(" ".join(f"{key}={value}" for key, value in context.items()))
        self.logger.log(level, "%s", text)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.logger.name!r})"


class NullLogger(BaseLogger):
    """Drops everything (the default)."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("bitrix24_core.null"))

    def log(self, level: int, message: str, context: dict[str, Any] | None = None) -> None:
        return None


class StreamLogger(BaseLogger):
    """Logs to a stream (stderr by default) with its own handler, independent of the root logger."""

    _FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"

    def __init__(
        self,
        stream: TextIO | None = None,
        level: int = logging.INFO,
        name: str = "bitrix24_core",
    ) -> None:
        logger = logging.getLogger(f"{name}.stream{id(self)}")
        logger.propagate = False
        logger.setLevel(level)
        self.handler = logging.StreamHandler(stream or sys.stderr)
        self.handler.setFormatter(logging.Formatter(self._FORMAT))
        logger.addHandler(self.handler)
        super().__init__(logger)

    def close(self) -> None:
        self.logger.removeHandler(self.handler)


__all__ = ["AbstractLogger", "BaseLogger", "NullLogger", "StreamLogger"]
