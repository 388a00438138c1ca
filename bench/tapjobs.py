"""Our tap and target as the benchmark runs them: their own console scripts, in their own process.

The orchestrator side builds the job (config file, catalog narrowed to the measured streams; discovery
happens before the measured run). The worker side starts ``tap-bitrix24`` / ``target-bitrix24``, feeds or
drains its stdout/stdin like a Singer pipeline would, and checks what came out: RECORD messages are
checked as they stream; BATCH (parquet) files are read after the tap has finished, outside the timing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from .verify import IdChecker

BIN = Path(sys.executable).parent
Done = Callable[[], None]

STREAMS = {
    "deal": "deals",
    "contact": "contacts",
    "company": "companies",
    "lead": "leads",
    "activity": "activities",
}


# ---- orchestrator side -------------------------------------------------------------------------------
PARALLELISM = 8  # the tap's readers per stream, as core.as_list_fast(parallel=8) in bench/readers.py


def tap_config(sb: Any, speed: float, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    base = {"webhook_url": sb.webhook_url, "time_scale": speed, "plan": "standard"}
    return {**base, "parallelism": PARALLELISM, **(extra or {})}


def discover(sb: Any, speed: float, workdir: Path) -> dict[str, Any]:
    """The tap's catalog of the portal (run once, before anything is measured)."""
    config = workdir / "discover-config.json"
    config.write_text(json.dumps(tap_config(sb, speed)))
    out = subprocess.run(
        [str(BIN / "tap-bitrix24"), "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return cast(dict[str, Any], json.loads(out.stdout))


def select_streams(catalog: dict[str, Any], streams: Sequence[str]) -> dict[str, Any]:
    """Only `streams`, each selected with all its fields."""
    entries = [dict(e) for e in catalog["streams"] if e["tap_stream_id"] in streams]
    for entry in entries:
        metadata = []
        for item in entry.get("metadata", []):
            item = {**item, "metadata": {**item.get("metadata", {})}}
            if not item.get("breadcrumb"):
                item["metadata"]["selected"] = True
            elif item["metadata"].get("inclusion") != "unsupported":
                item["metadata"]["selected"] = True
            metadata.append(item)
        entry["metadata"] = metadata
    return {"streams": entries}


_catalogs: dict[str, dict[str, Any]] = {}


def tap_read_job(
    client: str, sb: Any, speed: float, entities: Sequence[str], **config: Any
) -> dict[str, Any]:
    """`client` is "tap (RECORD)" or "tap (BATCH parquet)"; entities like ["deal"]."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-tap-"))
    key = sb.webhook_url
    if key not in _catalogs:
        _catalogs[key] = discover(sb, speed, workdir)
    streams = [STREAMS[e] for e in entities]
    catalog = workdir / "catalog.json"
    catalog.write_text(json.dumps(select_streams(_catalogs[key], streams)))
    extra = dict(config)
    batch = "BATCH" in client
    if batch:
        extra["batch_config"] = {
            "encoding": {"format": "parquet", "compression": "gzip"},
            "storage": {"root": f"file://{workdir / 'batches'}", "prefix": "deals-"},
            "batch_size": 10000,  # records per parquet file: bounds the memory a batch holds
        }
    cfg = workdir / "config.json"
    cfg.write_text(json.dumps(tap_config(sb, speed, extra)))
    return {
        "kind": "tap",
        "config": str(cfg),
        "catalog": str(catalog),
        "workdir": str(workdir),
        "streams": streams,
        "batch": batch,
    }


def target_write_job(sb: Any, job: dict[str, Any]) -> dict[str, Any]:
    """The same write as the peers do, as Singer messages into target-bitrix24."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-target-"))
    match = "ID" if job["op"] == "update" else "ORIGIN_ID"
    operation = job["op"]
    config = {
        "webhook_url": sb.webhook_url,
        "time_scale": job["speed"],
        "plan": "standard",
        "streams": {"deals": {"entity": "crm.deal", "operation": operation, "match_field": match}},
        "max_failures": 1_000_000,
        "dead_letter_path": str(workdir / "dead-letter.jsonl"),
    }
    cfg = workdir / "config.json"
    cfg.write_text(json.dumps(config))
    return {**job, "kind": "target", "config": str(cfg), "workdir": str(workdir)}


