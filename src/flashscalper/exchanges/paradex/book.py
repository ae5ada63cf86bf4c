"""Local Paradex order books rebuilt from the ``order_book.{market}`` feeds (protocol/paradex.md §6.3).

``LocalOrderBook`` holds one market: a dict per side (price → level) plus a sorted price list kept
with ``bisect``, so applying a change is O(log n + small memmove) and the best-N view is a slice,
built lazily and cached until that side changes.

``BookTracker`` adds the feed discipline on top: snapshots (``update_type`` "s") rebuild the book,
deltas must arrive with contiguous ``seq_no``. On a gap the book is dropped, later deltas are
buffered, and the tracker asks for a re-snapshot once; when a snapshot arrives (from the feed or
from REST) the buffered deltas newer than it are replayed and a ``BookUpdate(is_snapshot=True)``
comes out.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flashscalper.domain import BookLevel, BookUpdate
from flashscalper.errors import MalformedMessage

_ZERO = Decimal(0)
_SIDES = {"BUY": True, "SELL": False}  # True = bid side


_DECIMALS: dict[str, Decimal] = {}  # prices and sizes repeat all day: parse and validate each string once
_DECIMALS_MAX = 200_000


def _dec(value: Any, where: str) -> Decimal:
    number = _DECIMALS.get(value) if type(value) is str else None
    if number is not None:
        return number
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedMessage(f"{where} must be a decimal string, got {type(value).__name__}")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise MalformedMessage(f"{where} is not a decimal: {str(value)[:40]!r}") from None
    if not number.is_finite() or number < 0:
        raise MalformedMessage(f"{where} must be a finite non-negative decimal, got {value!r}")
    if type(value) is str:
        if len(_DECIMALS) >= _DECIMALS_MAX:
            _DECIMALS.clear()
        _DECIMALS[value] = number
    return number


class LocalOrderBook:
    """One market's book. Prices and sizes are Decimal; a size of zero removes the level."""

    __slots__ = ("_ask_keys", "_ask_view", "_asks", "_bid_keys", "_bid_view", "_bids", "depth", "market", "seq_no",
                 "ts")

    def __init__(self, market: str, depth: int = 15) -> None:
        self.market = market
        self.depth = depth
        self.seq_no = 0
        self.ts = 0
        self._bids: dict[Decimal, BookLevel] = {}
        self._asks: dict[Decimal, BookLevel] = {}
        self._bid_keys: list[Decimal] = []  # ascending; best bid is the last
        self._ask_keys: list[Decimal] = []  # ascending; best ask is the first
        self._bid_view: tuple[BookLevel, ...] | None = ()
        self._ask_view: tuple[BookLevel, ...] | None = ()

    def clear(self) -> None:
        self._bids.clear()
        self._asks.clear()
        self._bid_keys.clear()
        self._ask_keys.clear()
        self._bid_view = self._ask_view = ()
        self.seq_no = 0

    def set_level(self, is_bid: bool, price: Decimal, size: Decimal) -> None:
        """Insert, replace or (size 0) delete one price level."""
        if is_bid:
            levels, keys = self._bids, self._bid_keys
            self._bid_view = None
        else:
            levels, keys = self._asks, self._ask_keys
            self._ask_view = None
        if size:
            if price not in levels:
                insort(keys, price)
            levels[price] = BookLevel(price, size)
        elif price in levels:
            del levels[price]
            del keys[bisect_left(keys, price)]

    def apply_changes(self, payload: Mapping[str, Any]) -> None:
        """Apply the level changes of one feed payload, in either wire shape.

        JSON channels send ``inserts``/``updates``/``deletes`` lists of ``{side, price, size}``; the SBE
        decoder gives ``bids``/``asks`` lists of ``[price, size]`` where size "0" deletes.
        """
        set_level = self.set_level
        if "bids" in payload or "asks" in payload:
            for is_bid, key in ((True, "bids"), (False, "asks")):
                for level in payload.get(key) or ():
                    set_level(is_bid, _dec(level[0], f"{key}.price"), _dec(level[1], f"{key}.size"))
            return
        for key in ("inserts", "updates"):
            for change in payload.get(key) or ():
                set_level(_side(change), _dec(change["price"], f"{key}.price"), _dec(change["size"], f"{key}.size"))
        for change in payload.get("deletes") or ():
            set_level(_side(change), _dec(change["price"], "deletes.price"), _ZERO)

    def load(self, bids: Iterable[BookLevel], asks: Iterable[BookLevel], seq_no: int, ts: int) -> None:
        """Replace the whole book with levels from a REST snapshot."""
        self.clear()
        for level in bids:
            self.set_level(True, level.price, level.size)
        for level in asks:
            self.set_level(False, level.price, level.size)
        self.seq_no, self.ts = seq_no, ts

    @property
    def bids(self) -> tuple[BookLevel, ...]:
        """Best ``depth`` bids, best first (cached until the bid side changes)."""
        view = self._bid_view
        if view is None:
            levels = self._bids
            view = self._bid_view = tuple(map(levels.__getitem__, self._bid_keys[: -self.depth - 1 : -1]))
        return view

    @property
    def asks(self) -> tuple[BookLevel, ...]:
        """Best ``depth`` asks, best first (cached until the ask side changes)."""
        view = self._ask_view
        if view is None:
            levels = self._asks
            view = self._ask_view = tuple(map(levels.__getitem__, self._ask_keys[: self.depth]))
        return view

    @property
    def best_bid(self) -> BookLevel | None:
        return self._bids[self._bid_keys[-1]] if self._bid_keys else None

    @property
    def best_ask(self) -> BookLevel | None:
        return self._asks[self._ask_keys[0]] if self._ask_keys else None

    def __len__(self) -> int:
        return len(self._bids) + len(self._asks)

    def update(self, *, is_snapshot: bool) -> BookUpdate:
        """The current top of book as a domain event."""
        return BookUpdate(self.market, self.bids, self.asks, self.ts, self.seq_no, is_snapshot)


