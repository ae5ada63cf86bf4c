"""Local order book: snapshot, contiguous deltas, gap → drop and re-snapshot, buffered replay."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flashscalper.domain import BookLevel, BookUpdate
from flashscalper.errors import MalformedMessage
from flashscalper.exchanges.paradex.book import BookTracker, LocalOrderBook

from .payloads import book, level, starting_book


def D(x: str) -> Decimal:
    return Decimal(x)


@pytest.fixture
def asked() -> list[str]:
    return []


@pytest.fixture
def tracker(asked: list[str]) -> BookTracker:
    return BookTracker("BTC-USD-PERP", asked.append, depth=3)


def test_snapshot_builds_best_first_views_limited_to_depth(tracker: BookTracker) -> None:
    update = tracker.on_payload(starting_book(seq=10))
    assert isinstance(update, BookUpdate) and update.is_snapshot and update.seq_no == 10
    assert [lvl.price for lvl in update.bids] == [D("64999"), D("64998"), D("64990")]
    assert [lvl.price for lvl in update.asks] == [D("65001"), D("65002")]
    assert tracker.book.best_bid == BookLevel(D("64999"), D("1"))


def test_deltas_insert_update_and_delete_levels(tracker: BookTracker) -> None:
    tracker.on_payload(starting_book(seq=10))
    update = tracker.on_payload(book(11, inserts=[level("BUY", "64999.5", "4")], updates=[level("SELL", "65001", "7")],
                                     deletes=[level("BUY", "64998", "0")]))
    assert update is not None and not update.is_snapshot and update.seq_no == 11
    assert update.bids == (BookLevel(D("64999.5"), D("4")), BookLevel(D("64999"), D("1")),
                           BookLevel(D("64990"), D("3")))
    assert update.asks[0] == BookLevel(D("65001"), D("7"))


def test_sbe_shaped_levels_with_zero_size_delete(tracker: BookTracker) -> None:
    tracker.on_payload({"market": "BTC-USD-PERP", "seq_no": 1, "update_type": "s", "last_updated_at": 1,
                        "bids": [["100", "1"], ["99", "2"]], "asks": [["101", "1"]]})
    update = tracker.on_payload({"market": "BTC-USD-PERP", "seq_no": 2, "update_type": "d", "last_updated_at": 2,
                                 "bids": [["100", "0"]], "asks": [["100.5", "3"]]})
    assert update is not None
    assert [lvl.price for lvl in update.bids] == [D("99")]
    assert [lvl.price for lvl in update.asks] == [D("100.5"), D("101")]


def test_gap_drops_book_asks_once_and_replays_buffered_deltas(tracker: BookTracker, asked: list[str]) -> None:
    tracker.on_payload(starting_book(seq=10))
    assert tracker.on_payload(book(12, inserts=[level("BUY", "64000", "1")])) is None  # 11 is missing
    assert tracker.on_payload(book(13, inserts=[level("SELL", "65003", "1")])) is None
    assert asked == ["BTC-USD-PERP"] and tracker.gaps == 1 and not tracker.ready
    assert len(tracker.book) == 0  # the suspect book is gone
    # the re-snapshot is at 12: the buffered 12 is older and skipped, 13 joins up and is replayed
    snap = book(12, snapshot=True, inserts=[level("BUY", "64999", "1"), level("SELL", "65001", "1")])
    rebuilt = tracker.on_payload(snap)
    assert rebuilt is not None and rebuilt.is_snapshot and rebuilt.seq_no == 13
    assert [lvl.price for lvl in rebuilt.asks] == [D("65001"), D("65003")]
    assert tracker.on_payload(book(14, deletes=[level("SELL", "65003", "0")])) is not None


def test_rest_snapshot_rebuilds_after_gap(tracker: BookTracker) -> None:
    tracker.on_payload(starting_book(seq=10))
    tracker.on_payload(book(15))
    rest = BookUpdate("BTC-USD-PERP", (BookLevel(D("1"), D("1")),), (BookLevel(D("2"), D("1")),), 0, 15, True)
    update = tracker.apply_rest_snapshot(rest)
    assert update is not None and update.is_snapshot and update.seq_no == 15 and tracker.ready


def test_stale_and_duplicate_deltas_are_ignored(tracker: BookTracker, asked: list[str]) -> None:
    tracker.on_payload(starting_book(seq=10))
    assert tracker.on_payload(book(10, inserts=[level("BUY", "1", "1")])) is None
    assert tracker.on_payload(book(9)) is None
    assert asked == [] and tracker.ready


def test_delta_before_any_snapshot_asks_for_one(tracker: BookTracker, asked: list[str]) -> None:
    assert tracker.on_payload(book(3)) is None
    assert asked == ["BTC-USD-PERP"]


def test_malformed_level_drops_book_and_raises(tracker: BookTracker, asked: list[str]) -> None:
    tracker.on_payload(starting_book(seq=10))
    with pytest.raises(MalformedMessage):
        tracker.on_payload(book(11, inserts=[{"side": "BUY", "price": "abc", "size": "1"}]))
    assert not tracker.ready and asked == ["BTC-USD-PERP"]


def test_view_is_cached_until_its_side_changes() -> None:
    ob = LocalOrderBook("X", depth=2)
    ob.set_level(True, D("10"), D("1"))
    ob.set_level(False, D("11"), D("1"))
    bids, asks = ob.bids, ob.asks
    ob.set_level(False, D("12"), D("1"))
    assert ob.bids is bids and ob.asks is not asks
