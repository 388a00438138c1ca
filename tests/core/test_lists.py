"""as_list and as_list_fast against the sandbox portal over real HTTP: exact IDs at every page and batch
edge, request counts from the portal's own counters, errors inside batches, parallel ranges."""

from __future__ import annotations

import math
import tracemalloc
from array import array
from collections.abc import Iterator

import pytest
from api_plane_support import SPEED, ids, make_client, requests_made, stored_ids

from bitrix24_core import BitrixApp, BitrixToken, Client
from bitrix24_core.error import BitrixAPIError, BitrixAPIOperationTimeLimit, BitrixValidationError
from bitrix24_core.lists import SplitRead, split_range
from bitrix24_sandbox import Sandbox

SEED = {"deals": 6000, "users": 120, "departments": 60, "items": 400}


@pytest.fixture(scope="module", name="sb")
def sandbox_fixture() -> Iterator[Sandbox]:
    with Sandbox(seed=SEED, speed=SPEED) as sb:
        yield sb


@pytest.fixture(name="client")
def client_fixture(sb: Sandbox) -> Client:
    sb.reset_counters()
    return make_client(sb)


@pytest.fixture(scope="module", name="deal_ids")
def deal_ids_fixture(sb: Sandbox) -> list[int]:
    found = stored_ids(sb, "deal")
    assert len(found) == SEED["deals"] and found[-1] > len(found)  # sparse IDs, as on a real portal
    return found


# --- as_list --------------------------------------------------------------------------------------


def test_as_list_reads_every_page(sb: Sandbox, client: Client, deal_ids: list[int]) -> None:
    response = client.crm.deal.list(select=["ID"], filter={"<=ID": deal_ids[129]}).as_list().response
    assert ids(response.result) == deal_ids[:130] and response.total == 130
    assert requests_made(sb) == 2  # the first page (for total), then pages 50 and 100 in one batch


def test_as_list_limit_and_user_order(sb: Sandbox, client: Client, deal_ids: list[int]) -> None:
    rows = client.crm.deal.list(select=["ID"], order={"ID": "DESC"}).as_list(limit=120).result
    assert ids(rows) == deal_ids[::-1][:120]
    assert requests_made(sb) == 2
    assert client.crm.deal.list().as_list(limit=0).result == []


def test_as_list_of_a_wrapped_list(client: Client, sb: Sandbox) -> None:
    rows = client.crm.item.list(entity_type_id=128, select=["id"]).as_list().result
    assert ids(rows, "id") == stored_ids(sb, "item_128")


# --- as_list_fast: exact rows at page and batch edges ----------------------------------------------

EDGES = [0, 1, 49, 50, 51, 99, 100, 101, 2499, 2500, 2550, 2551, 5000, 6000]


def expected_requests(rows: int) -> int:
    """One request for the probe and the first page, then batches of up to 2,500 rows."""
    return 1 + math.ceil(max(0, rows - 50) / 2500)


@pytest.mark.parametrize("count", EDGES)
@pytest.mark.parametrize("descending", [False, True])
def test_fast_exact_rows_at_edges(
    sb: Sandbox, client: Client, deal_ids: list[int], count: int, descending: bool
) -> None:
    # A user filter that leaves exactly `count` rows (IDs are sparse, so bound by a real ID).
    flt = {"<=ID": deal_ids[count - 1]} if count else {"<ID": deal_ids[0]}
    rows = list(client.crm.deal.list(select=["TITLE"], filter=flt).as_list_fast(descending=descending).result)
    want = deal_ids[:count]
    assert ids(rows) == (want[::-1] if descending else want)
    assert all(set(row) == {"ID", "TITLE"} for row in rows)  # ID added to the user's select
    assert requests_made(sb) == expected_requests(count)


