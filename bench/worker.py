"""One measured client run, in its own process so that its peak memory and CPU are its own.

    python -m bench.worker < job.json

The job (one JSON object on stdin) names the client and what to do. The worker prints
``@bench done`` the moment the work is finished (the parent reads the portal clock then) and
``@bench result {...}`` with the fingerprint of what it read, its errors, peak RSS and CPU seconds.
Clients that run as their own process (tap, target) are measured through RUSAGE_CHILDREN.
"""

from __future__ import annotations

import json
import resource
import sys
import traceback
from typing import Any

from .peers import Portal
from .verify import IdChecker

PREFIX = "@bench "


def _emit(kind: str, payload: Any = None) -> None:
    line = PREFIX + kind if payload is None else f"{PREFIX}{kind} {json.dumps(payload)}"
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _usage(who: int) -> dict[str, float]:
    """Peak RSS and CPU of this process (RUSAGE_SELF) or of the tap/target it ran (RUSAGE_CHILDREN).

    ru_maxrss of this process is useless: Linux carries the parent's high-water mark over fork and exec,
    and the parent holds the whole seeded portal. VmHWM is this address space's own peak. A child started
    from here inherits only this small worker's mark, so RUSAGE_CHILDREN is right for the tap and target.
    """
    usage = resource.getrusage(who)
    peak = usage.ru_maxrss / 1024.0 if who == resource.RUSAGE_CHILDREN else _vm_hwm_mb()
    return {"maxrss_mb": peak, "cpu_s": usage.ru_utime + usage.ru_stime}


def _vm_hwm_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def run_read(job: dict[str, Any]) -> dict[str, Any]:
    from .readers import READERS

    portal = Portal(job["webhook"], job["speed"])
    checker = IdChecker("ID", job.get("max_id", 0), job.get("fields"))
    extra: dict[str, Any] = {}
    try:
        for record in READERS[job["client"]](portal, job["entity"]):
            checker.add(record)
    except Exception as exc:  # a failing peer is a result, not a crash of the benchmark
        extra["error"] = _describe(exc)
    return {"fingerprint": checker.fp.as_dict(), **extra}


def run_sync(job: dict[str, Any]) -> dict[str, Any]:
    """Every entity in turn with one reader: how a library without a sync engine reads several streams."""
    from .readers import READERS

    portal = Portal(job["webhook"], job["speed"])
    prints: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for entity, fields in job["fields"].items():
        checker = IdChecker("ID", job["max_ids"][entity], fields)
        try:
            for record in READERS[job["client"]](portal, entity):
                checker.add(record)
        except Exception as exc:
            extra["error"] = f"{entity}: {_describe(exc)}"
        prints[entity] = checker.fp.as_dict()
        if "error" in extra:
            break
    return {"fingerprints": prints, **extra}


def run_write(job: dict[str, Any]) -> dict[str, Any]:
    from .writers import WRITERS, update_items, upsert_items

    portal = Portal(job["webhook"], job["speed"])
    if job["op"] == "update":
        items = update_items(job["ids"], job["tag"])
    else:
        items = upsert_items(job["count"], job["tag"])
    try:
        return WRITERS[job["client"]](portal, job["op"], items)
    except Exception as exc:
        return {"error": _describe(exc)}


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) < 400 else text[:400] + "..."


class _Done:
    """Prints ``@bench done`` once: when the measured work ends, before any after-the-fact checking."""

    def __init__(self) -> None:
        self.sent = False

    def __call__(self) -> None:
        if not self.sent:
            self.sent = True
            _emit("done")


def main() -> None:
    job = json.loads(sys.stdin.readline())
    kind = job["kind"]
    done = _Done()
    try:
        if kind == "read":
            result = run_read(job)
            who = resource.RUSAGE_SELF
        elif kind == "sync":
            result = run_sync(job)
            who = resource.RUSAGE_SELF
        elif kind == "write":
            result = run_write(job)
            who = resource.RUSAGE_SELF
        else:
            from .tapjobs import JOBS

            result = JOBS[kind](job, done)
            who = resource.RUSAGE_CHILDREN
    except Exception:
        done()
        _emit("result", {"error": traceback.format_exc(limit=3)[-600:]})
        raise SystemExit(1) from None
    done()
    _emit("result", {**result, **_usage(who)})


if __name__ == "__main__":
    main()
