"""Status spreadsheets over the request budget: written through hidden staging tabs, shown at once.

Everything runs on the local Google fake over real HTTP. Readers are checked the way they see the
spreadsheet: the visible tabs read back through the API after every `batchUpdate`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from kkmp_sheets.clock import WarpClock
from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.core.tables import Cell, Chart, Col, Fmt, Sheet, StatusBook
from kkmp_sheets.demo.large_book import Seed, check_seed, large_book
from kkmp_sheets.errors import OutputError
from kkmp_sheets.google import api as google_api
from kkmp_sheets.google.api import MAX_BODY, batch_body
from kkmp_sheets.google.cells import grid_rows
from kkmp_sheets.google.sink import GoogleSink
from kkmp_sheets.google.staged import DEFAULT_BUDGET, is_staged_title, plan_staged
from kkmp_sheets.google.state import GoogleState
from kkmp_sheets.testing import FakeGoogle, QuotaConfig, fake_api
from kkmp_sheets.testing.google_city import GoogleCity, GoogleClients, connect_fake

OFFICE = "dinas@kota.example"
GRID = "sheets(properties(title,hidden),data(rowData(values(effectiveValue))))"
Tabs = dict[str, list[list[Any]]]


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """A demo city of 40 cooperatives, checked once by the real cycle (about 15 s)."""
    return check_seed(Path(tmp_path_factory.mktemp("seed")), size=40)


@dataclass
class Office:
    """The fake, one status spreadsheet the office shared, and the service's clients on it."""

    fake: FakeGoogle
    clock: WarpClock
    sid: str
    state: GoogleState
    clients: list[GoogleClients] = field(default_factory=list)

    def sink(self, budget: int = DEFAULT_BUDGET, *, state: GoogleState | None = None) -> GoogleSink:
        """A sink as a new run of the service makes it (same memory unless `state` is given)."""
        # The fake applies an 8 MiB batch in about a minute on a busy machine (Google in
        # seconds): a long timeout, so that only the injected faults fail a request.
        settings = GoogleSettings(
            base_url=self.fake.base_url, timeout_seconds=900, max_attempts=2, max_wait_seconds=1
        )
        clients = connect_fake(
            self.fake,
            GoogleCity("r" * 30, self.sid),
            clock=self.clock,
            settings=settings,
            state=state or self.state,
        )
        self.clients.append(clients)
        sink = clients.sink
        sink.budget = budget
        return sink

    def tabs(self, *, hidden: bool = False) -> Tabs:
        """Every visible tab's values, read through the API as a reader would (`hidden`: the
        hidden ones instead)."""
        api = self.clients[0].api if self.clients else self.sink().api
        reply = api.get_spreadsheet(self.sid, {"includeGridData": "true", "fields": GRID})
        return {
            s["properties"]["title"]: grid_rows(s)
            for s in reply["sheets"]
            if bool(s["properties"].get("hidden")) == hidden
        }


def make_office(fake: FakeGoogle, clock: WarpClock, title: str) -> Office:
    sid = fake.add_spreadsheet(
        title,
        {"Sheet1": [], "Catatan Dinas": [["milik dinas"]]},
        owner=OFFICE,
        shared_with={fake.default_identity: "writer"},
    )
    return Office(fake, clock, sid, GoogleState())


@pytest.fixture
def fake() -> Iterator[tuple[FakeGoogle, WarpClock]]:
    clock = WarpClock()
    with FakeGoogle(quota=QuotaConfig.unlimited()) as fake:  # the readers here read a lot
        fake.clock = clock.wall
        yield fake, clock


@pytest.fixture
def office(fake: tuple[FakeGoogle, WarpClock]) -> Iterator[Office]:
    made = make_office(*fake, "Status KKMP Kota")
    yield made
    for clients in made.clients:
        clients.close()


def publish(sink: GoogleSink, book: StatusBook) -> str:
    sink.history()
    return sink.publish(book)


