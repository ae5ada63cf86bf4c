"""The bounded buffer between the WebSocket reader and the one consumer of domain events.

Overflow policy (the reader must never wait for a slow consumer):

* Normally every event goes through a bounded ``asyncio.Queue`` in arrival order.
* When the queue is full the feed enters overflow mode until the consumer has drained everything:
  - private and connection events (orders, fills, positions, balances, ConnectionEvent) go to an
    unbounded side list and are **never dropped**; their relative order is kept;
  - quotes, books and mark prices are **coalesced**: only the newest per (kind, market) is kept;
  - public trades go to a bounded list that drops the oldest when full (counted in ``dropped_trades``).
* The consumer reads the queue first, then the private side list, then the coalesced market data,
  then the trades. So under overload market data may arrive after private events that followed it
  on the wire, and intermediate quotes/books are skipped, but nothing private is lost or reordered.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from flashscalper.domain import BookUpdate, Event, MarkPrice, Quote, Trade

_COALESCED = (Quote, BookUpdate, MarkPrice)
_CLOSE: Any = object()  # wakes a waiting consumer on close


class EventFeed:
    """An async iterator of domain events; ``publish`` never blocks and never drops private events."""

    def __init__(self, maxsize: int = 10_000, max_overflow_trades: int = 10_000) -> None:
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize)
        self._private: deque[Event] = deque()
        self._latest: dict[tuple[type, str], Event] = {}
        self._trades: deque[Trade] = deque(maxlen=max_overflow_trades)
        self._closed = False
        self.coalesced = 0
        self.dropped_trades = 0
        self.overflows = 0
        self.max_private_backlog = 0

    def publish(self, event: Event) -> None:
        """Queue ``event`` for the consumer (see the module docstring for the overflow policy)."""
        if not (self._private or self._latest or self._trades):
            try:
                self._queue.put_nowait(event)
                return
            except asyncio.QueueFull:
                self.overflows += 1
        if isinstance(event, _COALESCED):
            key = (type(event), event.market)
            if key in self._latest:
                self.coalesced += 1
            self._latest[key] = event
        elif isinstance(event, Trade):
            if len(self._trades) == self._trades.maxlen:
                self.dropped_trades += 1
            self._trades.append(event)
        else:
            self._private.append(event)
            self.max_private_backlog = max(self.max_private_backlog, len(self._private))

    async def get(self) -> Event:
        """Wait for the next event; raises ``StopAsyncIteration`` once closed and drained."""
        while True:
            event = self.get_nowait()
            if event is not None:
                return event
            if self._closed:
                raise StopAsyncIteration
            # Everything is empty, so the next publish lands in the queue and wakes us.
            item = await self._queue.get()
            if item is not _CLOSE:
                return item

    def get_nowait(self) -> Event | None:
        """The next event, or None when nothing is buffered."""
        queue = self._queue
        while not queue.empty():
            item = queue.get_nowait()
            if item is not _CLOSE:
                return item
        if self._private:
            return self._private.popleft()
        if self._latest:
            return self._latest.pop(next(iter(self._latest)))
        if self._trades:
            return self._trades.popleft()
        return None

    def close(self) -> None:
        """End iteration once the buffered events have been read."""
        if self._closed:
            return
        self._closed = True
        try:
            self._queue.put_nowait(_CLOSE)  # wakes a waiting consumer
        except asyncio.QueueFull:
            pass  # a full queue means nobody is waiting

    def qsize(self) -> int:
        return self._queue.qsize() + len(self._private) + len(self._latest) + len(self._trades)

    def __aiter__(self) -> EventFeed:
        return self

    async def __anext__(self) -> Event:
        return await self.get()
