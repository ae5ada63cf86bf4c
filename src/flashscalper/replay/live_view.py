"""``replay --session ID`` on the dashboard: a journaled session played through the dashboard and the
overlays, marked REPLAY on every surface.

:class:`ReplayView` is the session-shaped object the :class:`~flashscalper.dashboard.server.DashboardServer`
reads (bus, mode, config, a risk engine, a venue name); its mode is ``"replay"``, so the dashboard's mode
flags say ``replay`` and every page and overlay shows the REPLAY badge. Nothing can trade from it: the
dashboard runs without controls.

::

    result = await replay_on_dashboard(db, "tp4t1r", settings, console, speed=60)
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from rich.console import Console

from flashscalper.clock import WallClock
from flashscalper.config import Settings
from flashscalper.memory.db import Database
from flashscalper.memory.models import SessionRow
from flashscalper.replay.replayer import REPLAY_MODE, SessionReplayer
from flashscalper.trading.bot_config import BotConfig
from flashscalper.trading.bus import EventBus, FillReport, TradeClosed
from flashscalper.trading.risk import RiskEngine

__all__ = ["ReplayResult", "ReplayView", "replay_on_dashboard"]

LINGER_S = 1.0  # after the last event, time for the open pages to receive the final frames


@dataclass(slots=True)
class _Venue:
    name: str


@dataclass
class _ReplayBot:
    """What the dashboard reads of a bot: a risk engine (never fed: a replay trades nothing), the clock
    and the market-data observers (none arrive in a replay)."""

    risk: RiskEngine
    clock: WallClock
    market_observers: list[Any] = field(default_factory=list)


@dataclass
class ReplayView:
    """A journaled session as the dashboard sees a session, in mode REPLAY."""

    bus: EventBus
    config: BotConfig
    bot: _ReplayBot
    exchange: _Venue
    mode: str = REPLAY_MODE
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, db: Database, replayer: SessionReplayer) -> ReplayView:
        """The view of ``replayer``'s session: its markets and 1R unit from the journaled config."""
        journaled = replayer.session
        with db.session() as s:
            row = s.get(SessionRow, journaled.id)
            stored = dict(row.config or {}) if row is not None else {}
        markets = tuple(stored.get("markets") or ())
        if not markets:
            markets = tuple(dict.fromkeys(_market(e) for e in journaled.events if _market(e)))
        config = BotConfig(markets=markets or ("BTC-USD-PERP",), stop_loss_roe=_stop_loss(stored))
        clock = WallClock()
        bot = _ReplayBot(RiskEngine(config.risk_limits(), clock), clock)
        return cls(replayer.bus, config, bot, _Venue(journaled.venue),
                   extras={"replay_of": journaled.id, "recorded_as": journaled.mode})


def _market(event: Any) -> str:
    if isinstance(event, TradeClosed):
        return event.trade.market
    if isinstance(event, FillReport):
        return event.fill.market
    return ""


def _stop_loss(stored: dict[str, Any]) -> Decimal:
    try:
        value = Decimal(str(stored.get("stop_loss_roe", "-0.5")))
    except InvalidOperation:
        return Decimal("-0.5")
    return value if value.is_finite() and value < 0 else Decimal("-0.5")


async def _wait_for_stop(stop: asyncio.Event | None) -> None:
    """Wait for ``stop``; without one, for SIGINT or SIGTERM (a normal end of --hold, not an error)."""
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
    await stop.wait()


@dataclass(frozen=True, slots=True)
class ReplayResult:
    events: int
    net_pnl: Decimal
    dashboard_url: str | None


async def replay_on_dashboard(db: Database, session_id: str, settings: Settings, console: Console, *,
                              speed: float = 1.0, dashboard: bool = True, port: int | None = None,
                              hold: bool = False, stop: asyncio.Event | None = None) -> ReplayResult:
    """Play ``session_id`` from the journal through a REPLAY dashboard (URLs printed), then stop it; with
    ``hold`` keep serving after the last event until ``stop`` is set (or the task is cancelled)."""
    from flashscalper.surfaces import print_dashboard_urls, start_dashboard

    replayer = SessionReplayer(db, session_id, speed=speed)
    replayer.bus.add_listener(lambda e: console.print(
        f"[REPLAY] {e.trade.market} {e.trade.side.value} net {e.trade.net_pnl:.4f} ({e.trade.reason.value})",
        highlight=False, markup=False) if isinstance(e, TradeClosed) else None)
    dash = None
    if dashboard:
        view = ReplayView.of(db, replayer)
        dash = await start_dashboard(view, settings, port=port, controls=False)
        print_dashboard_urls(console, dash, label="(REPLAY)", show_token=False)
    try:
        count = await replayer.play()
        if dash is not None:
            if hold:
                console.print("replay done; the dashboard keeps serving (Ctrl-C to stop)", highlight=False)
                await _wait_for_stop(stop)
            else:
                await asyncio.sleep(LINGER_S)
    finally:
        if dash is not None:
            with contextlib.suppress(Exception):
                await dash.stop()
    return ReplayResult(count, replayer.net_pnl(), None if dash is None else dash.url)
