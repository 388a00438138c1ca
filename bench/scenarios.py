"""The benchmark's scenarios: bulk reads, a full sync of several streams, writes, tap overhead.

Each scenario seeds one Sandbox (in this process; every client runs in its own worker process), runs
every client against the same data with the same speed factor, and returns a section for the report.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from .measure import Run, run_worker
from .truth import portal_ids, reference
from .verify import verdict
from .writers import KEY

SELECT_ALL = ["*", "UF_*"]
PAGE = 50
BUDGET_SHARE = 480.0 / 600.0  # operating time a method may use per second of portal time


@dataclass
class Section:
    """One comparison: the same data, the same speed factor, several clients."""

    title: str
    speed: float
    size: int
    ideal_s: float = 0.0  # simulated server time of the ideal plan
    bound_s: float = 0.0  # operating-time bound of the ideal plan (ideal / 0.8)
    runs: list[Run] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    targeted: bool = True  # the read targets apply (bulk reads of deals)
    measured: str = ""  # when, so that sections kept from an earlier run (--merge) say so

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Section:
        runs = [Run(**run) for run in data.get("runs", [])]
        return cls(**{**{k: v for k, v in data.items() if k != "runs"}, "runs": runs})

    def as_dict(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.__dict__.items() if k != "runs"},
            "runs": [r.as_dict() for r in self.runs],
        }


def page_cost(sb: Any, entity: str, select: Sequence[str] = SELECT_ALL) -> float:
    """Simulated seconds of one uncounted 50-row page (start=-1, >ID filter), measured over HTTP."""
    sb.clock.advance(60.0)
    sb.reset_counters()
    body = {"order": {"ID": "ASC"}, "filter": {">ID": 0}, "select": list(select), "start": -1}
    reply = requests.post(sb.webhook_url + f"crm.{entity}.list", json=body, timeout=60)
    reply.raise_for_status()
    return float(sum(sb.counters()["server_time"].values()))


def limit_for(bound_s: float, speed: float) -> float:
    """Real seconds a run may take before the benchmark stops it."""
    return max(120.0, 4.0 * bound_s / speed + 60.0)


def read_section(
    sb: Any, entity: str, clients: Sequence[str], speed: float, log: Path, title: str = ""
) -> Section:
    from .tapjobs import tap_read_job

    ref = reference(sb.portal, entity, SELECT_ALL).as_dict()
    size = ref["count"]
    section = Section(title or f"Bulk read of {size:,} {entity}s, all fields and custom fields", speed, size)
    section.ideal_s = math.ceil(size / PAGE) * page_cost(sb, entity)
    section.bound_s = section.ideal_s / BUDGET_SHARE
    max_id = max(portal_ids_tail(sb, entity), 0)
    for client in clients:
        if client.startswith("tap"):
            job = tap_read_job(client, sb, speed, [entity])
        else:
            job = {"kind": "read", "client": client, "webhook": sb.webhook_url, "speed": speed}
            job.update(entity=entity, fields=ref["fields"], max_id=max_id)
        run = run_worker(sb, client, job, limit_for(section.bound_s, speed), log)
        seen = run.result.get("fingerprint")
        run.result["verdict"] = (
            verdict(seen, ref, check_fields=not client.startswith("tap")) if seen else "no result"
        )
        section.runs.append(run)
    return section


def portal_ids_tail(sb: Any, entity: str) -> int:
    """The highest ID of an entity (one direct descending page)."""
    params = {"order": {"ID": "DESC"}, "select": ["ID"], "start": -1}
    page = sb.portal.dispatch(f"crm.{entity}.list", params).result
    return int(page[0]["ID"]) if page else 0


def write_section(sb: Any, op: str, count: int, clients: Sequence[str], speed: float, log: Path) -> Section:
    """`count` updates of seeded deals, or `count` upserts by ORIGIN_ID of which half exist already."""
    from .tapjobs import target_write_job

    section = Section(f"{count:,} deal {op}s", speed, count)
    for index, client in enumerate(clients):
        tag = f"bench {op} {index}"
        if op == "update":
            ids = list(portal_ids(sb.portal, "deal"))[:count]
            job: dict[str, Any] = {"op": op, "ids": ids, "tag": tag}
        else:
            _reset_upsert_keys(sb, count)
            job = {"op": op, "count": count, "tag": tag}
        job.update(webhook=sb.webhook_url, speed=speed)
        if client.startswith("target"):
            job = target_write_job(sb, job)
        else:
            job.update(kind="write", client=client)
        run = run_worker(sb, client, job, limit_for(count * 0.06 / BUDGET_SHARE, speed), log)
        run.result.update(check_writes(sb, op, job, count))
        section.runs.append(run)
    return section


def _reset_upsert_keys(sb: Any, count: int) -> None:
    """Before each upsert run: exactly the even keys exist, one deal each; earlier runs' adds are deleted."""
    taken = {deal_id for deal_ids in _deals_by_key(sb).values() for deal_id in deal_ids}
    for deal_id in taken:
        sb.portal.delete("deal", deal_id)
    spare = [i for i in portal_ids(sb.portal, "deal")]
    for n in range(0, count, 2):
        sb.portal.update("deal", spare[n // 2], {KEY: f"bench-{n}", "TITLE": "before upsert"})


def _deals_by_key(sb: Any) -> dict[str, list[int]]:
    from .truth import portal_records

    keyed: dict[str, list[int]] = {}
    for record in portal_records(sb.portal, "deal", ["ID", KEY]):
        key = record.get(KEY) or ""
        if key.startswith("bench-"):
            keyed.setdefault(key, []).append(int(record["ID"]))
    return keyed


def check_writes(sb: Any, op: str, job: dict[str, Any], count: int) -> dict[str, Any]:
    """Failures (records not as written) and duplicates (keys held by more than one deal)."""
    from .truth import portal_records

    tag = job.get("tag", "")
    titles = {
        int(r["ID"]): (r.get("TITLE"), r.get(KEY))
        for r in portal_records(sb.portal, "deal", ["ID", "TITLE", KEY])
    }
    if op == "update":
        ok = sum(1 for i in job["ids"] if titles.get(int(i), (None,))[0] == f"{tag} {i}")
        return {"written": ok, "failures": count - ok, "duplicates": 0}
    holders: dict[str, list[str | None]] = {}
    for title, key in titles.values():
        if key and key.startswith("bench-"):
            holders.setdefault(key, []).append(title)
    ok = sum(1 for n in range(count) if f"{tag} {n}" in holders.get(f"bench-{n}", []))
    dups = sum(len(v) - 1 for v in holders.values() if len(v) > 1)
    return {"written": ok, "failures": count - ok, "duplicates": dups}


def sync_section(
    sb: Any, entities: Sequence[str], clients: Sequence[str], speed: float, log: Path
) -> Section:
    """Every record of several streams: the tap syncs them its way, the libraries one entity after another."""
    from .tapjobs import STREAMS, tap_read_job

    refs = {e: reference(sb.portal, e, SELECT_ALL).as_dict() for e in entities}
    size = sum(r["count"] for r in refs.values())
    names = ", ".join(STREAMS[e] for e in entities)
    section = Section(f"Full sync of {names} ({size:,} records)", speed, size, targeted=False)
    ideal = {e: math.ceil(refs[e]["count"] / PAGE) * page_cost(sb, e) for e in entities}
    section.ideal_s = sum(ideal.values())
    section.bound_s = max(ideal.values()) / BUDGET_SHARE  # budgets are per method: streams overlap
    section.notes.append(
        "ideal and bound: "
        + ", ".join(f"{STREAMS[e]} {refs[e]['count']:,} rows {ideal[e]:,.0f} s" for e in entities)
        + "; the bound is the largest stream's, since each method has its own budget"
    )
    for client in clients:
        if client.startswith("tap"):
            job = tap_read_job(client, sb, speed, entities)
        else:
            job = {"kind": "sync", "client": client, "webhook": sb.webhook_url, "speed": speed}
            job["fields"] = {e: refs[e]["fields"] for e in entities}
            job["max_ids"] = {e: portal_ids_tail(sb, e) for e in entities}
        run = run_worker(sb, client, job, limit_for(sum(ideal.values()) / BUDGET_SHARE, speed), log)
        seen = run.result.get("fingerprints", {})
        verdicts = []
        for entity in entities:
            got = seen.get(entity) or seen.get(STREAMS[entity])
            text = (
                verdict(got, refs[entity], check_fields=not client.startswith("tap")) if got else "not read"
            )
            if text != "exact":
                verdicts.append(f"{STREAMS[entity]}: {text}")
        run.result["verdict"] = "; ".join(verdicts) or "exact"
        section.runs.append(run)
    return section


def overhead_lines(sb: Any, speed: float, size: int, log: Path) -> list[str]:
    """Time per record of our tap against the minimal singer-sdk tap, both without limits."""
    from .tapjobs import cleanup, overhead_jobs

    jobs = overhead_jobs(sb, speed, size)
    try:
        runs = {name: run_worker(sb, name, job, 1800.0, log) for name, job in jobs.items()}
    finally:
        cleanup(jobs)
    lines = [f"### Tap overhead without limits: {size:,} deals", ""]
    lines += [
        "Plan `unlimited`, no operating-time limit, speed factor 10⁶ (simulated server time vanishes). "
        "Time runs from the first message to the end of the output; the minimal tap emits the same "
        "deals from memory under the same schema (bench/minimal_tap.py).",
        "",
        "| tap | records | real s | µs per record | records/s | × minimal tap | target ≤ 1.3 |",
        "|---|---|---|---|---|---|---|",
    ]
    for mode in ("RECORD", "BATCH parquet"):
        ours, base = runs[f"tap ({mode})"], runs[f"minimal singer-sdk tap ({mode})"]
        for run in (ours, base):
            per = _per_record(run)
            ratio = per / _per_record(base) if run is ours and _per_record(base) else None
            status = "" if ratio is None else ("met" if ratio <= 1.3 else "**missed**")
            count = run.result.get("records", 0)
            fail = f" (**failed**: {run.error[:120]})" if run.error else ""
            lines.append(
                f"| `{run.client}`{fail} | {count:,} | {run.result.get('seconds', 0):.1f} | {per:,.0f} | "
                f"{count / run.result['seconds'] if run.result.get('seconds') else 0:,.0f} | "
                f"{'' if ratio is None else f'{ratio:.2f}'} | {status} |"
            )
    return lines + [""]


def _per_record(run: Run) -> float:
    count, seconds = run.result.get("records", 0), run.result.get("seconds", 0.0)
    return 1e6 * seconds / count if count else 0.0