def test_fast_resumes_after_an_id_and_keeps_the_filter(sb: Sandbox, client: Client) -> None:
    stage = "WON"
    won = [
        i for i in stored_ids(sb, "deal", "json_extract(data, '$.STAGE_ID') = ?", [stage])
    ]  # read from the store, not through the SDK
    assert len(won) > 60
    after = won[30]
    request = client.crm.deal.list(select=["STAGE_ID"], filter={"STAGE_ID": stage, ">=ID": after})
    rows = list(request.as_list_fast().result)
    assert ids(rows) == [i for i in won if i >= after]
    assert {row["STAGE_ID"] for row in rows} == {stage}
    down = list(client.crm.deal.list(filter={"STAGE_ID": stage, "<ID": after}).as_list_fast(True).result)
    assert ids(down) == [i for i in won if i < after][::-1]


def test_fast_limit(sb: Sandbox, client: Client, deal_ids: list[int]) -> None:
    rows = list(client.crm.deal.list(select=["ID"]).as_list_fast(limit=130).result)
    assert ids(rows) == deal_ids[:130]
    assert requests_made(sb) == 2
    assert list(client.crm.deal.list().as_list_fast(limit=0).result) == []


def test_fast_server_time_close_to_uncounted_pages(sb: Sandbox, client: Client, deal_ids: list[int]) -> None:
    """Overhead (probe, pages past the end) within 5% of one uncounted 50-row page per 50 rows."""
    client.crm.deal.list(select=["ID", "TITLE"], start=-1).call()
    page_cost = sb.counters()["server_time"]["crm.deal.list"]
    sb.reset_counters()
    rows = sum(1 for _ in client.crm.deal.list(select=["ID", "TITLE"]).as_list_fast().result)
    spent = sb.counters()["server_time"]["crm.deal.list"]
    assert rows == len(deal_ids)
    assert spent <= 1.05 * page_cost * math.ceil(rows / 50)


def test_commands_past_the_end_cost_no_more_than_an_empty_page(
    sb: Sandbox, client: Client, deal_ids: list[int]
) -> None:
    """1,000 rows over a sparse ID span: the last batch holds more pages than there is data; each of
    those extra commands costs at most an empty page."""

    def cost_of(**params: object) -> float:
        sb.reset_counters()
        client.call("crm.deal.list", {"select": ["ID", "TITLE"], "start": -1, **params}).call()
        return float(sb.counters()["server_time"]["crm.deal.list"])

    full_page = cost_of()
    empty_page = cost_of(filter={"<ID": 0})
    probe = cost_of(select=["ID"])
    sb.reset_counters()
    rows = list(client.crm.deal.list(select=["TITLE"], filter={"<=ID": deal_ids[999]}).as_list_fast().result)
    counters = sb.counters()
    assert ids(rows) == deal_ids[:1000]
    past_end = counters["commands"] - 20 - 1  # 20 pages of data, 1 probe
    assert past_end > 0  # the case under test happened
    spent = counters["server_time"]["crm.deal.list"]
    assert spent <= 20 * full_page + probe + past_end * empty_page + 1e-6


def test_fast_generator_is_lazy(sb: Sandbox, client: Client, deal_ids: list[int]) -> None:
    rows = client.crm.deal.list(select=["ID"]).as_list_fast().result
    assert requests_made(sb) == 0
    first = [next(rows) for _ in range(10)]
    assert ids(first) == deal_ids[:10] and requests_made(sb) == 1
    rows.close()


# --- other entities -------------------------------------------------------------------------------


@pytest.mark.parametrize("descending", [False, True])
def test_fast_crm_item_uses_items_and_lower_case_id(sb: Sandbox, client: Client, descending: bool) -> None:
    want = stored_ids(sb, "item_128")
    assert len(want) > 100
    rows = list(client.crm.item.list(entity_type_id=128, select=["title"]).as_list_fast(descending).result)
    assert ids(rows, "id") == (want[::-1] if descending else want)
    assert set(rows[0]) == {"id", "title"}


@pytest.mark.parametrize("descending", [False, True])
def test_fast_user_get_with_its_own_syntax(sb: Sandbox, client: Client, descending: bool) -> None:
    want = stored_ids(sb, "user")
    rows = list(client.user.get(filter={"ACTIVE": True}).as_list_fast(descending=descending).result)
    active = [int(u["ID"]) for u in client.user.get(filter={"ACTIVE": True}).as_list().result]
    assert ids(rows) == (sorted(active, reverse=descending))
    assert set(active) <= set(want) and len(active) > 50


