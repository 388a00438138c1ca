"""call_batch / call_batches against the sandbox portal over real HTTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from api_plane_support import SPEED, ids, make_client, requests_made, stored_ids

from bitrix24_core import BitrixTimeResponse, Client
from bitrix24_core.batch import incomplete
from bitrix24_core.error import (
    BitrixAPIBadRequest,
    BitrixAPIInternalServerError,
    BitrixRequestError,
    BitrixRequestTimeout,
    BitrixValidationError,
)
from bitrix24_sandbox import Sandbox


@pytest.fixture(scope="module", name="sb")
def sandbox_fixture() -> Iterator[Sandbox]:
    with Sandbox(seed={"deals": 300, "companies": 20, "activities": 80}, speed=SPEED) as sb:
        yield sb


@pytest.fixture(name="client")
def client_fixture(sb: Sandbox) -> Client:
    sb.reset_counters()
    return make_client(sb)


def test_dict_batch_keyed_like_the_input(sb: Sandbox, client: Client) -> None:
    batch = client.call_batch(
        {
            "one": client.crm.company.add(
                fields={"TITLE": "C1", "PHONE": [{"VALUE": "+1", "VALUE_TYPE": "WORK"}]}
            ),
            "two": client.crm.company.add(
                fields={"TITLE": "C2", "PHONE": [{"VALUE": "+2", "VALUE_TYPE": "HOME"}]}
            ),
        }
    )
    assert requests_made(sb) == 0
    result = batch.result
    assert requests_made(sb) == 1 and batch.result is result  # sent once, cached
    assert set(result.result) == {"one", "two"} and result.ok
    assert all(
        isinstance(t, BitrixTimeResponse) and t.duration is not None for t in result.result_time.values()
    )
    for key, new_id in result.items():
        company = client.crm.company.get(bitrix_id=new_id).result
        assert company["TITLE"] == {"one": "C1", "two": "C2"}[key]
        assert [p["VALUE"] for p in company["PHONE"]] == ["+1" if key == "one" else "+2"]


def test_list_batch_in_input_order(client: Client, sb: Sandbox) -> None:
    want = stored_ids(sb, "deal")[:5]
    result = client.call_batch([client.crm.deal.get(bitrix_id=i) for i in want]).result
    assert isinstance(result.result, list) and ids(result.result) == want


def test_over_fifty_is_a_validation_error_unless_asked(sb: Sandbox, client: Client) -> None:
    deal_ids = stored_ids(sb, "deal")[:60]
    requests = [client.crm.deal.get(bitrix_id=i) for i in deal_ids]
    with pytest.raises(BitrixValidationError, match="at most 50"):
        client.call_batch(requests)
    assert requests_made(sb) == 0
    result = client.call_batch(requests, ignore_size_limit=True).result
    assert ids(result.result) == deal_ids and requests_made(sb) == 2


def test_encoding_round_trips_through_a_batch(client: Client) -> None:
    """The same fields added by a JSON call and by a batch command read back identically."""
    fields: dict[str, Any] = {
        "TITLE": "A&B = C? [x] 100% +ü",
        "OPPORTUNITY": Decimal("1234.50"),
        "BEGINDATE": dt.date(2024, 8, 30),
        "CLOSEDATE": dt.datetime(2024, 9, 1, 14, 29, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "OPENED": "Y",
        "COMMENTS": None,
        "PROBABILITY": 40,
        "IS_MANUAL_OPPORTUNITY": "Y",
    }
    direct_id = client.call(
        "crm.deal.add",
        {
            "fields": {
                **fields,
                "OPPORTUNITY": "1234.50",
                "BEGINDATE": "2024-08-30",
                "CLOSEDATE": "2024-09-01T14:29:00+02:00",
            }
        },
    ).result
    batch_id = client.call_batch({"add": client.crm.deal.add(fields=fields)}).result.result["add"]
    direct, batched = (client.crm.deal.get(bitrix_id=i).result for i in (direct_id, batch_id))
    skip = {"ID", "DATE_CREATE", "DATE_MODIFY"}
    assert {k: v for k, v in batched.items() if k not in skip} == {
        k: v for k, v in direct.items() if k not in skip
    }
    assert batched["TITLE"] == fields["TITLE"] and float(batched["OPPORTUNITY"]) == 1234.5


def test_nested_filter_and_booleans_in_commands(sb: Sandbox, client: Client) -> None:
    some = stored_ids(sb, "deal")[3:9]
    request = client.crm.deal.list(select=["ID"], filter={"@ID": some}, order={"ID": "DESC"})
    direct = request.result
    batched = client.call_batch({"q": request}).result.result["q"]
    assert ids(batched) == ids(direct) == some[::-1]
    flags = client.call("scope", {"full": True})
    assert client.call_batch([flags]).result.result[0] == flags.result


def test_per_command_errors_across_chunks(sb: Sandbox, client: Client) -> None:
    good = stored_ids(sb, "deal")[:110]
    missing = [10_000_001, 10_000_002, 10_000_003]
    requests = [client.crm.deal.get(bitrix_id=i) for i in good[:40]]
    requests += [client.crm.deal.get(bitrix_id=missing[0])]
    requests += [client.crm.deal.get(bitrix_id=i) for i in good[40:100]]
    requests += [client.crm.deal.get(bitrix_id=m) for m in missing[1:]]
    result = client.call_batches(requests).result
    assert requests_made(sb) == 3
    assert sorted(result.result_error) == [40, 101, 102]
    assert all(result.result[i] is None for i in (40, 101, 102))
    assert ids(r for r in result.result if r is not None) == good[:100]
    errors = result.errors()
    assert all(isinstance(e, BitrixAPIBadRequest) and "Not found" in str(e) for e in errors.values())
    assert not result.ok and result.not_run == ()
    with pytest.raises(BitrixAPIBadRequest):
        result.raise_for_errors()


def test_halt_stops_and_reports_what_did_not_run(sb: Sandbox, client: Client) -> None:
    good = stored_ids(sb, "deal")[:70]
    requests = {f"d{i}": client.crm.deal.get(bitrix_id=i) for i in good[:10]}
    requests["bad"] = client.crm.deal.get(bitrix_id=10_000_001)
    requests |= {f"d{i}": client.crm.deal.get(bitrix_id=i) for i in good[10:70]}
    result = client.call_batches(requests, halt=True).result
    assert requests_made(sb) == 1  # the second chunk is never sent
    assert list(result.result_error) == ["bad"]
    assert list(result.result) == [f"d{i}" for i in good[:10]]
    assert set(result.not_run) == {f"d{i}" for i in good[10:70]}


def test_parallel_chunks(sb: Sandbox, client: Client) -> None:
    good = stored_ids(sb, "deal")[:150]
    result = client.call_batches([client.crm.deal.get(bitrix_id=i) for i in good], parallel=3).result
    assert ids(result.result) == good and result.ok and requests_made(sb) == 3


def test_seed_shapes_update_returns_true(client: Client, sb: Sandbox) -> None:
    acts = stored_ids(sb, "activity")[:3]
    batches = client.call_batches(
        methods=[client.crm.activity.update(bitrix_id=a, fields={"RESPONSIBLE_ID": 1}) for a in acts],
        halt=True,
    )
    assert list(batches.result.result) == [True, True, True]


def test_invalid_batches(sb: Sandbox, client: Client) -> None:
    with pytest.raises(BitrixValidationError):
        client.call_batch({"x": "crm.deal.list"})  # type: ignore[dict-item]
    with pytest.raises(BitrixValidationError):
        client.call_batch([client.call("batch", {"cmd": {}})])
    other = make_client(sb)
    with pytest.raises(BitrixValidationError, match="other credentials"):
        client.call_batch([other.crm.deal.fields()])
    with pytest.raises(BitrixValidationError):
        client.call_batches([client.crm.deal.fields()], parallel=0)
    assert requests_made(sb) == 0


# --- a chunk's HTTP call fails: the error carries what the other chunks got -------------------------


def fault_on_batch(sb: Sandbox, number: int, kind: str) -> None:
    """Make the `number`-th batch request from now on fail with `kind` (the earlier ones answer)."""
    seen = {"batch": 0}

    def hook(method: str) -> None:
        if method == "batch":
            seen["batch"] += 1
            if seen["batch"] == number:
                sb.queue_faults(kind, method="batch")

    sb.set_hook(hook)


@pytest.fixture(name="no_faults_after")
def no_faults_after_fixture(sb: Sandbox) -> Iterator[None]:
    yield
    sb.set_hook(None)
    sb.clear_faults()
    sb.set_faults(None)


def deals_titled(sb: Sandbox, prefix: str) -> dict[str, int]:
    rows = sb.portal.store.query("deal", "1", [], "id ASC", None)
    return {r["TITLE"]: int(r["ID"]) for r in rows if str(r["TITLE"]).startswith(prefix)}


@pytest.mark.usefixtures("no_faults_after")
def test_dropped_chunk_keeps_the_answered_chunks_results(sb: Sandbox, client: Client) -> None:
    """120 adds in 3 chunks; the 2nd request's answer is lost after its adds ran."""
    fault_on_batch(sb, 2, "drop")
    requests = [client.crm.deal.add(fields={"TITLE": f"drop-{i}"}) for i in range(120)]
    with pytest.raises(BitrixRequestError) as caught:
        client.call_batches(requests).call()
    exc = caught.value
    assert exc.outcome_unknown and requests_made(sb) == 2  # the third chunk was never sent
    assert exc.failed_keys == tuple(range(50, 100)) and exc.unsent_keys == tuple(range(100, 120))
    partial = exc.partial.result
    stored = deals_titled(sb, "drop-")
    assert len(stored) == 100  # chunks 1 and 2 ran (the drop strikes after the work)
    assert partial.result[:50] == [stored[f"drop-{i}"] for i in range(50)]  # the new IDs, in order
    assert partial.result[50:] == [None] * 70 and partial.result_error == {} and partial.not_run == ()
    assert sorted(partial.result_time) == list(range(50)) and len(exc.partial.times) == 1
    view = incomplete(exc)
    assert view is not None and view.failed_keys == exc.failed_keys and view.partial is exc.partial
    assert [keys for keys, _ in view.chunk_errors] == [tuple(range(50, 100))]
    assert "1 of 3 chunks answered" in "".join(exc.__notes__)


