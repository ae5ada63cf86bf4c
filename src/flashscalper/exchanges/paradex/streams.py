"""Paradex WebSocket channels: their names, and the routing of their payloads to domain events.

Channel names follow protocol/paradex.md §6.3. ``StreamRouter.route(kind, payload)`` turns one
JSON-shaped payload (from a JSON text frame or from ``sbe.frame_to_payload``) into domain events
through ``mapping.py`` and hands them to ``publish``. It owns the per-market ``BookTracker`` and
the duplicate filters for private events (fills by fill id; order updates by (order id, seq_no),
where an update not newer than the last one seen for that order is dropped).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import replace
from typing import Any

from flashscalper.domain import (
    Balance,
    BalanceUpdate,
    Event,
    FillEvent,
    MarkPrice,
    OrderUpdate,
    PositionUpdate,
)
from flashscalper.errors import MalformedMessage

from . import mapping
from .book import BookTracker

# ---- channel names ----------------------------------------------------------------------------

PRIVATE_CHANNELS: tuple[str, ...] = ("orders.ALL", "fills.ALL", "positions", "account", "balance_events")
PRIVATE_KINDS = frozenset({"orders", "fills", "positions", "account", "balance_events"})
MARKETS_SUMMARY = "markets_summary"


def bbo_channel(market: str) -> str:
    return f"bbo.{market}"


def trades_channel(market: str) -> str:
    return f"trades.{market}"


def book_channel(market: str, feed: str = "deltas", rate: str = "50ms", depth: int = 15) -> str:
    """``order_book.{market}.{feed}@{depth}@{rate}``; ``feed`` is ``deltas`` or ``snapshot``."""
    return f"order_book.{market}.{feed}@{depth}@{rate}"


def funding_channel(market: str) -> str:
    return f"funding_data.{market}"


def channel_kind(channel: str) -> str:
    """The routing kind of a channel name: the part before the first dot (``order_book``, ``fills``...)."""
    dot = channel.find(".")
    return channel if dot < 0 else channel[:dot]


def is_private(channel: str) -> bool:
    return channel_kind(channel) in PRIVATE_KINDS


# ---- bounded duplicate filter -----------------------------------------------------------------


class BoundedSeen:
    """An LRU set of recently seen keys; the oldest are forgotten past ``maxsize``."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self._keys: OrderedDict[Hashable, None] = OrderedDict()

    def add(self, key: Hashable) -> bool:
        """Remember ``key``; True if it was new."""
        keys = self._keys
        if key in keys:
            keys.move_to_end(key)
            return False
        keys[key] = None
        if len(keys) > self.maxsize:
            keys.popitem(last=False)
        return True

    def __contains__(self, key: Hashable) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)