def test_fast_department_falls_back_to_ordered_pages(sb: Sandbox, client: Client) -> None:
    want = stored_ids(sb, "department")
    assert len(want) > 50
    assert ids(client.department.get().as_list_fast().result) == want
    assert ids(client.department.get().as_list_fast(descending=True).result) == want[::-1]


def test_fast_unpaged_directories(client: Client) -> None:
    statuses = list(client.crm.status.list(filter={"ENTITY_ID": "DEAL_STAGE"}).as_list_fast().result)
    assert statuses and ids(statuses) == sorted(ids(statuses))
    categories = list(client.crm.category.list(entity_type_id=2).as_list_fast(descending=True).result)
    assert categories and ids(categories, "id") == sorted(ids(categories, "id"), reverse=True)


def test_fast_rejects_bad_input(client: Client) -> None:
    with pytest.raises(BitrixValidationError):
        list(client.crm.deal.get(bitrix_id=1).as_list_fast().result)
    with pytest.raises(BitrixValidationError):
        list(client.crm.deal.list(filter={">ID": "abc"}).as_list_fast().result)


# --- errors inside batches raise ------------------------------------------------------------------


def test_error_inside_a_chained_batch_raises() -> None:
    """The portal's operating-time budget runs out in the middle of a batch: the read must raise."""
    with Sandbox(seed={"deals": 3000}, speed=SPEED, operating_limit=1.0) as sb:
        client = make_client(sb, operating_limit=False)  # no client-side pacing: let the portal refuse
        seen = 0
        with pytest.raises(BitrixAPIOperationTimeLimit):
            for _ in client.crm.deal.list(select=["ID"]).as_list_fast().result:
                seen += 1
        assert 0 < seen < 3000
        assert sb.counters()["errors"].get("OPERATION_TIME_LIMIT")


def test_error_in_the_first_command_raises(client: Client) -> None:
    with pytest.raises(BitrixAPIError):
        list(client.crm.item.list(entity_type_id=128, filter={">noSuchField": 1}).as_list_fast().result)
    with pytest.raises(BitrixAPIError):
        list(client.crm.item.list(entity_type_id=999).as_list_fast().result)


# --- parallel ranges ------------------------------------------------------------------------------


def test_split_range() -> None:
    assert split_range(1, 10, 3) == [(1, 4), (5, 8), (9, 10)]
    assert split_range(5, 5, 4) == [(5, 5)]
    with pytest.raises(BitrixValidationError):
        split_range(1, 2, 0)


@pytest.mark.parametrize("descending", [False, True])
def test_parallel_ranges_read_every_row_once(
    sb: Sandbox, client: Client, deal_ids: list[int], descending: bool
) -> None:
    request = client.crm.deal.list(select=["ID"]).as_list_fast(descending=descending, parallel=3)
    rows = list(request.result)
    assert sorted(ids(rows)) == deal_ids and len(rows) == len(deal_ids)
    by_range: dict[tuple[int, int] | None, list[int]] = {}
    for id_range, page in request.pages():
        by_range.setdefault(id_range, []).extend(ids(page))
    # The opening batch reads 2,450 rows; the 3,550 left (71 pages) take 2 batches as 1 or 2 ranges but 3
    # as 3 ranges (three 24-page tails do not share a batch): 2 ranges, the faster of the cheapest.
    assert len(by_range) == 3
    for id_range, got in by_range.items():
        assert id_range is not None
        assert got == sorted(got, reverse=descending)
        assert all(id_range[0] <= i <= id_range[1] for i in got)
    assert sorted(i for got in by_range.values() for i in got) == deal_ids


@pytest.mark.parametrize("descending", [False, True])
def test_parallel_small_read_fills_its_batches(
    sb: Sandbox, client: Client, deal_ids: list[int], descending: bool
) -> None:
    """6,000 rows with K=3: the opening (probe + 49 pages), one full batch, one tail batch; a sequential
    read takes 4 (an opening with one page, then 2,500 rows per batch)."""
    rows = list(client.crm.deal.list(select=["ID"]).as_list_fast(descending=descending, parallel=3).result)
    assert sorted(ids(rows)) == deal_ids and len(rows) == len(deal_ids)
    assert requests_made(sb) == 3


