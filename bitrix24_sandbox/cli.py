"""`bitrix24-sandbox serve ...`: run a sandbox portal until Ctrl-C, printing how to reach it."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TextIO

from .faults import FaultSpec
from .limits import DEFAULT_OPERATING_LIMIT, PLANS


def parse_seed(text: str) -> dict[str, int]:
    """ "deals=100000,contacts=20000" -> {"deals": 100000, "contacts": 20000}."""
    counts: dict[str, int] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, raw = item.partition("=")
        if not sep or not raw.strip().isdigit():
            raise argparse.ArgumentTypeError(f"seed item {item!r}: expected entity=count")
        counts[name.strip()] = int(raw)
    return counts


def _faults(text: str) -> str:
    try:
        FaultSpec.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bitrix24-sandbox", description="A local Bitrix24 REST portal.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve a portal over HTTP until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="0 = any free port (default)")
    serve.add_argument("--seed", type=parse_seed, default={}, help="e.g. deals=100000,contacts=20000")
    serve.add_argument("--rng-seed", type=int, default=1, help="seed of the synthetic data")
    serve.add_argument("--db", default=":memory:", help="SQLite file (default: in memory)")
    serve.add_argument("--speed", type=float, default=1.0, help="portal seconds per real second")
    serve.add_argument("--plan", choices=sorted(PLANS), default="standard")
    serve.add_argument("--operating-limit", type=float, default=DEFAULT_OPERATING_LIMIT)
    serve.add_argument("--clock-offset", type=float, default=0.0, help="portal clock minus host clock, s")
    serve.add_argument("--tz-offset", type=int, default=180, help="portal UTC offset in minutes")
    serve.add_argument("--faults", type=_faults, default=None, help="e.g. 503=0.05,drop=0.01,slow_delay=3")
    serve.add_argument("--fault-seed", type=int, default=1)
    return parser


def describe(sb: object, out: TextIO) -> None:
    from . import Sandbox

    assert isinstance(sb, Sandbox)
    oauth = sb.oauth
    lines = [
        f"Bitrix24 sandbox portal at {sb.base_url} (speed {sb.clock.speed:g}, plan {sb.plan})",
        f"webhook URL:     {sb.webhook_url}",
        f"OAuth client_id: {oauth.client_id}",
        f"client_secret:   {oauth.client_secret}",
        f"access_token:    {oauth.access_token}",
        f"refresh_token:   {oauth.refresh_token}",
        f"token endpoint:  {oauth.server}/oauth/token/",
        f"client_endpoint: {oauth.client_endpoint}",
        "Press Ctrl-C to stop.",
    ]
    out.write("\n".join(lines) + "\n")
    out.flush()


def serve(args: argparse.Namespace, out: TextIO = sys.stdout, stop: threading.Event | None = None) -> int:
    from . import Sandbox

    stop = stop or threading.Event()
    sb = Sandbox(
        seed=args.seed,
        speed=args.speed,
        plan=args.plan,
        faults=args.faults,
        db=args.db,
        clock_offset=args.clock_offset,
        rng_seed=args.rng_seed,
        operating_limit=args.operating_limit,
        host=args.host,
        port=args.port,
        tz_offset_minutes=args.tz_offset,
        fault_seed=args.fault_seed,
    )
    with sb:
        describe(sb, out)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    out.write("stopped\n")
    out.flush()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the server as Ctrl-C does


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    return serve(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