class LatestSeq:
    """The highest seq_no seen per key (order id), bounded like ``BoundedSeen``."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self._seq: OrderedDict[str, int] = OrderedDict()

    def is_new(self, key: str, seq_no: int) -> bool:
        """True (and remembered) if ``seq_no`` is newer than anything seen for ``key``."""
        seen = self._seq
        last = seen.get(key)
        if last is not None:
            seen.move_to_end(key)
            if seq_no <= last:
                return False
        seen[key] = seq_no
        if len(seen) > self.maxsize:
            seen.popitem(last=False)
        return True


# ---- routing ----------------------------------------------------------------------------------


class RouterStats:
    """Counters the router keeps (merged into the client's stats)."""

    __slots__ = ("duplicate_fills", "duplicate_orders", "stale_books", "unknown_channels")

    def __init__(self) -> None:
        self.duplicate_fills = 0
        self.duplicate_orders = 0
        self.unknown_channels = 0
        self.stale_books = 0


class StreamRouter:
    """Payloads of subscribed channels → domain events, published in arrival order.

    ``request_snapshot(market)`` is called when a book needs a re-snapshot (gap or no book yet).
    Raises ``MalformedMessage`` for payloads it cannot map; the caller counts and skips them.
    """

    def __init__(self, publish: Callable[[Event], None], request_snapshot: Callable[[str], None], *,
                 book_depth: int = 15, dedup_size: int = 10_000) -> None:
        self._publish = publish
        self._request_snapshot = request_snapshot
        self.book_depth = book_depth
        self.books: dict[str, BookTracker] = {}
        self.stats = RouterStats()
        self._fills = BoundedSeen(dedup_size)
        self._orders = LatestSeq(dedup_size)
        self._marks: dict[str, MarkPrice] = {}
        self._account: Mapping[str, Any] | None = None
        self._wallet: dict[str, Any] = {}
        self._handlers: dict[str, Callable[[Any], None]] = {
            "bbo": self._on_bbo,
            "order_book": self._on_book,
            "trades": self._on_trade,
            "markets_summary": self._on_summary,
            "funding_data": self._on_funding,
            "orders": self._on_order,
            "fills": self._on_fill,
            "positions": self._on_position,
            "account": self._on_account,
            "balance_events": self._on_balance_event,
            "heartbeat": _ignore,
        }

    def route(self, kind: str, payload: Any) -> None:
        """Map one payload of channel ``kind`` and publish the resulting events."""
        handler = self._handlers.get(kind)
        if handler is None:
            self.stats.unknown_channels += 1
            raise MalformedMessage(f"no route for channel kind {kind[:40]!r}")
        handler(payload)

    def tracker(self, market: str) -> BookTracker:
        tracker = self.books.get(market)
        if tracker is None:
            tracker = self.books[market] = BookTracker(market, self._request_snapshot, depth=self.book_depth)
        return tracker

    def recovered(self, event: Event) -> bool:
        """Publish a private event read back through REST after a reconnect; fills already seen on the
        socket are dropped (exactly once), other events are state snapshots and always pass."""
        if isinstance(event, FillEvent) and not self._fills.add(event.fill.id):
            self.stats.duplicate_fills += 1
            return False
        self._publish(event)
        return True

    def reset_books(self) -> None:
        """After a reconnect every book is suspect: drop them all until their next snapshot."""
        for tracker in self.books.values():
            tracker.reset()

    # ---- public ----
    def _on_bbo(self, payload: Any) -> None:
        self._publish(mapping.quote_from(payload))

    def _on_book(self, payload: Any) -> None:
        market = payload.get("market") if type(payload) is dict or isinstance(payload, Mapping) else None
        if not isinstance(market, str):
            raise MalformedMessage("order_book payload lacks market")
        update = self.tracker(market).on_payload(payload)
        if update is not None:
            self._publish(update)

    def _on_trade(self, payload: Any) -> None:
        self._publish(mapping.trade_from(payload))

    def _on_summary(self, payload: Any) -> None:
        rows = payload if isinstance(payload, list) else [payload]  # some servers batch the summary
        for row in rows:
            if isinstance(row, Mapping) and row.get("mark_price") in (None, ""):
                continue  # summaries of markets without a mark (e.g. not yet open) carry nothing we use
            mark = mapping.mark_price_from(row)
            self._marks[mark.market] = mark
            self._publish(mark)

    def _on_funding(self, payload: Any) -> None:
        funding = mapping.funding_observation_from(payload)
        last = self._marks.get(funding.market)
        if last is None:
            return  # MarkPrice needs a mark; the next markets_summary will carry the rate too
        mark = replace(last, funding_rate=funding.funding_rate, ts=max(last.ts, funding.ts))
        self._marks[mark.market] = mark
        self._publish(mark)

    # ---- private ----
    def _on_order(self, payload: Any) -> None:
        order = mapping.order_from(payload)
        if order.seq_no and not self._orders.is_new(order.id, order.seq_no):
            self.stats.duplicate_orders += 1
            return
        self._publish(OrderUpdate(order))

    def _on_fill(self, payload: Any) -> None:
        fill = mapping.fill_from(payload)
        if not self._fills.add(fill.id):
            self.stats.duplicate_fills += 1
            return
        self._publish(FillEvent(fill))

    def _on_position(self, payload: Any) -> None:
        self._publish(PositionUpdate(mapping.position_from(payload)))

    def _on_account(self, payload: Any) -> None:
        obj = mapping.require_obj(payload, "account")
        self._account = obj
        self._publish(BalanceUpdate(self._balance(obj)))

    def _on_balance_event(self, payload: Any) -> None:
        # balance_events carry the settlement token's new balance; the rest of Balance comes from `account`
        obj = mapping.require_obj(payload, "balance_event")
        asset = mapping.opt_str(obj, "settlement_asset_name", "balance_event", default="USDC")
        after = mapping.opt_dec(obj, "settlement_asset_balance_after", "balance_event")
        if after is None:
            return
        self._wallet[asset] = after
        if self._account is not None:
            self._publish(BalanceUpdate(self._balance(self._account)))

    def _balance(self, account: Mapping[str, Any]) -> Balance:
        asset = mapping.opt_str(account, "settlement_asset", "account", default="USDC")
        tokens = self._wallet
        if asset not in tokens:
            # until a balance event names the token balance, total collateral is the closest wallet figure
            total = mapping.opt_dec(account, "total_collateral", "account")
            tokens = {asset: total} if total is not None else {}
        return mapping.balance_from(account, tokens)


def _ignore(_payload: Any) -> None:
    return None