@pytest.mark.parametrize("descending", [False, True])
def test_split_read_tells_its_opening_time_and_far_end(
    sb: Sandbox, client: Client, deal_ids: list[int], descending: bool
) -> None:
    """SplitRead: the same pages as ``pages()``, plus the opening batch's time block and far-end ID, set
    before the first page arrives, with no request of their own."""
    read = SplitRead(client.crm.deal.list(select=["ID"]), parallel=3, descending=descending)
    assert read.time is None and read.far_end is None
    pages = iter(read)
    first_range, first = next(pages)
    assert requests_made(sb) == 1
    assert read.far_end == (deal_ids[0] if descending else deal_ids[-1])
    assert read.time is not None and read.time.date_start and read.time.start
    got = ids(first) + [i for _, page in pages for i in ids(page)]
    assert sorted(got) == deal_ids and len(got) == len(deal_ids) and first_range is not None
    assert requests_made(sb) == 3  # as many as as_list_fast(parallel=3): nothing added


def test_split_read_of_nothing_still_tells_the_time(sb: Sandbox, client: Client, deal_ids: list[int]) -> None:
    read = SplitRead(client.crm.deal.list(filter={">ID": deal_ids[-1]}), parallel=2)
    assert list(read) == [] and read.far_end is None
    assert read.time is not None and read.time.date_start and requests_made(sb) == 1


def test_split_read_rejects_what_cannot_split(client: Client) -> None:
    with pytest.raises(BitrixValidationError):
        SplitRead(client.crm.deal.list(), parallel=0)
    with pytest.raises(BitrixValidationError):
        SplitRead(client.department.get(), parallel=2)


def test_parallel_with_given_ranges_and_filter(client: Client, deal_ids: list[int]) -> None:
    ranges = [(deal_ids[0], deal_ids[999]), (deal_ids[1000], deal_ids[-1])]
    flt = {">ID": deal_ids[10], "<=ID": deal_ids[4000]}
    request = client.crm.deal.list(select=["ID"], filter=flt).as_list_fast(id_ranges=ranges)
    assert sorted(ids(request.result)) == deal_ids[11:4001]
    assert len(list(client.crm.deal.list().as_list_fast(parallel=2, limit=75).result)) == 75


def test_parallel_error_raises() -> None:
    with Sandbox(seed={"deals": 3000}, speed=SPEED, operating_limit=1.0) as sb:
        client = make_client(sb, operating_limit=False)
        with pytest.raises(BitrixAPIOperationTimeLimit):
            for _ in client.crm.deal.list(select=["ID"]).as_list_fast(parallel=3).result:
                pass


# --- the size check -----------------------------------------------------------------------


BIG = 100_000


@pytest.fixture(scope="module", name="big")
def big_fixture() -> Iterator[tuple[Sandbox, list[int]]]:
    """One 100,000-deal portal for the module's size checks (seeded once: a few seconds)."""
    with Sandbox(seed={"deals": BIG}, speed=SPEED) as sb:
        want = stored_ids(sb, "deal")
        assert len(want) == BIG
        yield sb, want


def quiet_counters(sb: Sandbox) -> None:
    """Skip past the operating-time window of the read before, then count from zero."""
    sb.clock.advance(700)
    sb.reset_counters()


@pytest.mark.slow
def test_hundred_thousand_deals_in_at_most_41_requests(big: tuple[Sandbox, list[int]]) -> None:
    """100,000 seeded deals read by as_list_fast in <= 41 HTTP requests, both ways, exactly the seeded IDs,
    with flat memory (the generator never holds the table)."""
    sb, want = big
    client = make_client(sb)
    for descending in (False, True):
        quiet_counters(sb)
        if not descending:
            tracemalloc.start()  # measured once: tracing slows the read down
        got = array("q")  # 8 bytes per ID: the rows themselves are not kept
        for row in client.crm.deal.list(select=["ID", "TITLE"]).as_list_fast(descending=descending).result:
            got.append(int(row["ID"]))
        peak = tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else 0
        tracemalloc.stop()
        counters = sb.counters()
        assert list(got) == (want[::-1] if descending else want)
        assert counters["requests"] <= 41 and counters["rows"] <= 100_050 + 2_500
        assert peak < 25_000_000, peak  # a few batches in flight (measured ~4 MB), not 100,000 rows