@pytest.mark.usefixtures("no_faults_after")
def test_timed_out_chunk_is_still_a_request_timeout_with_dict_keys(sb: Sandbox) -> None:
    """A "slow" answer outlasts the client's timeout: BitrixRequestTimeout, outcome unknown, and the
    first chunk's results under the caller's dict keys."""
    client = make_client(sb, timeout=0.5, max_retries=0)
    sb.set_faults("slow_delay=1.5")
    fault_on_batch(sb, 2, "slow")
    requests = {f"k{i}": client.crm.deal.add(fields={"TITLE": f"slow-{i}"}) for i in range(110)}
    with pytest.raises(BitrixRequestTimeout) as caught:
        client.call_batches(requests).call()
    exc = caught.value
    assert exc.outcome_unknown
    assert exc.failed_keys == tuple(f"k{i}" for i in range(50, 100))
    assert exc.unsent_keys == tuple(f"k{i}" for i in range(100, 110))
    stored = deals_titled(sb, "slow-")
    assert exc.partial.result.result == {f"k{i}": stored[f"slow-{i}"] for i in range(50)}


@pytest.mark.usefixtures("no_faults_after")
def test_first_chunk_failing_leaves_an_empty_partial(sb: Sandbox, client: Client) -> None:
    sb.queue_faults("500", method="batch")
    requests = [client.crm.deal.add(fields={"TITLE": f"first-{i}"}) for i in range(60)]
    with pytest.raises(BitrixAPIInternalServerError) as caught:
        client.call_batches(requests).call()
    exc = caught.value
    assert exc.outcome_unknown and requests_made(sb) == 1
    assert exc.failed_keys == tuple(range(50)) and exc.unsent_keys == tuple(range(50, 60))
    assert exc.partial.result.result == [None] * 60 and exc.partial.times == ()


