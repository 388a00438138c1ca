"""`make bench`: every comparison of issue #6 in one run, written into docs/benchmarks.md.

python -m bench.run                        # 10,000 / 100,000 / 1,000,000 deals, writes, sync, overhead
python -m bench.run --sizes 10000,100000   # the quick run
python -m bench.run --only reads --clients core.as_list_fast,b24pysdk.as_list_fast
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .measure import REPO
from .report import render, write_report
from .scenarios import Section, overhead_lines, read_section, sync_section, write_section

READ_CLIENTS = (
    "tap (RECORD)",
    "tap (BATCH parquet)",
    "core.as_list_fast",
    "core.as_list_fast(parallel)",
    "b24pysdk.as_list_fast",
    "b24pysdk.as_list",
    "fast_bitrix24.get_all",
)
WRITE_CLIENTS = ("target-bitrix24", "b24pysdk.call_batches", "fast_bitrix24.call")
SYNC_CLIENTS = (
    "tap (RECORD)",
    "core.as_list_fast(parallel)",
    "b24pysdk.as_list_fast",
    "fast_bitrix24.get_all",
)
SYNC_ENTITIES = ("deal", "contact", "company", "lead", "activity")
PARTS = ("reads", "sync", "writes", "overhead", "realism")


# Portal seconds per real second. Low enough that real CPU time (scaled by F like everything else) stays
# small next to simulated server time; higher where the run would otherwise take too long.
READ_SPEED = 5.0  # bulk reads up to 100,000 rows
MILLION_SPEED = 15.0  # bulk reads of 1,000,000 rows
SYNC_SPEED = 10.0
WRITE_SPEED = 10.0
REALISM = (200_000, 3.0)  # deals, F: a sequential reader at nearly real-portal CPU overhead


def default_speed(size: int) -> float:
    return READ_SPEED if size <= 100_000 else MILLION_SPEED


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="deal counts of the bulk reads")
    parser.add_argument("--speed", type=float, default=None, help="speed factor F (default: by size)")
    parser.add_argument("--only", default=",".join(PARTS), help=f"parts to run, of {','.join(PARTS)}")
    parser.add_argument("--clients", default=None, help="read/write clients to run (default: all)")
    parser.add_argument("--writes", type=int, default=10_000, help="records per write comparison")
    parser.add_argument("--sync-size", type=int, default=100_000, help="records per stream in the full sync")
    parser.add_argument("--overhead-size", type=int, default=50_000, help="deals in the tap overhead run")
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the sections of the previous results.json this run does not redo",
    )
    parser.add_argument("--render-only", action="store_true", help="rewrite the report from results.json")
    parser.add_argument("--out", default=str(REPO / "docs" / "benchmarks.md"))
    parser.add_argument("--json", default=str(REPO / "bench" / "results.json"))
    return parser.parse_args(argv)


def _clients(args: argparse.Namespace, known: Sequence[str]) -> list[str]:
    if not args.clients:
        return list(known)
    wanted = [c.strip() for c in args.clients.split(",")]
    return [c for c in known if c in wanted]


def run_reads(args: argparse.Namespace, log: Path) -> list[Section]:
    from bitrix24_sandbox import Sandbox

    sections = []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        speed = args.speed or default_speed(size)
        _say(f"seeding {size:,} deals")
        with Sandbox(seed={"deals": size}, speed=speed, plan="standard") as sb:
            section = read_section(sb, "deal", _clients(args, READ_CLIENTS), speed, log)
        sections.append(section)
        _say_section(section)
    return sections


def run_writes(args: argparse.Namespace, log: Path) -> list[Section]:
    from bitrix24_sandbox import Sandbox

    speed = args.speed or WRITE_SPEED
    sections = []
    with Sandbox(seed={"deals": 4 * args.writes}, speed=speed, plan="standard") as sb:
        for op in ("update", "upsert"):
            section = write_section(sb, op, args.writes, _clients(args, WRITE_CLIENTS), speed, log)
            sections.append(section)
            _say_section(section)
    return sections


def run_sync(args: argparse.Namespace, log: Path) -> list[Section]:
    from bitrix24_sandbox import Sandbox

    speed = args.speed or SYNC_SPEED
    n = args.sync_size
    seed = {"deals": n, "contacts": n, "companies": n // 2, "leads": n, "activities": n}
    _say(f"seeding {seed}")
    with Sandbox(seed=seed, speed=speed, plan="standard") as sb:
        section = sync_section(sb, SYNC_ENTITIES, _clients(args, SYNC_CLIENTS), speed, log)
    _say_section(section)
    return [section]


def run_realism(args: argparse.Namespace, log: Path) -> list[Section]:
    """b24pysdk.as_list_fast where the sandbox's CPU time, scaled by a small F, hardly slows it."""
    from bitrix24_sandbox import Sandbox

    size, speed = REALISM
    title = f"Realism check: {size:,} deals at F = {speed:g}, near real-portal round trips"
    with Sandbox(seed={"deals": size}, speed=speed, plan="standard") as sb:
        clients = _clients(args, ["core.as_list_fast(parallel)", "b24pysdk.as_list_fast"])
        section = read_section(sb, "deal", clients, speed, log, title)
    section.targeted = False
    section.notes.append(
        "At F = 15 the sandbox's CPU time per batch slows a sequential reader to about 0.7 s of server time "
        "per second, under the 0.8 the budget allows, so it never meets the budget; on a real portal it "
        "spends about 1 s per second. This run shows what it does then (docs/peers.md, item 1)."
    )
    _say_section(section)
    return [section]


