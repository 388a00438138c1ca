"""The target-bitrix24 command: exit codes, the per-stream summary, and no secrets in its output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bitrix24_sandbox import Sandbox

from .conftest import record_messages, schema_message

BIN = Path(sys.executable).parent / "target-bitrix24"


def run_cli(config: dict, messages: list[dict], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    text = "".join(json.dumps(m) + "\n" for m in messages)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [str(BIN), "--config", str(config_path)],
        input=text,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def summaries(stderr: str) -> dict[str, dict]:
    found = {}
    for line in stderr.splitlines():
        if "stream summary: " in line:
            summary = json.loads(line.split("stream summary: ", 1)[1])
            found[summary["stream"]] = summary
    return found


def test_cli_summary_exit_codes_and_no_secrets(sandbox: Sandbox, base_config: dict, tmp_path: Path) -> None:
    schema = {"origin_id": {"type": "string"}, "title": {"type": "string"}}
    records = [{"origin_id": f"c{i}", "title": f"t{i}"} for i in range(5)] + [{"title": "keyless"}]
    messages = [schema_message("deals", schema), *record_messages("deals", records)]
    messages.append({"type": "STATE", "value": {"bookmarks": {"deals": {"id": 5}}}})
    config = {**base_config, "default_match_field": "ORIGIN_ID", "max_failures": 1}

    done = run_cli(config, messages, tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = summaries(done.stderr)["deals"]
    assert (summary["received"], summary["added"], summary["failed"]) == (6, 5, 1)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"bookmarks": {"deals": {"id": 5}}}
    code = sandbox.webhook_url.rstrip("/").rsplit("/", 1)[1]
    assert code not in done.stderr and code not in done.stdout

    failed = run_cli({**config, "max_failures": 0}, messages, tmp_path)
    assert failed.returncode != 0
    assert "more than max_failures=0" in failed.stderr
    assert summaries(failed.stderr)["deals"]["updated"] == 5  # the second run found the same keys
    dead = [json.loads(line) for line in Path(config["dead_letter_path"]).read_text().splitlines()]
    assert [d["error_code"] for d in dead] == ["MISSING_KEY", "MISSING_KEY"]


def test_about_marks_credentials_secret() -> None:
    about = subprocess.run(
        [str(BIN), "--about", "--format", "json"], capture_output=True, text=True, timeout=60
    )
    settings = json.loads(about.stdout)["settings"]["properties"]
    secret = {name for name, spec in settings.items() if spec.get("secret")}
    assert {"webhook_url", "client_secret", "refresh_token"} <= secret
    assert {"streams", "default_operation", "default_match_field", "halt_on_error", "max_failures"} <= set(
        settings
    )
    assert {"dead_letter_path", "dry_run", "time_scale", "plan", "request_timeout"} <= set(settings)
