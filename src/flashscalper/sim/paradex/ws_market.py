"""Public market data of the simulated Paradex WebSocket: engine events → channel payloads.

``MarketFeeds`` keeps a mirror of every book (fed by the engine's contiguous per-market book deltas) so
each delta can be classified into inserts / updates / deletes, the BBO is exact per delta, and a
snapshot can be cut at the same ``seq_no`` the deltas carry. Book feeds are throttled: deltas are
queued per channel and flushed at the channel's rate (every delta goes out, in order, with contiguous
``seq_no``, so a client can detect gaps and a REST ``/orderbook`` snapshot joins up with them); the
snapshot feed sends the top 15 levels at most once per interval, and only when the book changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from flashscalper.domain import ZERO, Side
from flashscalper.sim.events import (
    BookDeltaEvent,
    FundingRateEvent,
    MarkPriceEvent,
    TradeEvent,
)
from flashscalper.sim.paradex import render
from flashscalper.sim.paradex.ws_channels import ALL, BOOK_DEPTH, Channel
from flashscalper.sim.paradex.ws_session import Payload, WsSession

if TYPE_CHECKING:
    from flashscalper.sim.engine import SimExchange

_DAY_MS = 86_400_000
_GRID8 = Decimal("1e-8")
_GRID12 = Decimal("1e-12")
_FULL_DEPTH = 10_000  # the deltas feed starts from the whole book, so every later delta applies to it


class BookMirror:
    """Price → size per side of one market, as of ``seq_no``."""

    __slots__ = ("asks", "bids", "market", "seq_no", "ts")

    def __init__(self, market: str) -> None:
        self.market = market
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.seq_no = 0
        self.ts = 0

    def load(self, exchange: SimExchange) -> None:
        book = exchange.book_snapshot(self.market, _FULL_DEPTH)
        self.bids = {lvl.price: lvl.size for lvl in book.bids}
        self.asks = {lvl.price: lvl.size for lvl in book.asks}
        self.seq_no, self.ts = book.seq_no, book.ts

    def apply(self, event: BookDeltaEvent) -> dict[str, Any]:
        """Apply one engine delta; returns its ``update_type: "d"`` payload."""
        inserts: list[dict[str, str]] = []
        updates: list[dict[str, str]] = []
        deletes: list[dict[str, str]] = []
        for change in event.changes:
            levels = self.bids if change.side is Side.BUY else self.asks
            row = {"side": change.side.value, "price": render.dec(change.price), "size": render.dec(change.size)}
            if change.size <= 0:
                if levels.pop(change.price, None) is not None:
                    deletes.append(row)
            elif change.price in levels:
                levels[change.price] = change.size
                updates.append(row)
            else:
                levels[change.price] = change.size
                inserts.append(row)
        self.seq_no, self.ts = event.seq_no, event.ts
        return self._payload("d", inserts, updates, deletes)

    def best(self) -> tuple[Decimal, Decimal, Decimal, Decimal] | None:
        """(bid, bid size, ask, ask size), or None while a side is empty."""
        if not self.bids or not self.asks:
            return None
        bid, ask = max(self.bids), min(self.asks)
        return bid, self.bids[bid], ask, self.asks[ask]

    def top(self) -> tuple[Decimal, Decimal, Decimal, Decimal]:
        """(bid, bid size, ask, ask size) with zeros for an empty side, as REST ``/bbo`` shows it."""
        bid = max(self.bids) if self.bids else ZERO
        ask = min(self.asks) if self.asks else ZERO
        return bid, self.bids.get(bid, ZERO), ask, self.asks.get(ask, ZERO)

    def snapshot(self, depth: int) -> dict[str, Any]:
        """An ``update_type: "s"`` payload with the best ``depth`` levels of each side in ``inserts``."""
        bids = sorted(self.bids.items(), reverse=True)[:depth]
        asks = sorted(self.asks.items())[:depth]
        inserts = [{"side": "BUY", "price": render.dec(p), "size": render.dec(s)} for p, s in bids]
        inserts += [{"side": "SELL", "price": render.dec(p), "size": render.dec(s)} for p, s in asks]
        return self._payload("s", inserts, [], [])

    def _payload(self, update_type: str, inserts: list[dict[str, str]], updates: list[dict[str, str]],
                 deletes: list[dict[str, str]]) -> dict[str, Any]:
        best = self.best()
        bid = ask = None
        if self.bids:
            price = best[0] if best else max(self.bids)
            bid = {"side": "BUY", "price": render.dec(price), "size": render.dec(self.bids[price])}
        if self.asks:
            price = best[2] if best else min(self.asks)
            ask = {"side": "SELL", "price": render.dec(price), "size": render.dec(self.asks[price])}
        return {
            "market": self.market, "seq_no": self.seq_no, "last_updated_at": self.ts, "update_type": update_type,
            "inserts": inserts, "updates": updates, "deletes": deletes,
            # the simulator has no RPI liquidity: the API and interactive views are the same book
            "best_bid_api": bid, "best_ask_api": ask, "best_bid_interactive": bid, "best_ask_interactive": ask,
        }


class MarketFeeds:
    """Routes public engine events to subscribed sessions; owns book mirrors and book-feed buffers.

    ``subs`` is the hub's channel name → sessions index (shared, not copied)."""

    def __init__(self, exchange: SimExchange, subs: dict[str, set[WsSession]],
                 open_interest: Callable[[str], Decimal]) -> None:
        self.exchange = exchange
        self.subs = subs
        self._open_interest = open_interest
        self.mirrors = {m: BookMirror(m) for m in exchange.specs}
        self.book_channels: dict[str, dict[str, Channel]] = {m: {} for m in exchange.specs}
        self._last_bbo: dict[str, tuple[Decimal, Decimal, Decimal, Decimal]] = {}
        self._pending: dict[str, list[Payload]] = {}  # deltas channel -> payloads not yet flushed
        self._dirty: set[str] = set()  # snapshot channels whose book changed since their last push
        self._last_flush: dict[str, float] = {}

    def reload(self) -> None:
        """Re-read every book from the engine (when the listener is attached again)."""
        for mirror in self.mirrors.values():
            mirror.load(self.exchange)
        self._last_bbo = {m: mirror.top() for m, mirror in self.mirrors.items()}

    def _targets(self, names: Iterable[str]) -> list[tuple[str, set[WsSession]]]:
        subs = self.subs
        return [(n, subs[n]) for n in names if subs.get(n)]

    @staticmethod
    def _push(targets: list[tuple[str, set[WsSession]]], payload: Payload) -> None:
        for name, sessions in targets:
            for session in sessions:
                session.push_public((name, payload))

    # ---- engine events ----------------------------------------------------------------------------

    def on_trade(self, event: TradeEvent) -> None:
        market = event.trade.market
        targets = self._targets((f"trades.{market}", "trades.ALL"))
        if targets:
            self._push(targets, Payload(lambda: {**render.trade(event), "seq_no": event.book_seq_no}, "trades"))

    def on_book(self, event: BookDeltaEvent) -> None:
        mirror = self.mirrors[event.market]
        delta = mirror.apply(event)
        payload = Payload(lambda: delta, "order_book")
        for name, channel in self.book_channels[event.market].items():
            if channel.feed == "snapshot":
                self._dirty.add(name)
            else:
                self._pending.setdefault(name, []).append(payload)
        best = mirror.top()
        if best != self._last_bbo.get(event.market):  # event-driven, not throttled; one-sided shows "0"
            self._last_bbo[event.market] = best
            targets = self._targets((f"bbo.{event.market}", "bbo.ALL"))
            if targets:
                self._push(targets, Payload(lambda: self._bbo(mirror.market, best, event.ts, event.seq_no), "bbo"))

    def on_mark(self, event: MarkPriceEvent) -> None:
        market = event.mark.market
        targets = self._targets(("markets_summary", "markets_summary.ALL", f"markets_summary.{market}"))
        if targets:
            mark, ts = event.mark.mark, event.mark.ts
            self._push(targets, Payload(lambda: self.summary(market, ts, mark), "markets_summary"))

    def on_funding(self, event: FundingRateEvent) -> None:
        targets = self._targets((f"funding_data.{event.market}", "funding_data.ALL"))
        if targets:
            spec = self.exchange.specs[event.market]
            interval = self.exchange.funding_interval_ms
            self._push(targets, Payload(lambda: on_sbe_grid(render.funding_data(event, spec, interval)),
                                        "funding_data"))

    # ---- book feed pacing -------------------------------------------------------------------------

    def flush_books(self, now: float) -> None:
        """Send what each book channel has gathered, if its interval has passed since its last push."""
        for channels in self.book_channels.values():
            for name, channel in channels.items():
                self._flush(name, channel, now)

    def _flush(self, name: str, channel: Channel, now: float) -> None:
        sessions = self.subs.get(name)
        if not sessions or now - self._last_flush.get(name, 0.0) < channel.rate_ms / 1000 - 0.002:
            return
        if channel.feed == "deltas":
            pending = self._pending.pop(name, None)
            if not pending:
                return
            self._last_flush[name] = now
            for session in sessions:
                floor = session.book_floor.get(name, 0)
                for payload in pending:
                    if payload.value()["seq_no"] > floor:
                        session.push_public((name, payload))
        elif name in self._dirty:
            self._dirty.discard(name)
            self._last_flush[name] = now
            payload = Payload(self._snapshot_builder(channel.market or ""), "order_book")
            for session in sessions:
                session.push_public((name, payload))

    def _snapshot_builder(self, market: str, depth: int = BOOK_DEPTH) -> Callable[[], dict[str, Any]]:
        snapshot = self.mirrors[market].snapshot(depth)  # cut now: the mirror moves on
        return lambda: snapshot

    def track(self, channel: Channel) -> None:
        """A book channel got its first subscriber."""
        if channel.is_book:
            self.book_channels[channel.market or ""][channel.name] = channel

    def forget(self, channel: Channel) -> None:
        """The last subscriber of a channel left: drop its buffers."""
        name = channel.name
        if channel.is_book:
            self.book_channels[channel.market or ""].pop(name, None)
        self._pending.pop(name, None)
        self._dirty.discard(name)
        self._last_flush.pop(name, None)

    # ---- what a new subscriber gets first ---------------------------------------------------------

    def initial(self, channel: Channel) -> tuple[Payload | None, int]:
        """The first push for a new subscription (None: nothing yet) and, for deltas, its seq_no floor."""
        if channel.kind == "order_book":
            mirror = self.mirrors[channel.market or ""]
            depth = _FULL_DEPTH if channel.feed == "deltas" else BOOK_DEPTH
            return Payload(self._snapshot_builder(mirror.market, depth), "order_book"), mirror.seq_no
        if channel.kind == "bbo" and channel.market != ALL:
            mirror = self.mirrors[channel.market or ""]
            best = mirror.top()
            if not mirror.bids and not mirror.asks:
                return None, 0
            ts, seq = mirror.ts, mirror.seq_no
            return Payload(lambda: self._bbo(mirror.market, best, ts, seq), "bbo"), 0
        return None, 0

    # ---- payloads ---------------------------------------------------------------------------------

    @staticmethod
    def _bbo(market: str, best: tuple[Decimal, Decimal, Decimal, Decimal], ts: int, seq_no: int
             ) -> dict[str, Any]:
        bid, bid_size, ask, ask_size = best
        return {"market": market, "bid": render.dec(bid), "bid_size": render.dec(bid_size), "ask": render.dec(ask),
                "ask_size": render.dec(ask_size), "last_updated_at": ts, "seq_no": seq_no}

    def summary(self, market: str, ts: int, mark: Decimal) -> dict[str, Any]:
        """A ``markets_summary`` row, computed like REST ``/markets/summary``."""
        ex = self.exchange
        spec = ex.specs[market]
        history = ex.funding_history(market)
        rate = render.period_rate(history[-1], spec, ex.funding_interval_ms) if history else ZERO
        volume = sum((t.trade.size for t in ex.recent_trades(market, 1000) if t.trade.ts >= ts - _DAY_MS), ZERO)
        row = render.market_summary(market, mark=mark, last=ex.last_price(market), quote=ex.bbo(market),
                                    funding_rate=rate, volume_24h=volume, open_interest=self._open_interest(market),
                                    ts=ts)
        return on_sbe_grid(row, precise=("funding_rate",))


def on_sbe_grid(payload: dict[str, Any], precise: tuple[str, ...] = ()) -> dict[str, Any]:
    """Cut decimal strings to the SBE grid (8 dp, ``precise`` fields 12 dp, truncated toward zero like
    the encoder), so JSON and SBE subscribers of a public channel see the very same numbers."""
    for key, value in payload.items():
        if not isinstance(value, str) or "." not in value:
            continue
        try:
            number = Decimal(value)
        except InvalidOperation:
            continue
        grid = _GRID12 if key in precise else _GRID8
        if number.as_tuple().exponent < grid.as_tuple().exponent:  # type: ignore[operator]
            payload[key] = render.dec(number.quantize(grid, rounding=ROUND_DOWN))
    return payload