def run_overhead(args: argparse.Namespace, log: Path) -> list[str]:
    from bitrix24_sandbox import Sandbox

    speed = 1e6  # no limits: the bucket, the budget and simulated server time all vanish
    with Sandbox(
        seed={"deals": args.overhead_size}, speed=speed, plan="unlimited", operating_limit=1e12
    ) as sb:
        return overhead_lines(sb, speed, args.overhead_size, log)


def _say(text: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def _say_section(section: Section) -> None:
    for run in section.runs:
        _say(
            f"{section.title} | {run.client}: {run.result.get('verdict') or run.error or 'done'}; "
            f"{run.requests} requests, server {run.server_s:.0f} s, virtual {run.virtual_s:.0f} s, "
            f"real {run.real_s:.1f} s, {run.maxrss_mb:.0f} MB, 503/429 {run.refused_503}/{run.refused_429}"
        )


def merge(
    previous: Path, reads: list[Section], writes: list[Section], extra: list[str]
) -> tuple[list[Section], list[Section], list[str]]:
    """The sections of this run, plus those of the previous results.json that this run did not redo."""
    old = json.loads(previous.read_text()) if previous.exists() else {}

    def combine(new: list[Section], kept: list[dict[str, Any]]) -> list[Section]:
        titles = {s.title for s in new}
        merged = [Section.from_dict(d) for d in kept if d["title"] not in titles] + new
        return sorted(merged, key=lambda s: (not s.targeted, s.size, s.title))

    overhead: list[str] = extra or old.get("overhead", [])
    return combine(reads, old.get("reads", [])), combine(writes, old.get("writes", [])), overhead


def render_only(args: argparse.Namespace) -> None:
    data = json.loads(Path(args.json).read_text())
    reads = [Section.from_dict(d) for d in data["reads"]]
    writes = [Section.from_dict(d) for d in data["writes"]]
    write_report(Path(args.out), render(data, reads, writes, data.get("overhead", [])))


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.render_only:
        render_only(args)
        return
    parts = {p.strip() for p in args.only.split(",")}
    started = time.monotonic()
    log = REPO / "output" / "bench.log"  # output/ is git-ignored
    log.parent.mkdir(exist_ok=True)
    log.write_text("")
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    reads = run_reads(args, log) if "reads" in parts else []
    reads += run_sync(args, log) if "sync" in parts else []
    reads += run_realism(args, log) if "realism" in parts else []
    writes = run_writes(args, log) if "writes" in parts else []
    extra: list[str] = run_overhead(args, log) if "overhead" in parts else []
    for section in reads + writes:
        section.measured = stamp
    results: dict[str, Any] = {
        "command": "python -m bench.run " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": stamp,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "elapsed_s": time.monotonic() - started,
    }
    if args.merge:
        reads, writes, extra = merge(Path(args.json), reads, writes, extra)
    payload = {
        **results,
        "reads": [s.as_dict() for s in reads],
        "writes": [s.as_dict() for s in writes],
        "overhead": extra,
    }
    Path(args.json).write_text(json.dumps(payload, indent=1))
    write_report(Path(args.out), render(results, reads, writes, extra))
    _say(f"done in {results['elapsed_s'] / 60:.1f} min; report in {args.out}")


if __name__ == "__main__":
    main()
