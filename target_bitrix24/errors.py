"""Error codes written to the dead-letter file, and the target's own exceptions."""

from __future__ import annotations

# Codes the target assigns itself (the portal's own codes, e.g. "ACCESS_DENIED", pass through as sent).
UNKNOWN_STREAM = "UNKNOWN_STREAM"
MISSING_KEY = "MISSING_KEY"
WRONG_TYPE = "WRONG_TYPE"
INVALID_RECORD = "INVALID_RECORD"
UNKNOWN_FIELD = "UNKNOWN_FIELD"
READ_ONLY_FIELD = "READ_ONLY_FIELD"
NOT_FOUND = "NOT_FOUND"
AMBIGUOUS_MATCH = "AMBIGUOUS_MATCH"
OUTCOME_UNKNOWN = "OUTCOME_UNKNOWN"
WRITE_FAILED = "WRITE_FAILED"
HALTED = "HALTED"


class RecordError(Exception):
    """One record cannot be written; it goes to the dead-letter file and the others proceed."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class TargetConfigError(ValueError):
    """The target's settings are inconsistent (a bad stream route, a missing credential)."""


class TooManyFailuresError(RuntimeError):
    """More records failed than max_failures allows; the run ends with a non-zero exit."""


class HaltedOnError(RuntimeError):
    """halt_on_error is set and a record failed: the run stops after accounting for every record."""