# ---- worker side --------------------------------------------------------------------------------------
def run_tap(job: dict[str, Any], done: Done) -> dict[str, Any]:
    checkers = {s: IdChecker("ID") for s in job["streams"]}
    batches: list[tuple[str, list[str]]] = []
    cmd = [str(BIN / "tap-bitrix24"), "--config", job["config"], "--catalog", job["catalog"]]
    with open(Path(job["workdir"]) / "tap.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=False, bufsize=1 << 20)
        assert proc.stdout is not None
        for line in proc.stdout:
            message = json.loads(line)
            kind = message.get("type")
            if kind == "RECORD":
                checker = checkers.get(message["stream"])
                if checker is not None:
                    _check_record(checker, message["record"])
            elif kind == "BATCH":
                batches.append((message["stream"], list(message["manifest"])))
        code = proc.wait()
    done()
    for stream, files in batches:
        _check_parquet(checkers[stream], files)
    result: dict[str, Any] = {"fingerprints": {s: c.fp.as_dict() for s, c in checkers.items()}}
    if len(checkers) == 1:
        result["fingerprint"] = next(iter(result["fingerprints"].values()))
    if code:
        result["error"] = f"tap-bitrix24 exited with {code}: {_tail(Path(job['workdir']) / 'tap.log')}"
    shutil.rmtree(job["workdir"], ignore_errors=True)
    return result


def _check_record(checker: IdChecker, record: dict[str, Any]) -> None:
    if checker.id_key not in record and "id" in record:
        checker.id_key = "id"
    checker.add(record)


def _check_parquet(checker: IdChecker, files: list[str]) -> None:
    import pyarrow.parquet as pq

    for url in files:
        table = pq.read_table(url.removeprefix("file://"))
        key = "ID" if "ID" in table.column_names else "id"
        if checker.fp.count == 0:
            checker.fp.fields = sorted(table.column_names)
        for value in table.column(key).to_pylist():
            checker.add_id(value)


def run_target(job: dict[str, Any], done: Done) -> dict[str, Any]:
    from .writers import KEY, update_items, upsert_items

    if job["op"] == "update":
        items = update_items(job["ids"], job["tag"])
        key, records = "ID", [{"ID": int(i.ref), **i.fields} for i in items]
    else:
        items = upsert_items(job["count"], job["tag"])
        key, records = KEY, [dict(i.fields) for i in items]
    properties: dict[str, Any] = {name: {"type": ["string"]} for name in records[0]}
    if key == "ID":
        properties["ID"] = {"type": ["integer"]}
    schema = {"type": "object", "properties": properties}
    lines = [json.dumps({"type": "SCHEMA", "stream": "deals", "schema": schema, "key_properties": [key]})]
    lines += [json.dumps({"type": "RECORD", "stream": "deals", "record": r}) for r in records]
    payload = ("\n".join(lines) + "\n").encode()
    workdir = Path(job["workdir"])
    with open(workdir / "target.log", "w") as log:
        proc = subprocess.run(
            [str(BIN / "target-bitrix24"), "--config", job["config"]],
            input=payload,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    done()
    dead = workdir / "dead-letter.jsonl"
    result: dict[str, Any] = {"dead_letters": sum(1 for _ in open(dead)) if dead.exists() else 0}
    if proc.returncode:
        result["error"] = f"target-bitrix24 exited with {proc.returncode}: {_tail(workdir / 'target.log')}"
    shutil.rmtree(workdir, ignore_errors=True)
    return result


def overhead_jobs(sb: Any, speed: float, size: int) -> dict[str, dict[str, Any]]:
    """Our tap and the minimal singer-sdk tap, each in RECORD and BATCH mode, on the same deals."""
    from .truth import portal_records

    workdir = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    entry = select_streams(discover(sb, speed, workdir), ["deals"])["streams"][0]
    (workdir / "schema.json").write_text(json.dumps(entry["schema"]))
    with open(workdir / "records.jsonl", "w") as out:
        for record in portal_records(sb.portal, "deal", ["*", "UF_*"]):
            out.write(json.dumps(record) + "\n")
    jobs = {}
    for batch in (False, True):
        mode = "BATCH parquet" if batch else "RECORD"
        tap = tap_read_job(f"tap ({mode})", sb, speed, ["deal"])
        tap_cmd = [str(BIN / "tap-bitrix24"), "--config", tap["config"], "--catalog", tap["catalog"]]
        minimal = {
            "schema_path": str(workdir / "schema.json"),
            "records_path": str(workdir / "records.jsonl"),
        }
        if batch:
            minimal["batch_config"] = json.loads(Path(tap["config"]).read_text())["batch_config"]
        cfg = workdir / f"minimal-{int(batch)}.json"
        cfg.write_text(json.dumps(minimal))
        minimal_cmd = [sys.executable, "-m", "bench.minimal_tap", "--config", str(cfg)]
        for name, cmd in ((f"tap ({mode})", tap_cmd), (f"minimal singer-sdk tap ({mode})", minimal_cmd)):
            jobs[name] = {"kind": "overhead", "cmd": cmd, "workdir": tap["workdir"], "size": size}
            jobs[name]["cleanup"] = [tap["workdir"], str(workdir)]
    return jobs


def cleanup(jobs: dict[str, dict[str, Any]]) -> None:
    for job in jobs.values():
        for path in job.get("cleanup", []):
            shutil.rmtree(path, ignore_errors=True)


def run_overhead(job: dict[str, Any], done: Done) -> dict[str, Any]:
    """Real seconds from the first message to the end of output, and the records that came."""
    import time

    records = 0
    first = None
    with open(Path(job["workdir"]) / "overhead.log", "w") as log:
        proc = subprocess.Popen(job["cmd"], stdout=subprocess.PIPE, stderr=log, bufsize=1 << 20)
        assert proc.stdout is not None
        for line in proc.stdout:
            if first is None:
                first = time.monotonic()
            if line.startswith(b'{"type":"RECORD"') or line.startswith(b'{"type": "RECORD"'):
                records += 1
            elif b'"BATCH"' in line[:40]:
                message = json.loads(line)
                records += sum(_parquet_rows(url) for url in message["manifest"])
        code = proc.wait()
    seconds = time.monotonic() - (first or time.monotonic())
    done()
    result: dict[str, Any] = {"records": records, "seconds": seconds}
    if code:
        result["error"] = f"exited with {code}: {_tail(Path(job['workdir']) / 'overhead.log')}"
    return result


def _parquet_rows(url: str) -> int:
    import pyarrow.parquet as pq

    return int(pq.ParquetFile(url.removeprefix("file://")).metadata.num_rows)


def _tail(path: Path, size: int = 300) -> str:
    try:
        return path.read_text()[-size:].replace("\n", " | ")
    except OSError:
        return ""


JOBS: dict[str, Callable[[dict[str, Any], Done], dict[str, Any]]] = {
    "tap": run_tap,
    "target": run_target,
    "overhead": run_overhead,
}