def watch(sink: GoogleSink, office: Office, after: Callable[[int], None] | None = None) -> list:
    """After every batchUpdate the sink sends: the visible tabs as a reader reads them then, and
    the request's size. `after(n)` runs after the n-th (to inject a fault)."""
    seen: list[tuple[Tabs, int]] = []
    send = sink.api.batch_update

    def batch_update(sid: str, reqs: list[dict[str, Any]], body: bytes | None = None) -> Any:
        reply = send(sid, reqs, body)
        seen.append((office.tabs(), sink.api.last_body_bytes))
        if after is not None:
            after(len(seen))
        return reply

    sink.api.batch_update = batch_update  # type: ignore[method-assign]
    return seen


# --- the fake enforces Google's request size ---------------------------------------------------


def test_fake_refuses_a_body_over_10_mib_as_google_does(office: Office) -> None:
    before = office.tabs()
    filler = "x" * (MAX_BODY + 1 - len(b'{"requests":[{"findReplace":{"find":""}}]}'))
    body = ('{"requests":[{"findReplace":{"find":"' + filler + '"}}]}').encode()
    assert len(body) == MAX_BODY + 1
    url = f"{office.fake.base_url}/v4/spreadsheets/{office.sid}:batchUpdate"
    answer = requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=60)

    assert answer.status_code == 400
    assert answer.json() == {
        "error": {
            "code": 400,
            "message": "Request payload size exceeds the limit: 10485760 bytes.",
            "status": "INVALID_ARGUMENT",
        }
    }
    assert office.tabs() == before


# --- the plan ------------------------------------------------------------------------------------


def test_plan_keeps_every_request_within_the_budget(seed: Seed) -> None:
    book = large_book(seed, 300)
    budget = 200_000  # about 1.3 MB in all
    plan = plan_staged(book, {"sheets": {"Sheet1": 0}}, [], budget=budget)

    assert plan.requests == len(plan.staging) + 1 > 3
    bodies = [batch_body(chunk) for chunk in [*plan.staging, plan.final]]
    assert [len(b) for b in bodies] == plan.sizes  # measured as sent
    assert max(plan.sizes) <= budget
    final_kinds = {next(iter(r)) for r in plan.final}
    assert "updateCells" not in final_kinds and "repeatCell" not in final_kinds
    # Every staged tab is added hidden; no request of the staging touches a visible tab.
    added = [r["addSheet"]["properties"] for c in plan.staging for r in c if "addSheet" in r]
    assert [p["title"] for p in added] == [f"~{s.name} (baru)" for s in book.sheets]
    assert all(p["hidden"] for p in added)
    staged = {p["sheetId"] for p in added}
    for chunk in plan.staging:
        for request in chunk:
            assert 0 not in _sheet_ids(request) and _sheet_ids(request) <= staged


def _sheet_ids(value: Any) -> set[int]:
    if isinstance(value, dict):
        found = {int(value["sheetId"])} if "sheetId" in value else set()
        for inner in value.values():
            found |= _sheet_ids(inner)
        return found
    if isinstance(value, list):
        return set().union(*(_sheet_ids(v) for v in value)) if value else set()
    return set()


# --- small books: unchanged ------------------------------------------------------------------------


def test_a_small_book_is_still_one_request(office: Office, seed: Seed) -> None:
    sink = office.sink()
    seen = watch(sink, office)
    publish(sink, large_book(seed, 56))

    assert len(seen) == 1 and sink.last_requests == 1
    assert not office.tabs(hidden=True)


# --- large books: several requests, never half ----------------------------------------------------


def single_request_tabs(
    fake: tuple[FakeGoogle, WarpClock], book: StatusBook, monkeypatch: pytest.MonkeyPatch
) -> Tabs:
    """What one request would have written (Google's limit lifted, on another spreadsheet)."""
    other = make_office(*fake, "Status KKMP satu permintaan")
    with monkeypatch.context() as patch:
        patch.setattr(google_api, "MAX_BODY", 10**9)
        patch.setattr(fake_api, "MAX_PAYLOAD_BYTES", 10**9)
        sink = other.sink(budget=10**9)
        publish(sink, book)
        assert sink.last_requests == 1
        tabs = other.tabs()
    for clients in other.clients:
        clients.close()
    return tabs


# Masalah Data collapses a cooperative's repeated warnings, about 2.3 rows each: 4,000
# cooperatives make a batch over Google's 10 MiB, which no single request can carry.
LARGE = 4000


