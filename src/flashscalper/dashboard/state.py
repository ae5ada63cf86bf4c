"""DashboardState: folds bus events (and sampled market data) into one JSON-able snapshot.

The snapshot is the *full* view (money, sizes). Clients in privacy mode never see it: every frame
for them goes through :mod:`flashscalper.dashboard.privacy` first, which rebuilds it from a
whitelist. Sections change as events arrive; ``apply`` returns the names of the sections an event
touched so the hub can push just those (a delta) instead of the whole state.

Numbers are floats here on purpose: this is display data for a browser, never fed back to trading.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

from flashscalper.domain import BookUpdate, MarkPrice, Quote, Trade
from flashscalper.trading.bus import (
    BotEvent,
    ConnectionHealth,
    EquitySample,
    FillReport,
    OrderReport,
    PositionReport,
    ReconcileAction,
    RiskStateChanged,
    SignalReport,
    TradeClosed,
)

__all__ = ["DashboardState", "ModeFlags", "num"]

RECENT = 30
SERIES_POINTS = 240  # per market: one minute at the 4 Hz sampling rate
PNL_POINTS = 600
MARKERS = 60


def num(value: Decimal | float | int | None) -> float | None:
    """A Decimal as a float for display (None stays None)."""
    return None if value is None else float(value)


class ModeFlags(dict[str, Any]):
    """What kind of session this is: ``name`` plus demo/paper/replay/safe/privacy/simulator booleans."""

    @classmethod
    def of(cls, mode: str, *, safe: bool = False, privacy: bool = False, simulator: bool = False,
           venue: str = "") -> ModeFlags:
        name = mode.lower()
        return cls(name=name, demo=name == "demo", paper=name == "paper", replay=name in ("replay", "backtest"),
                   live=name == "live", safe=safe, privacy=privacy, simulator=simulator, venue=venue)


class _MarketWatch:
    """Latest market facts for one symbol plus a sampled price series."""

    __slots__ = ("ask", "ask_size", "bid", "bid_size", "book_imbalance", "dirty", "funding_rate", "last",
                 "mark", "mid", "series")

    def __init__(self) -> None:
        self.bid = self.ask = self.mark = self.last = self.mid = None
        self.bid_size = self.ask_size = None
        self.book_imbalance: float | None = None
        self.funding_rate: float | None = None
        self.series: deque[tuple[int, float]] = deque(maxlen=SERIES_POINTS)
        self.dirty = False

    @property
    def price(self) -> float | None:
        if self.mid is not None:
            return self.mid
        return self.mark if self.mark is not None else self.last

    def view(self) -> dict[str, Any]:
        spread = None
        if self.bid is not None and self.ask is not None and self.bid > 0:
            spread = (self.ask - self.bid) / ((self.ask + self.bid) / 2) * 10_000
        imbalance = self.book_imbalance
        if imbalance is None and self.bid_size and self.ask_size:
            imbalance = (self.bid_size - self.ask_size) / (self.bid_size + self.ask_size)
        return {"price": self.price, "bid": self.bid, "ask": self.ask, "mark": self.mark,
                "spread_bps": spread, "imbalance": imbalance, "funding_rate": self.funding_rate}


class DashboardState:
    """Everything the dashboard and the overlays show, kept up to date from the bot's bus."""

    def __init__(self, mode: ModeFlags, *, markets: tuple[str, ...] = (), risk_unit_roe: Decimal = Decimal("0.5"),
                 account: str = "") -> None:
        self.mode = mode
        self.risk_unit_roe = abs(risk_unit_roe) or Decimal(1)  # one R, in ROE %: |stop-loss ROE|
        self.account = account
        self.risk: dict[str, Any] = {"state": "ACTIVE", "reasons": [], "margin_utilisation_percent": None,
                                     "losing_streak": 0, "cooldown_until_ms": None}
        self.balance: dict[str, Any] = {}
        self.start_equity: float | None = None
        self.positions: dict[str, dict[str, Any]] = {}
        self.orders: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.fills: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.trades: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.signal: dict[str, Any] | None = None
        self.connection: dict[str, dict[str, Any]] = {}
        self.markers: deque[dict[str, Any]] = deque(maxlen=MARKERS)
        self.pnl_series: deque[tuple[int, float, float]] = deque(maxlen=PNL_POINTS)
        self.realized = 0.0
        self.r_total = 0.0
        self.wins = self.losses = self.trade_count = 0
        self.watch: dict[str, _MarketWatch] = {m: _MarketWatch() for m in markets}
        self.seq = 0
        self.updated_at = 0

    # ---- folding events --------------------------------------------------------------------------

    def apply(self, event: BotEvent) -> set[str]:
        """Fold one bus event in; return the sections it changed."""
        self.updated_at = event.ts
        if isinstance(event, PositionReport):
            return self._on_position(event)
        if isinstance(event, FillReport):
            return self._on_fill(event)
        if isinstance(event, OrderReport):
            o = event.order
            self.orders.appendleft({
                "ts": event.ts, "market": o.market, "side": o.side.value, "type": o.type.value,
                "status": o.status.value, "size": num(o.size), "filled_size": num(o.filled_size),
                "price": num(o.price if o.price is not None else o.trigger_price), "purpose": event.purpose,
                "note": event.note, "reduce_only": o.reduce_only})
            return {"orders"}
        if isinstance(event, TradeClosed):
            return self._on_trade(event)
        if isinstance(event, SignalReport):
            s = event.signal
            self.signal = {"ts": event.ts, "market": s.market, "side": s.side.value, "confidence": s.confidence,
                           "reasons": list(s.reasons), "setup": s.setup, "strategy": s.strategy,
                           "acted": event.acted, "note": event.note, "price": num(s.price)}
            return {"signal"}
        if isinstance(event, EquitySample):
            return self._on_equity(event)
        if isinstance(event, RiskStateChanged):
            self.risk = {**self.risk, "state": event.to_state.value, "last_change": event.reason,
                         "changed_at": event.ts}
            return {"risk"}
        if isinstance(event, ConnectionHealth):
            self.connection[event.venue] = {"state": event.state.value, "detail": event.detail, "ts": event.ts}
            return {"connection"}
        if isinstance(event, ReconcileAction):
            return set()
        return set()

    def _on_position(self, e: PositionReport) -> set[str]:
        if e.side is None or e.size == 0:
            return {"positions"} if self.positions.pop(e.market, None) is not None else set()
        self.positions[e.market] = {
            "market": e.market, "side": e.side.value, "size": num(e.size), "entry_price": num(e.entry_price),
            "mark_price": num(e.mark_price), "unrealized_pnl": num(e.unrealized_pnl), "roe": num(e.roe),
            "r": num(e.roe / self.risk_unit_roe), "margin": num(e.margin), "leverage": num(e.leverage),
            "stop_price": num(e.stop_price), "take_profit_price": num(e.take_profit_price),
            "trailing_active": e.trailing_active, "liquidation_price": num(e.liquidation_price),
            "liquidation_distance_percent": num(e.liquidation_distance_percent), "opened_at": e.opened_at,
        }
        if not self.pnl_series or e.ts - self.pnl_series[-1][0] >= 1000:
            self._sample_pnl(e.ts)
        return {"positions", "pnl"}

    def _on_fill(self, e: FillReport) -> set[str]:
        f = e.fill
        self.fills.appendleft({"ts": e.ts, "market": f.market, "side": f.side.value, "price": num(f.price),
                               "size": num(f.size), "fee": num(f.fee), "purpose": e.purpose,
                               "liquidity": f.liquidity.value, "id": f.id})
        kind = "entry" if e.purpose == "ENTRY" else "exit" if e.purpose != "EXTERNAL" else "fill"
        self.markers.append({"ts": f.ts or e.ts, "market": f.market, "price": num(f.price), "kind": kind,
                             "side": f.side.value})
        return {"fills", "markers"}

    def _on_trade(self, e: TradeClosed) -> set[str]:
        t = e.trade
        net = float(t.net_pnl)
        r = float(t.roe / self.risk_unit_roe)
        self.realized += net
        self.trade_count += 1
        self.r_total += r
        if t.is_win:
            self.wins += 1
        elif t.net_pnl < 0:
            self.losses += 1
        self.trades.appendleft({
            "ts": e.ts, "market": t.market, "side": t.side.value, "size": num(t.size),
            "entry_price": num(t.entry_price), "exit_price": num(t.exit_price), "pnl": num(t.pnl),
            "fees": num(t.fees), "net_pnl": net, "roe": num(t.roe), "r": r, "reason": t.reason.value,
            "opened_at": t.opened_at, "closed_at": t.closed_at, "duration_s": t.duration_ms / 1000,
            "setup": str(t.signal.get("setup", "")) if t.signal else ""})
        self.positions.pop(t.market, None)  # a round trip is over: do not wait for a flat position report
        self._sample_pnl(e.ts)
        return {"trades", "pnl", "positions"}

    def _on_equity(self, e: EquitySample) -> set[str]:
        if self.start_equity is None and e.equity > 0:
            self.start_equity = float(e.equity)
        self.balance = {"equity": num(e.equity), "wallet": num(e.wallet), "available": num(e.available),
                        "margin_in_use": num(e.margin_in_use),
                        "margin_utilisation_percent": num(e.margin_utilisation_percent), "ts": e.ts}
        self.risk = {**self.risk, "margin_utilisation_percent": num(e.margin_utilisation_percent)}
        self._sample_pnl(e.ts)
        return {"account", "pnl", "risk"}

    def _sample_pnl(self, ts: int) -> None:
        pnl = self.session_pnl()
        self.pnl_series.append((ts, pnl, self.pct_of_start(pnl) or 0.0))

    # ---- market data (observed from the bot's strategy feed, O(1) per tick) ---------------------

    def on_market(self, event: object) -> None:
        """Record one market-data event; cheap, called from the bot loop on every tick."""
        w = self.watch.get(getattr(event, "market", ""))
        if w is None:
            return
        if isinstance(event, Quote):
            w.bid, w.ask, w.mid = float(event.bid), float(event.ask), float((event.bid + event.ask) / 2)
            w.bid_size, w.ask_size = float(event.bid_size), float(event.ask_size)
        elif isinstance(event, MarkPrice):
            w.mark = float(event.mark)
            if event.funding_rate is not None:
                w.funding_rate = float(event.funding_rate)
        elif isinstance(event, Trade):
            w.last = float(event.price)
        elif isinstance(event, BookUpdate):
            bid = sum(float(lv.size) for lv in event.bids[:5])
            ask = sum(float(lv.size) for lv in event.asks[:5])
            if bid + ask > 0:
                w.book_imbalance = (bid - ask) / (bid + ask)
        w.dirty = True

    def sample_markets(self, ts: int) -> dict[str, list[float]]:
        """Append one point per changed market to its series; return the new points (for a delta)."""
        points: dict[str, list[float]] = {}
        for symbol, w in self.watch.items():
            if not w.dirty:
                continue
            w.dirty = False
            price = w.price
            if price is not None:
                w.series.append((ts, price))
                points[symbol] = [ts, price]
        return points

    # ---- views -----------------------------------------------------------------------------------

    def unrealized(self) -> float:
        return sum(p["unrealized_pnl"] or 0.0 for p in self.positions.values())

    def session_pnl(self) -> float:
        # closed trades (net of fees) plus open positions: moves with every fill and mark, unlike
        # equity samples which the bot throttles
        return self.realized + self.unrealized()

    def pct_of_start(self, money: float) -> float | None:
        return money / self.start_equity * 100 if self.start_equity else None

    def section(self, name: str) -> Any:
        """One section of the full view by name."""
        return getattr(self, "_view_" + name)()

    SECTIONS = ("mode", "risk", "account", "pnl", "positions", "orders", "fills", "trades", "signal",
                "markets", "markers", "connection")

    def snapshot(self) -> dict[str, Any]:
        """The whole full view (money and sizes included)."""
        return {name: self.section(name) for name in self.SECTIONS}

    def _view_mode(self) -> dict[str, Any]:
        return dict(self.mode)

    def _view_risk(self) -> dict[str, Any]:
        return {**self.risk, "safe_mode": bool(self.mode.get("safe"))}

    def _view_account(self) -> dict[str, Any]:
        return {**self.balance, "start_equity": self.start_equity, "address": self.account}

    def _view_pnl(self) -> dict[str, Any]:
        pnl = self.session_pnl()
        trades = self.trade_count
        return {"session": pnl, "session_percent": self.pct_of_start(pnl), "realized": self.realized,
                "unrealized": self.unrealized(), "r_total": self.r_total, "trades": trades,
                "wins": self.wins, "losses": self.losses,
                "win_rate": self.wins / trades * 100 if trades else None,
                "series": [list(p) for p in self.pnl_series]}

    def _view_positions(self) -> list[dict[str, Any]]:
        return list(self.positions.values())

    def _view_orders(self) -> list[dict[str, Any]]:
        return list(self.orders)

    def _view_fills(self) -> list[dict[str, Any]]:
        return list(self.fills)

    def _view_trades(self) -> list[dict[str, Any]]:
        return list(self.trades)

    def _view_signal(self) -> dict[str, Any] | None:
        return self.signal

    def _view_markets(self) -> dict[str, Any]:
        return {s: {**w.view(), "series": [list(p) for p in w.series]} for s, w in self.watch.items()}

    def _view_market_quotes(self) -> dict[str, Any]:
        return {s: w.view() for s, w in self.watch.items()}

    def _view_markers(self) -> list[dict[str, Any]]:
        return list(self.markers)

    def _view_connection(self) -> dict[str, Any]:
        ok = all(c["state"] != "DISCONNECTED" for c in self.connection.values())
        return {"venues": dict(self.connection), "ok": ok}
