"""Runs one client in a worker process against a running Sandbox and collects the figures of that run.

Figures come from two sides: the portal (its counters: HTTP requests, rows, simulated server time,
refusals; its virtual clock) and the worker (what it read, its peak RSS and CPU). Virtual wall time runs
from the client's first request (a sandbox hook notes it, so interpreter start-up is not counted) to the
worker's ``@bench done`` line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .worker import PREFIX

REPO = Path(__file__).resolve().parent.parent
QUIET = 700.0  # portal seconds skipped before a run: the bucket drains and the operating window empties


@dataclass
class Run:
    """The figures of one client run."""

    client: str
    requests: int = 0
    rows: int = 0
    commands: int = 0
    server_s: float = 0.0
    server_by_method: dict[str, float] = field(default_factory=dict)
    refused_503: int = 0
    refused_429: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    virtual_s: float = 0.0
    real_s: float = 0.0
    maxrss_mb: float = 0.0
    cpu_s: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    timed_out: bool = False

    @property
    def rows_per_request(self) -> float:
        return self.rows / self.requests if self.requests else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _FirstRequest:
    """Sandbox hook: remembers the portal and real time of the first REST request."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self.virtual: float | None = None
        self.real: float | None = None

    def __call__(self, method: str) -> None:
        if self.virtual is None:
            self.real = time.monotonic()
            self.virtual = self.clock.now()


def run_worker(sb: Any, client: str, job: dict[str, Any], limit_real_s: float, log: Path) -> Run:
    """Start `python -m bench.worker` with `job`, wait for it (at most `limit_real_s`), return its Run."""
    sb.clock.advance(QUIET)
    sb.reset_counters()
    first = _FirstRequest(sb.clock)
    sb.set_hook(first)
    run = Run(client)
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with open(log, "a") as err:
        err.write(f"\n===== {client}: {job.get('kind')} =====\n")
        err.flush()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=REPO,
            env=env,
        )
        watchdog = threading.Timer(limit_real_s, _kill, (proc, run))
        watchdog.start()
        try:
            _converse(proc, job, sb, first, run)
            proc.wait()
        finally:
            watchdog.cancel()
            sb.set_hook(None)
    _collect(sb.counters(), run)
    return run


def _kill(proc: subprocess.Popen[str], run: Run) -> None:
    run.timed_out = True
    proc.kill()


def _converse(
    proc: subprocess.Popen[str], job: dict[str, Any], sb: Any, first: _FirstRequest, run: Run
) -> None:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(job) + "\n")
    proc.stdin.close()
    done_virtual: float | None = None
    done_real = 0.0
    for line in proc.stdout:
        if not line.startswith(PREFIX):
            continue
        kind, _, payload = line[len(PREFIX) :].strip().partition(" ")
        if kind == "done":
            done_virtual, done_real = sb.clock.now(), time.monotonic()
        elif kind == "result":
            run.result = json.loads(payload)
    if done_virtual is None:
        done_virtual, done_real = sb.clock.now(), time.monotonic()
    if first.virtual is not None and first.real is not None:
        run.virtual_s = done_virtual - first.virtual
        run.real_s = done_real - first.real
    run.maxrss_mb = float(run.result.pop("maxrss_mb", 0.0))
    run.cpu_s = float(run.result.pop("cpu_s", 0.0))
    run.error = run.result.pop("error", None)
    if run.timed_out:
        run.error = f"stopped after the benchmark's time limit; {run.error or ''}".rstrip("; ")


def _collect(counters: dict[str, Any], run: Run) -> None:
    run.requests = counters["requests"]
    run.rows = counters["rows"]
    run.commands = counters["commands"]
    run.server_by_method = {m: round(s, 3) for m, s in counters["server_time"].items()}
    run.server_s = sum(counters["server_time"].values())
    run.refused_503 = counters["refusals"].get("QUERY_LIMIT_EXCEEDED", 0)
    run.refused_429 = counters["refusals"].get("OPERATION_TIME_LIMIT", 0)
    run.errors = {k: v for k, v in counters["errors"].items() if k not in ("QUERY_LIMIT_EXCEEDED",)}