@pytest.mark.slow  # minutes: the fake writes the large book twice (staged and for reference)
def test_4000_cooperatives_go_staged_and_read_back_as_one_request_would(
    office: Office,
    seed: Seed,
    fake: tuple[FakeGoogle, WarpClock],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old_book, new_book = large_book(seed, 1000), large_book(seed, LARGE)
    sink = office.sink()
    publish(sink, old_book)
    assert sink.last_requests == 1
    old = office.tabs()

    sink = office.sink()
    seen = watch(sink, office)
    publish(sink, new_book)
    new = office.tabs()

    assert len(batch_body(_requests_of(new_book))) > MAX_BODY  # one request could not hold it
    assert sink.last_requests == len(seen) >= 2
    assert max(size for _, size in seen) <= DEFAULT_BUDGET == sink.budget
    assert sink.last_bytes == max(size for _, size in seen)
    # Readers: the whole old status until the last request, then the whole new one.
    assert [tabs == old for tabs, _ in seen[:-1]] == [True] * (len(seen) - 1)
    assert seen[-1][0] == new != old
    assert len(new["Status KKMP"]) == LARGE + 2 and len(new["Masalah Data"]) > 2 * LARGE
    assert not office.tabs(hidden=True)  # no staging tab left
    assert new == single_request_tabs(fake, new_book, monkeypatch)
    assert new["Catatan Dinas"] == [["milik dinas"]]


def _requests_of(book: StatusBook) -> list[dict[str, Any]]:
    from kkmp_sheets.google.status_batch import build_requests

    return build_requests(book, {}, [])[0]


def status_kab_kota(rows: int, day: int) -> StatusBook:
    """A national table as the federation writes it: any `StatusBook` of ordinary sheets."""
    sheet = Sheet(
        "Status Kab/Kota",
        [Col("Kode"), Col("Kab/Kota", width=28), Col("Zona", Fmt.ZONE), Col("KKMP", Fmt.INT)],
        rows=[
            [f"{11 + n // 20}.{n % 20 + 1:02d}", f"Kabupaten Contoh {n}", "Hijau", n * day]
            for n in range(rows)
        ],
        note=f"Nasional — data per {day} Jan 2026",
    )
    total = Sheet("Ringkasan", [Col("Ukuran"), Col("Nilai")], [["Jumlah", Cell(rows, Fmt.INT)]])
    chart = Chart(
        "KKMP per Kab/Kota", "Status Kab/Kota", "Kab/Kota", ("KKMP",), place_on="Ringkasan"
    )
    return StatusBook([total, sheet], [chart])


def test_any_status_book_such_as_a_national_status_kab_kota(
    office: Office, fake: tuple[FakeGoogle, WarpClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = office.sink(budget=16_000)
    publish(sink, status_kab_kota(514, 1))
    first = office.tabs()
    sink = office.sink(budget=16_000)
    seen = watch(sink, office)
    publish(sink, status_kab_kota(514, 2))
    second = office.tabs()

    assert sink.last_requests > 2 and max(s for _, s in seen) <= 16_000
    assert all(tabs == first for tabs, _ in seen[:-1]) and seen[-1][0] == second != first
    assert second == single_request_tabs(fake, status_kab_kota(514, 2), monkeypatch)
    # The chart was drawn on the renamed tab, from the renamed tab's cells.
    fields = "sheets(properties,charts,protectedRanges)"
    meta = sink.api.get_spreadsheet(office.sid, {"fields": fields})
    ids = {s["properties"]["title"]: s["properties"]["sheetId"] for s in meta["sheets"]}
    charts = [c for s in meta["sheets"] for c in s.get("charts") or []]
    assert len(charts) == 1
    assert not [s for s in meta["sheets"] if s.get("protectedRanges")]  # the warnings went too
    assert charts[0]["position"]["overlayPosition"]["anchorCell"]["sheetId"] == ids["Ringkasan"]
    domain = charts[0]["spec"]["basicChart"]["domains"][0]["domain"]["sourceRange"]["sources"][0]
    assert domain["sheetId"] == ids["Status Kab/Kota"]


# --- a crash between staging requests ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("crash_after", "memory"), [(1, "kept"), (3, "lost")])
def test_a_write_broken_off_after_request_k_shows_nothing_and_the_next_cleans_up(
    office: Office,
    seed: Seed,
    crash_after: int,
    memory: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    budget = 100_000
    old_book, new_book = large_book(seed, 60), large_book(seed, 100)
    sink = office.sink(budget)
    publish(sink, old_book)
    old = office.tabs()

    def fail_from_then_on(sent: int) -> None:
        if sent == crash_after:  # Google stops answering: every later batchUpdate fails
            office.fake.fail_next(100, 503, path_contains=":batchUpdate")

    sink = office.sink(budget)
    seen = watch(sink, office, fail_from_then_on)
    with pytest.raises(OutputError, match="previous status stays"):
        publish(sink, new_book)

    assert len(seen) == crash_after
    assert office.tabs() == old  # read through the API: nothing visible changed
    hidden = office.tabs(hidden=True)
    assert hidden and all(is_staged_title(t) for t in hidden)
    meta = sink.api.get_spreadsheet(office.sid, {"fields": "sheets(properties,protectedRanges)"})
    warned = [s for s in meta["sheets"] if s["properties"].get("hidden")]
    assert all(s["protectedRanges"][0]["warningOnly"] for s in warned)  # if someone unhides one

    office.fake.clear_faults()
    state = GoogleState() if memory == "lost" else None
    sink = office.sink(budget, state=state)
    seen = watch(sink, office)
    with caplog.at_level(logging.INFO, logger="kkmp_sheets.google.sink"):
        publish(sink, new_book)
    assert "removing" in caplog.text and "hidden staging tab" in caplog.text
    assert not office.tabs(hidden=True)
    new = office.tabs()
    assert all(tabs == old for tabs, _ in seen[:-1]) and seen[-1][0] == new != old
    assert len(new["Status KKMP"]) == 100 + 2

    # The memory the staged write left is right: the next (unchanged) cycle writes nothing.
    sink = office.sink(budget, state=state)
    seen = watch(sink, office)
    publish(sink, new_book)
    assert seen == [] and sink.skipped == 1


def test_a_broken_off_write_of_an_unchanged_book_is_still_cleaned_up(
    office: Office, seed: Seed
) -> None:
    budget = 100_000
    book = large_book(seed, 100)
    sink = office.sink(budget)
    publish(sink, book)
    written = office.tabs()
    sink = office.sink(budget)
    changed = large_book(seed, 101)
    watch(sink, office, lambda n: office.fake.fail_next(100, 503, path_contains=":batchUpdate"))
    with pytest.raises(OutputError):
        publish(sink, changed)
    office.fake.clear_faults()

    sink = office.sink(budget)
    publish(sink, book)  # the same book as written: still the hidden tabs must go
    assert sink.skipped == 0
    assert not office.tabs(hidden=True) and office.tabs() == written


def test_after_a_staged_write_a_small_book_is_one_request_again(office: Office, seed: Seed) -> None:
    sink = office.sink(150_000)
    publish(sink, large_book(seed, 100))
    assert sink.last_requests > 1
    sink = office.sink(150_000)
    seen = watch(sink, office)
    publish(sink, large_book(seed, 5))  # about 96 kB as a rewrite
    assert len(seen) == 1
    tabs = office.tabs()
    assert len(tabs["Status KKMP"]) == 5 + 2
    assert list(tabs)[:6] == [
        "Ringkasan",
        "Status KKMP",
        "Kecamatan",
        "Masalah Data",
        "Riwayat",
        "Pasokan",
    ]
    assert not office.tabs(hidden=True)


def test_an_office_tab_that_only_looks_like_a_staging_tab_is_left_alone(
    office: Office, seed: Seed
) -> None:
    sink = office.sink()
    reply = sink.api.batch_update(
        office.sid, [{"addSheet": {"properties": {"title": "~Rapat (baru)", "hidden": True}}}]
    )
    assert reply["replies"][0]["addSheet"]["properties"]["title"] == "~Rapat (baru)"
    sink = office.sink(100_000, state=GoogleState())  # no memory: the layout is read
    publish(sink, large_book(seed, 100))
    assert sink.last_requests > 1
    assert list(office.tabs(hidden=True)) == ["~Rapat (baru)"]
