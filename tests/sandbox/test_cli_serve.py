"""The command line: `python -m bitrix24_sandbox serve` and `bitrix24-sandbox serve` run until interrupted."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from bitrix24_sandbox.cli import build_parser, parse_seed


def start(cmd: list[str]) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed: dict[str, str] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Press Ctrl-C"):
            break
        name, sep, value = line.partition(":")
        if sep and re.match(r"^[a-zA-Z _]+$", name):
            printed[name.strip()] = value.strip()
    return proc, printed


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGINT) -> str:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    return out


def test_module_serve_prints_credentials_that_work() -> None:
    cmd = [
        sys.executable,
        "-m",
        "bitrix24_sandbox",
        "serve",
        "--port",
        "0",
        "--speed",
        "1000",
        "--seed",
        "deals=30",
        "--plan",
        "enterprise",
        "--faults",
        "503=0.0",
    ]
    proc, printed = start(cmd)
    try:
        hook = printed["webhook URL"]
        listed = requests.post(hook + "crm.deal.list", json={"select": ["ID"]}, timeout=10).json()
        assert listed["total"] == 30
        token = requests.get(
            printed["token endpoint"],
            params={
                "grant_type": "refresh_token",
                "client_id": printed["OAuth client_id"],
                "client_secret": printed["client_secret"],
                "refresh_token": printed["refresh_token"],
            },
            timeout=10,
        )
        assert token.status_code == 200 and token.json()["client_endpoint"] == printed["client_endpoint"]
        by_token = requests.post(
            printed["client_endpoint"] + "crm.deal.list", json={"auth": printed["access_token"]}, timeout=10
        )
        assert by_token.status_code == 200
    finally:
        out = stop(proc)
    assert out.strip().endswith("stopped")


def test_console_script_serves_a_db_file_and_stops_on_sigterm(tmp_path: Path) -> None:
    script = shutil.which("bitrix24-sandbox", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.fail("the bitrix24-sandbox console script is not installed (pip install -e .)")
    db = tmp_path / "portal.db"
    proc, printed = start([script, "serve", "--speed", "100", "--db", str(db), "--clock-offset", "-3600"])
    try:
        added = requests.post(
            printed["webhook URL"] + "crm.deal.add", json={"fields": {"TITLE": "kept"}}, timeout=10
        )
        assert added.status_code == 200
    finally:
        stop(proc, signal.SIGTERM)
    assert db.exists() and db.stat().st_size > 0


def test_bad_arguments_are_refused() -> None:
    parser = build_parser()
    assert parse_seed("deals=100000, contacts=20000") == {"deals": 100000, "contacts": 20000}
    for argv in (
        ["serve", "--seed", "deals=many"],
        ["serve", "--faults", "teapot=1"],
        ["serve", "--plan", "free"],
    ):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)
    args = parser.parse_args(["serve", "--port", "8080", "--speed", "50", "--operating-limit", "100"])
    assert (args.port, args.speed, args.operating_limit, args.plan) == (8080, 50.0, 100.0, "standard")
