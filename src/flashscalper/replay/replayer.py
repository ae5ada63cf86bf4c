"""``replay --session ID``: play a journaled session back onto a bus, at a chosen speed.

The journal's fills, closed trades and equity samples of one session become the same bus events
the bot published (:class:`FillReport`, :class:`TradeClosed`, :class:`EquitySample`), in time order,
paced by ``speed`` (1 = as it happened, 60 = a minute per second, 0 = as fast as possible). The
dashboard and overlays follow the bus as usual; :attr:`SessionReplayer.mode` is ``"replay"`` (shown
as REPLAY), and the first event is a :class:`ConnectionHealth` whose detail says what is replayed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from flashscalper.domain import ConnectionState, Fill, Liquidity, Side
from flashscalper.errors import FlashScalperError
from flashscalper.memory.db import Database
from flashscalper.memory.models import EquityRow, FillRow, SessionRow, TradeRow
from flashscalper.trading.bus import BotEvent, ConnectionHealth, EquitySample, EventBus, FillReport, TradeClosed
from flashscalper.trading.exits import ClosedTrade, ExitReason

__all__ = ["REPLAY_MODE", "SessionNotFound", "SessionReplayer", "load_session_events"]

REPLAY_MODE = "replay"


class SessionNotFound(FlashScalperError):
    """The journal has no session with that id."""


@dataclass(frozen=True, slots=True)
class JournaledSession:
    id: str
    venue: str
    mode: str
    started_at: int
    ended_at: int | None
    events: list[BotEvent]


def _trade(row: TradeRow) -> ClosedTrade:
    signal = dict(row.signal or {})
    if row.features:
        signal["features"] = dict(row.features)
    signal.setdefault("setup", row.setup)
    return ClosedTrade(
        market=row.market, side=Side(row.side), size=row.size, entry_price=row.entry_price,
        exit_price=row.exit_price, pnl=row.pnl, fees=row.fees, opened_at=row.opened_at, closed_at=row.closed_at,
        reason=ExitReason(row.exit_reason), leverage=row.leverage, roe=row.roe, adopted=row.adopted, signal=signal,
    )


def _fill(row: FillRow) -> FillReport:
    fill = Fill(id=row.fill_id, order_id=row.order_id, client_id=row.client_id, market=row.market,
                side=Side(row.side), price=row.price, size=row.size, liquidity=Liquidity(row.liquidity),
                fee=row.fee, realized_pnl=row.realized_pnl, ts=row.ts)
    return FillReport(fill, row.purpose, row.ts)


def load_session_events(db: Database, session_id: str) -> JournaledSession:
    """Every replayable event of one session, oldest first (ties: fills, then trades, then equity)."""
    with db.session() as s:
        session = s.get(SessionRow, session_id)
        if session is None:
            known = [r for (r,) in s.execute(select(SessionRow.id).order_by(SessionRow.started_at.desc()).limit(10))]
            raise SessionNotFound(f"no session {session_id!r} in the journal; recent sessions: "
                                  f"{', '.join(known) or 'none'}")
        fills = s.scalars(select(FillRow).where(FillRow.session_id == session_id)).all()
        trades = s.scalars(select(TradeRow).where(TradeRow.session_id == session_id)).all()
        equity = s.scalars(select(EquityRow).where(EquityRow.session_id == session_id)).all()
        keyed: list[tuple[int, int, int, BotEvent]] = []
        keyed += [(f.ts, 0, f.id, _fill(f)) for f in fills]
        keyed += [(t.closed_at, 1, t.id, TradeClosed(_trade(t), t.closed_at)) for t in trades]
        keyed += [(e.ts, 2, e.id, EquitySample(e.equity, e.wallet, e.available, e.margin_in_use,
                                               e.margin_utilisation_percent, e.ts)) for e in equity]
        keyed.sort(key=lambda k: k[:3])
        return JournaledSession(session.id, session.venue, session.mode, session.started_at, session.ended_at,
                                [k[3] for k in keyed])


Sleep = Callable[[float], Awaitable[None]]


class SessionReplayer:
    """Publishes one journaled session onto ``bus`` in virtual time scaled by ``speed``."""

    mode = REPLAY_MODE

    def __init__(self, db: Database, session_id: str, *, bus: EventBus | None = None, speed: float = 0.0,
                 sleep: Sleep = asyncio.sleep) -> None:
        if speed < 0:
            raise ValueError("speed must be 0 (as fast as possible) or positive")
        self.session = load_session_events(db, session_id)
        self.bus = bus or EventBus()
        self.speed = speed
        self._sleep = sleep
        self.published = 0

    async def play(self) -> int:
        """Publish every event; returns how many (the opening REPLAY marker not counted)."""
        s = self.session
        self.bus.publish(ConnectionHealth("replay", ConnectionState.CONNECTED,
                                          f"REPLAY of session {s.id} ({s.venue}, recorded as {s.mode})",
                                          s.started_at))
        previous = s.started_at
        for event in s.events:
            if self.speed > 0 and event.ts > previous:
                await self._sleep((event.ts - previous) / 1000 / self.speed)
            elif self.published % 100 == 99:  # at once: still let bus followers (the dashboard) keep up
                await asyncio.sleep(0)
            previous = max(previous, event.ts)
            self.bus.publish(event)
            self.published += 1
        return self.published

    def net_pnl(self) -> Decimal:
        return sum((e.trade.net_pnl for e in self.session.events if isinstance(e, TradeClosed)), Decimal(0))
