"""A price-time priority limit order book for one market.

Levels are ``dict[price -> deque[order]]`` with a heap of prices per side (bids negated) and lazy removal
of emptied prices, so adding, cancelling and taking the best level are all cheap without extra packages.
The book records which levels changed so the engine can publish one delta per operation.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator
from decimal import Decimal
from typing import Protocol

from flashscalper.domain import ZERO, Side


class RestingOrder(Protocol):
    """What the book needs from an order: identity, account, side, price and the size still open."""

    id: str
    account: str
    side: Side
    price: Decimal | None

    @property
    def remaining(self) -> Decimal: ...


class OrderBook:
    """Resting orders of one market. The engine owns matching; the book owns ordering and aggregates."""

    __slots__ = ("_ask_heap", "_asks", "_bid_heap", "_bids", "_changes", "_sizes", "market")

    def __init__(self, market: str) -> None:
        self.market = market
        self._bids: dict[Decimal, deque[RestingOrder]] = {}
        self._asks: dict[Decimal, deque[RestingOrder]] = {}
        self._bid_heap: list[Decimal] = []  # negated prices
        self._ask_heap: list[Decimal] = []
        self._sizes: dict[tuple[Side, Decimal], Decimal] = {}
        self._changes: dict[tuple[Side, Decimal], None] = {}  # insertion-ordered set

    # ---- mutation ------------------------------------------------------------------------------

    def add(self, order: RestingOrder) -> None:
        """Queue ``order`` at the back of its price level."""
        price = order.price
        assert price is not None, "only priced orders rest on the book"
        levels = self._bids if order.side is Side.BUY else self._asks
        level = levels.get(price)
        if level is None:
            level = levels[price] = deque()
            if order.side is Side.BUY:
                heapq.heappush(self._bid_heap, -price)
            else:
                heapq.heappush(self._ask_heap, price)
        level.append(order)
        key = (order.side, price)
        self._sizes[key] = self._sizes.get(key, ZERO) + order.remaining
        self._changes[key] = None

    def remove(self, order: RestingOrder, open_size: Decimal | None = None) -> None:
        """Take ``order`` off the book; ``open_size`` is what it still counted for (default: remaining)."""
        price = order.price
        levels = self._bids if order.side is Side.BUY else self._asks
        level = levels.get(price)  # type: ignore[arg-type]
        if level is None:
            return
        try:
            level.remove(order)
        except ValueError:
            return
        self._shrink_level(order.side, price, order.remaining if open_size is None else open_size)  # type: ignore[arg-type]
        if not level:
            del levels[price]  # type: ignore[arg-type]

    def filled(self, order: RestingOrder, size: Decimal) -> None:
        """Account for ``size`` of the front order at its level having traded; drop it when done."""
        price = order.price
        self._shrink_level(order.side, price, size)  # type: ignore[arg-type]
        if order.remaining <= 0:
            levels = self._bids if order.side is Side.BUY else self._asks
            level = levels[price]  # type: ignore[index]
            if level and level[0] is order:
                level.popleft()
            else:
                level.remove(order)
            if not level:
                del levels[price]  # type: ignore[arg-type]

    def resize(self, order: RestingOrder, delta: Decimal) -> None:
        """Change the aggregate at the order's level by ``delta`` (an in-place size reduction)."""
        self._shrink_level(order.side, order.price, -delta)  # type: ignore[arg-type]

    def _shrink_level(self, side: Side, price: Decimal, size: Decimal) -> None:
        key = (side, price)
        left = self._sizes[key] - size
        if left > 0:
            self._sizes[key] = left
        else:
            del self._sizes[key]
        self._changes[key] = None

    # ---- reading -------------------------------------------------------------------------------

    def best_bid(self) -> Decimal | None:
        heap, levels = self._bid_heap, self._bids
        while heap:
            price = -heap[0]
            if price in levels:
                return price
            heapq.heappop(heap)
        return None

    def best_ask(self) -> Decimal | None:
        heap, levels = self._ask_heap, self._asks
        while heap:
            price = heap[0]
            if price in levels:
                return price
            heapq.heappop(heap)
        return None

    def best(self, side: Side) -> Decimal | None:
        """Best price on ``side`` (highest bid or lowest ask)."""
        return self.best_bid() if side is Side.BUY else self.best_ask()

    def level(self, side: Side, price: Decimal) -> deque[RestingOrder]:
        """The FIFO queue at ``price`` on ``side`` (must exist)."""
        return (self._bids if side is Side.BUY else self._asks)[price]

    def level_size(self, side: Side, price: Decimal) -> Decimal:
        return self._sizes.get((side, price), ZERO)

    def depth(self, side: Side, n: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Up to ``n`` aggregated levels on ``side``, best first."""
        levels = self._bids if side is Side.BUY else self._asks
        prices = sorted(levels, reverse=side is Side.BUY)
        if n is not None:
            prices = prices[:n]
        return [(p, self._sizes[(side, p)]) for p in prices]

    def orders_crossing(self, taker_side: Side, limit: Decimal | None) -> Iterator[RestingOrder]:
        """Resting orders a taker on ``taker_side`` would meet, in priority order, up to ``limit``."""
        maker_side = taker_side.opposite
        levels = self._bids if maker_side is Side.BUY else self._asks
        for price in sorted(levels, reverse=maker_side is Side.BUY):
            if limit is not None and (price > limit if taker_side is Side.BUY else price < limit):
                return
            yield from levels[price]

    def take_changes(self) -> list[tuple[Side, Decimal, Decimal]]:
        """Levels touched since the last call, as (side, price, new aggregate size; 0 = level gone)."""
        if not self._changes:
            return []
        sizes = self._sizes
        out = [(side, price, sizes.get((side, price), ZERO)) for side, price in self._changes]
        self._changes.clear()
        return out

    def __len__(self) -> int:
        return sum(len(q) for q in self._bids.values()) + sum(len(q) for q in self._asks.values())