@pytest.mark.slow
@pytest.mark.parametrize("parallel", [2, 4, 8])
@pytest.mark.parametrize("descending", [False, True])
def test_parallel_hundred_thousand_deals_in_41_requests(
    big: tuple[Sandbox, list[int]], parallel: int, descending: bool
) -> None:
    """Parallel ranges cost no request more than the sequential read: 41 requests for 100,000 rows
    (2,439 rows per request) with K=2, 4 and 8 — the opening batch carries 49 pages besides the probe and
    the ranges' last part-batches are packed together. Every seeded ID exactly once, each range in order
    inside its own bounds, the ranges disjoint."""
    sb, want = big
    client = make_client(sb)
    quiet_counters(sb)
    by_range: dict[tuple[int, int] | None, list[int]] = {}
    request = client.crm.deal.list(select=["ID", "TITLE"]).as_list_fast(
        descending=descending, parallel=parallel
    )
    for id_range, page in request.pages():
        by_range.setdefault(id_range, []).extend(ids(page))
    counters = sb.counters()
    assert counters["requests"] == 41
    assert counters["commands"] <= 41 * 50 and counters["errors"] == {}
    assert sorted(i for got in by_range.values() for i in got) == want  # none missing, none twice
    assert len(by_range) == 1 + parallel  # the opening's range, then K ranges
    for id_range, got in by_range.items():
        assert id_range is not None
        assert got == sorted(got, reverse=descending)
        assert all(id_range[0] <= i <= id_range[1] for i in got)


def test_fast_read_through_faults_and_token_expiry() -> None:
    """Transient faults (503, 500, HTML 502, dropped connections, expired tokens) are the transport's
    to retry: the chained read still returns exactly the stored IDs, in both directions and in parallel."""
    faults = "503=0.05,500=0.03,html502=0.02,drop=0.02,expired=0.05"
    with Sandbox(seed={"deals": 8000}, speed=SPEED, faults=faults, fault_seed=7) as sb:
        o = sb.oauth
        app = BitrixApp(o.client_id, o.client_secret, oauth_server=o.server)
        client = Client(
            BitrixToken(sb.base_url, o.access_token, o.refresh_token, o.expires, app), time_scale=SPEED
        )
        want = stored_ids(sb, "deal")
        for descending in (False, True):
            got = ids(client.crm.deal.list(select=["ID"]).as_list_fast(descending=descending).result)
            assert got == (want[::-1] if descending else want)
        assert sorted(ids(client.crm.deal.list(select=["ID"]).as_list_fast(parallel=3).result)) == want
        assert sum(sb.counters()["faults"].values()) > 0


def test_paced_read_resumes_after_operation_time_limit() -> None:
    """With pacing on, a command refused by the operating-time budget is resent from the cursor: the read
    completes with exactly the stored IDs although the portal refused commands on the way."""
    with Sandbox(seed={"deals": 4000}, speed=SPEED, operating_limit=2.0) as sb:
        client = make_client(sb, operating_limit=2.0)
        want = stored_ids(sb, "deal")
        assert ids(client.crm.deal.list(select=["ID", "TITLE"]).as_list_fast().result) == want
        assert sb.counters()["errors"].get("OPERATION_TIME_LIMIT", 0) > 0  # the resume path really ran
        for descending in (False, True):  # parallel: refused inside the opening batch and the ranges' batches
            sb.reset_counters()
            request = client.crm.deal.list(select=["ID", "TITLE"])
            got = ids(request.as_list_fast(descending=descending, parallel=3).result)
            assert sorted(got) == want and len(got) == len(want)
            assert sb.counters()["errors"].get("OPERATION_TIME_LIMIT", 0) > 0
