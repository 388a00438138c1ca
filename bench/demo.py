"""`make demo`: a seeded sandbox portal, `meltano run tap-bitrix24 target-jsonl`, rows per stream.

The sandbox runs in this process on a real port (Meltano starts the tap as its own process) with a
sped-up clock; the tap is told the same speed through TAP_BITRIX24_TIME_SCALE. Each run starts with
an empty Meltano state, so it is a full sync. Usage: python -m bench.demo [--deals N] [--speed F]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bitrix24_sandbox import Sandbox

REPO = Path(__file__).resolve().parents[1]


def seed_for(deals: int) -> dict[str, int]:
    return {
        "departments": 8,
        "users": 30,
        "companies": max(1, deals // 10),
        "contacts": max(1, deals // 3),
        "leads": max(1, deals // 3),
        "deals": deals,
        "activities": max(1, deals // 2),
        "items": max(1, deals // 10),
        "invoices": max(1, deals // 20),
    }


def find_meltano() -> str:
    found = shutil.which("meltano") or str(REPO / ".venv-meltano" / "bin" / "meltano")
    if not Path(found).exists():
        sys.exit("meltano is not installed: run `make meltano` first (or use `make demo`).")
    return found


def count_rows(output: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for path in sorted(output.glob("*.jsonl")):
        with path.open("rb") as handle:
            counts[path.stem] = sum(1 for _ in handle)
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=10_000, help="deals to seed (other entities scale)")
    parser.add_argument("--speed", type=float, default=1000.0, help="sandbox clock speed factor")
    args = parser.parse_args(argv)
    meltano = find_meltano()
    work = Path(tempfile.mkdtemp(prefix="bitrix24-demo-"))
    output = REPO / "output" / "demo"
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    seed = seed_for(args.deals)
    print(f"Seeding the sandbox portal: {', '.join(f'{k}={v}' for k, v in seed.items())} ...", flush=True)
    try:
        with Sandbox(seed=seed, speed=args.speed) as sb:
            print(f"Sandbox portal at {sb.base_url} (clock x{args.speed:g}), running Meltano ...", flush=True)
            env = {
                **os.environ,
                "MELTANO_DATABASE_URI": f"sqlite:///{work / 'meltano.db'}",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "TAP_BITRIX24_WEBHOOK_URL": sb.webhook_url,
                "TAP_BITRIX24_TIME_SCALE": str(int(args.speed)),
                "TARGET_JSONL_DESTINATION_PATH": str(output),
            }
            started = time.monotonic()
            done = subprocess.run(
                [meltano, "run", "tap-bitrix24", "target-jsonl"], cwd=REPO, env=env, check=False
            )
            elapsed = time.monotonic() - started
            counters = sb.counters()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if done.returncode != 0:
        print(f"meltano run failed with exit code {done.returncode}", file=sys.stderr)
        return done.returncode
    counts = count_rows(output)
    width = max(len(name) for name in counts) if counts else 10
    print(f"\nRows per stream (files in {output.relative_to(REPO)}/):")
    for name, rows in counts.items():
        print(f"  {name:<{width}}  {rows:>8,}")
    print(f"  {'total':<{width}}  {sum(counts.values()):>8,}")
    print(f"\nmeltano run took {elapsed:.1f} s; the portal answered {counters['requests']} HTTP requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
