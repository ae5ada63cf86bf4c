"""The U/u/pu procedure of DepthBook on hand-made diffs (ids increase but are not contiguous)."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import BookLevel
from flashscalper.exchanges.aster.depth import DepthBook, DepthResult
from flashscalper.exchanges.aster.mapping import DepthDiff


def diff(first: int, final: int, prev: int, bids=(), asks=()) -> DepthDiff:  # type: ignore[no-untyped-def]
    lv = lambda rows: tuple(BookLevel(Decimal(p), Decimal(q)) for p, q in rows)  # noqa: E731
    return DepthDiff("BTCUSDT", first, final, prev, lv(bids), lv(asks), ts=final)


SNAP_BIDS = (BookLevel(Decimal(100), Decimal(1)), BookLevel(Decimal(99), Decimal(2)))
SNAP_ASKS = (BookLevel(Decimal(101), Decimal(1)),)


def test_buffered_diffs_older_than_the_snapshot_are_dropped_and_the_straddling_one_applies() -> None:
    book = DepthBook("BTCUSDT")
    assert book.on_diff(diff(10, 10, 3, bids=[("100", "5")])) is DepthResult.BUFFERED  # u < L: dropped
    book.on_diff(diff(15, 20, 10, bids=[("99", "0")]))  # straddles L = 17
    book.on_diff(diff(31, 31, 20, asks=[("102", "3")]))
    assert book.apply_snapshot(17, SNAP_BIDS, SNAP_ASKS)
    assert book.bids == {Decimal(100): Decimal(1)}  # 99 deleted, 100 untouched by the stale diff
    assert book.asks == {Decimal(101): Decimal(1), Decimal(102): Decimal(3)}
    assert book.last_update_id == 31


def test_a_snapshot_older_than_the_buffer_is_refused() -> None:
    book = DepthBook("BTCUSDT")
    book.on_diff(diff(40, 44, 33))
    assert not book.apply_snapshot(17, SNAP_BIDS, SNAP_ASKS)
    assert not book.synced and book.buffered == 1
    assert book.apply_snapshot(41, SNAP_BIDS, SNAP_ASKS)  # a newer one joins
    assert book.last_update_id == 44


def test_live_chain_on_pu_gap_and_stale() -> None:
    book = DepthBook("BTCUSDT")
    assert book.apply_snapshot(50, SNAP_BIDS, SNAP_ASKS)
    assert book.on_diff(diff(57, 57, 50, bids=[("100", "2")])) is DepthResult.APPLIED  # chains on pu == L
    assert book.on_diff(diff(57, 57, 50)) is DepthResult.STALE
    assert book.on_diff(diff(71, 71, 64)) is DepthResult.GAP  # 64 never arrived
    assert not book.synced and book.gaps == 1
    assert book.on_diff(diff(78, 78, 71)) is DepthResult.BUFFERED
    assert book.apply_snapshot(71, SNAP_BIDS, SNAP_ASKS)
    assert book.last_update_id == 78
    top = book.top(1)
    assert top.bids == (BookLevel(Decimal(100), Decimal(1)),) and top.seq_no == 78