@pytest.mark.usefixtures("no_faults_after")
def test_parallel_failure_accounts_for_every_key(sb: Sandbox, client: Client) -> None:
    """parallel=3 over 4 chunks, one answered with 500: every key is in exactly one of the answered
    results, the failed chunk or the unsent ones, and the answered results are the portal's IDs."""
    fault_on_batch(sb, 2, "500")
    requests = [client.crm.deal.add(fields={"TITLE": f"par-{i}"}) for i in range(200)]
    with pytest.raises(BitrixAPIInternalServerError) as caught:
        client.call_batches(requests, parallel=3).call()
    exc = caught.value
    answered = [i for i, value in enumerate(exc.partial.result.result) if value is not None]
    assert len(exc.failed_keys) == 50 and len(answered) % 50 == 0
    assert sorted([*answered, *exc.failed_keys, *exc.unsent_keys]) == list(range(200))
    stored = deals_titled(sb, "par-")
    assert all(exc.partial.result.result[i] == stored[f"par-{i}"] for i in answered)
    assert len(stored) == requests_made(sb) * 50  # every chunk sent ran once, none ran twice


def test_a_plain_error_is_not_a_batch_remainder(sb: Sandbox, client: Client) -> None:
    with pytest.raises(BitrixValidationError) as caught:
        client.call_batch([client.crm.deal.fields()] * 51)
    assert incomplete(caught.value) is None