def _side(change: Any) -> bool:
    try:
        return _SIDES[change["side"]]
    except (KeyError, TypeError):
        raise MalformedMessage(f"book change has no BUY/SELL side: {str(change)[:60]}") from None


SnapshotRequest = Callable[[str], None]


class BookTracker:
    """Feed discipline for one market: snapshot, contiguous deltas, gap → drop and re-snapshot.

    ``request_snapshot(market)`` is called once per gap (until a snapshot arrives); the owner fetches
    one via REST (``apply_rest_snapshot``) or subscribes the snapshot feed.
    """

    def __init__(self, market: str, request_snapshot: SnapshotRequest, *, depth: int = 15,
                 max_buffered: int = 2_000) -> None:
        self.book = LocalOrderBook(market, depth)
        self.ready = False
        self.awaiting_snapshot = False
        self.gaps = 0
        self.rebuilds = 0
        self._request = request_snapshot
        self._buffer: deque[Mapping[str, Any]] = deque(maxlen=max_buffered)

    @property
    def market(self) -> str:
        return self.book.market

    def reset(self) -> None:
        """Forget the book (after a reconnect): the next snapshot rebuilds it."""
        self.book.clear()
        self.ready = False
        self.awaiting_snapshot = False
        self._buffer.clear()

    def on_payload(self, payload: Mapping[str, Any]) -> BookUpdate | None:
        """Feed one ``order_book`` payload; returns the event to publish, or None."""
        try:
            seq = payload["seq_no"]
            kind = payload["update_type"]
        except (KeyError, TypeError):
            raise MalformedMessage("order_book payload lacks seq_no or update_type") from None
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise MalformedMessage(f"order_book seq_no must be an integer, got {seq!r}")
        book = self.book
        if kind == "s":
            if self.ready and seq < book.seq_no:
                return None  # a throttled snapshot older than the deltas we already applied
            book.clear()
            self._apply(payload)
            return self._rebuilt()
        if kind != "d":
            raise MalformedMessage(f"order_book update_type must be 's' or 'd', got {str(kind)[:10]!r}")
        if not self.ready:
            self._buffer.append(payload)
            self._ask_for_snapshot()
            return None
        if seq <= book.seq_no:
            return None  # duplicate or stale delta
        if seq != book.seq_no + 1:
            self.gaps += 1
            self.ready = False
            book.clear()
            self._buffer.append(payload)
            self._ask_for_snapshot()
            return None
        self._apply(payload)
        return book.update(is_snapshot=False)

    def apply_rest_snapshot(self, snapshot: BookUpdate) -> BookUpdate | None:
        """Rebuild from a REST ``/orderbook`` snapshot (``mapping.book_from``)."""
        if self.ready and snapshot.seq_no < self.book.seq_no:
            return None
        self.book.load(snapshot.bids, snapshot.asks, snapshot.seq_no, snapshot.ts)
        return self._rebuilt()

    def _rebuilt(self) -> BookUpdate | None:
        book = self.book
        self.ready = True
        self.awaiting_snapshot = False
        buffered, self._buffer = self._buffer, deque(maxlen=self._buffer.maxlen)
        for delta in buffered:  # replay what arrived while we waited, if it joins up with the snapshot
            seq = delta["seq_no"]
            if seq <= book.seq_no:
                continue
            if seq != book.seq_no + 1:
                self.gaps += 1
                self.ready = False
                book.clear()
                self._buffer.append(delta)
                self._ask_for_snapshot()
                return None
            self._apply(delta)
        self.rebuilds += 1
        return book.update(is_snapshot=True)

    def _apply(self, payload: Mapping[str, Any]) -> None:
        book = self.book
        try:
            book.apply_changes(payload)
        except (MalformedMessage, KeyError, IndexError, TypeError) as exc:
            # half-applied changes leave the book wrong: drop it and start over from a snapshot
            self.ready = False
            book.clear()
            self._buffer.clear()
            self._ask_for_snapshot()
            if isinstance(exc, MalformedMessage):
                raise
            raise MalformedMessage(f"order_book payload has a malformed level: {exc!r}"[:200]) from None
        book.seq_no, book.ts = payload["seq_no"], _ts(payload)

    def _ask_for_snapshot(self) -> None:
        if not self.awaiting_snapshot:
            self.awaiting_snapshot = True
            self._request(self.book.market)


def _ts(payload: Mapping[str, Any]) -> int:
    ts = payload.get("last_updated_at")
    return ts if isinstance(ts, int) and not isinstance(ts, bool) else 0
