"""Several venues, one risk budget: a bot per venue, all judged by ONE :class:`RiskEngine`.

::

    budget = SharedRiskBudget(RiskEngine(limits, clock))
    multi = build_multi_session({"paradex": (paradex, settings.paradex), "aster": (aster, settings.aster)},
                                settings, clock=clock, mode="live", budget=budget)
    await multi.run(duration_s=None)

Each bot gets a :class:`VenueRisk` as its risk engine: the shared engine seen from one venue. Through it

* ``max_positions`` counts positions (and working entries) on every venue;
* equity and margin in use are the sums over the venues, so the daily-loss limit, the drawdown limit
  and margin utilisation judge the whole portfolio: a loss on one venue can halt them all;
* operator controls (pause, halt, resume, safe mode) act on the one engine, i.e. on every venue.

Collateral stays per venue: an entry is sized from the free collateral of the venue it goes to.
Which venues run comes from the settings: ``PARADEX_ENABLED`` and ``ASTER_ENABLED``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from flashscalper.clock import Clock
from flashscalper.config import Settings
from flashscalper.domain import ZERO, Balance, Market, Side
from flashscalper.errors import ConfigError
from flashscalper.exchanges.base import Exchange
from flashscalper.session import TradingSession
from flashscalper.strategy.base import Strategy, strategy_from_settings
from flashscalper.trading.bot import Bot
from flashscalper.trading.bot_config import BotConfig
from flashscalper.trading.bus import EventBus
from flashscalper.trading.risk import (
    Decision,
    OrderIntent,
    RiskEngine,
    RiskLimits,
    RiskState,
    RiskStatus,
    RiskTransition,
)
from flashscalper.trading.sizing import SizingResult
from flashscalper.trading.stats import StatsSummary

__all__ = ["MultiVenueSession", "SharedRiskBudget", "VenueRisk", "build_multi_session", "enabled_venues",
           "shared_limits"]

VENUES = ("paradex", "aster")


@dataclass(slots=True)
class _VenueBook:
    """What the budget knows about one venue: its last balance and how many positions it holds."""

    balance: Balance | None = None
    exposure: Callable[[], int] = lambda: 0


class SharedRiskBudget:
    """One risk engine for the whole portfolio; hand each venue's bot :meth:`venue` as its risk engine."""

    def __init__(self, engine: RiskEngine) -> None:
        self.engine = engine
        self._books: dict[str, _VenueBook] = {}
        self._views: dict[str, VenueRisk] = {}

    def venue(self, name: str) -> VenueRisk:
        """The view of the budget one venue's bot uses (created on first call)."""
        if name not in self._views:
            self._books[name] = _VenueBook()
            self._views[name] = VenueRisk(self, name)
        return self._views[name]

    @property
    def venues(self) -> tuple[str, ...]:
        return tuple(self._books)

    def track(self, venue: str, exposure: Callable[[], int]) -> None:
        """``exposure()`` says how many positions (plus working entries) ``venue`` holds right now."""
        self._books[venue].exposure = exposure

    def open_positions(self, *, excluding: str | None = None) -> int:
        return sum(book.exposure() for name, book in self._books.items() if name != excluding)

    def equity(self) -> Decimal | None:
        """Total equity, once every venue has reported a balance (None before)."""
        balances = [book.balance for book in self._books.values()]
        if not balances or any(b is None for b in balances):
            return None
        return sum((b.equity for b in balances if b is not None), ZERO)

    def on_venue_balance(self, venue: str, balance: Balance) -> RiskState:
        """Record one venue's balance; feed the engine the portfolio totals once every venue has reported.

        Waiting for all venues keeps the day's baseline from being set on a partial portfolio (which
        would hide the first venue's losses behind the second venue's deposit)."""
        self._books[venue].balance = balance
        balances = [book.balance for book in self._books.values()]
        if any(b is None for b in balances):
            return self.engine.state
        equity = sum((b.equity for b in balances if b is not None), ZERO)
        margin = sum((b.initial_margin for b in balances if b is not None), ZERO)
        ts = max((b.updated_at for b in balances if b is not None), default=0) or None
        return self.engine.on_equity(equity, ts, margin_in_use=margin)

    def check(self, venue: str, intent: OrderIntent) -> Decision:
        """Judge ``intent`` against the whole portfolio: add the other venues' positions, equity and margin."""
        others = [book.balance for name, book in self._books.items() if name != venue and book.balance]
        portfolio = replace(
            intent,
            open_positions=intent.open_positions + self.open_positions(excluding=venue),
            equity=intent.equity + sum((b.equity for b in others), ZERO),
            margin_in_use=intent.margin_in_use + sum((b.initial_margin for b in others), ZERO),
        )
        return self.engine.check(portfolio)


class VenueRisk:
    """A :class:`RiskEngine` as one venue's bot sees it: the shared engine, portfolio-wide."""

    def __init__(self, budget: SharedRiskBudget, venue: str) -> None:
        self.budget = budget
        self.venue = venue

    @property
    def _engine(self) -> RiskEngine:
        return self.budget.engine

    # ---- what differs from the plain engine ----------------------------------------------------

    def check(self, intent: OrderIntent) -> Decision:
        return self.budget.check(self.venue, intent)

    def on_balance(self, balance: Balance) -> RiskState:
        return self.budget.on_venue_balance(self.venue, balance)

    def on_equity(self, equity: Decimal, ts: int | None = None, *, margin_in_use: Decimal | None = None
                  ) -> RiskState:
        balance = Balance("", equity, equity, equity, margin_in_use or ZERO, updated_at=ts or 0)
        return self.budget.on_venue_balance(self.venue, balance)

    def size_entry(self, market: Market, price: Decimal, available_collateral: Decimal, open_positions_count: int,
                   *, current_position: Decimal = ZERO, side: Side | None = None) -> SizingResult:
        return self._engine.size_entry(
            market, price, available_collateral,
            open_positions_count + self.budget.open_positions(excluding=self.venue),
            current_position=current_position, side=side,
        )

    # ---- the shared engine, unchanged ------------------------------------------------------------

    @property
    def limits(self) -> RiskLimits:
        return self._engine.limits

    @property
    def configured_limits(self) -> RiskLimits:
        return self._engine.configured_limits

    def set_limits(self, limits: RiskLimits) -> None:
        self._engine.set_limits(limits)

    @property
    def state(self) -> RiskState:
        return self._engine.state

    @property
    def transitions(self) -> list[RiskTransition]:
        return self._engine.transitions

    def add_listener(self, listener: Callable[[RiskTransition], None]) -> None:
        self._engine.add_listener(listener)

    def reasons(self) -> tuple[str, ...]:
        return self._engine.reasons()

    def in_cooldown(self, now_ms: int | None = None) -> bool:
        return self._engine.in_cooldown(now_ms)

    def status(self) -> RiskStatus:
        return self._engine.status()

    def pause_entries(self, reason: str = "entries paused by operator", ts: int | None = None) -> RiskState:
        return self._engine.pause_entries(reason, ts)

    def halt(self, reason: str = "halted by operator", ts: int | None = None) -> RiskState:
        return self._engine.halt(reason, ts)

    def resume(self, reason: str = "resumed by operator", ts: int | None = None) -> RiskState:
        return self._engine.resume(reason, ts)

    def set_state(self, state: RiskState, reason: str, ts: int | None = None) -> RiskState:
        return self._engine.set_state(state, reason, ts)

    def on_trade_closed(self, pnl: Decimal, ts: int | None = None) -> None:
        self._engine.on_trade_closed(pnl, ts)


def enabled_venues(settings: Settings) -> list[str]:
    """The venues switched on in the settings (``PARADEX_ENABLED``, ``ASTER_ENABLED``), in a fixed order."""
    chosen = [name for name in VENUES if getattr(settings, name).enabled]
    if not chosen:
        raise ConfigError("no venue enabled; set PARADEX_ENABLED=true and/or ASTER_ENABLED=true")
    return chosen


def shared_limits(configs: Mapping[str, BotConfig]) -> RiskLimits:
    """The portfolio's limits: the strictest of each venue's (fewest positions, lowest leverage and size)."""
    if not configs:
        raise ConfigError("a shared risk budget needs at least one venue")
    limits = [config.risk_limits() for config in configs.values()]
    return replace(
        limits[0],
        leverage=min(lim.leverage for lim in limits),
        position_size_percent=min(lim.position_size_percent for lim in limits),
        max_positions=min(lim.max_positions for lim in limits),
    )


@dataclass
class MultiVenueSession:
    """One :class:`TradingSession` per venue, sharing ``budget``; they run side by side."""

    sessions: dict[str, TradingSession]
    budget: SharedRiskBudget
    extras: dict[str, Any] = field(default_factory=dict)

    async def run(self, duration_s: float | None, *, flatten_at_end: bool = True) -> dict[str, StatsSummary]:
        """Run every venue's session for ``duration_s``; returns each venue's summary."""
        names = list(self.sessions)
        results = await asyncio.gather(
            *(self.sessions[n].run(duration_s, flatten_at_end=flatten_at_end) for n in names))
        return dict(zip(names, results, strict=True))

    def halt(self, reason: str = "halted by operator") -> None:
        """Stop entries on every venue at once (the budget is shared)."""
        self.budget.engine.halt(reason)


def build_multi_session(
    venues: Mapping[str, tuple[Exchange, Any]],
    settings: Settings,
    *,
    clock: Clock,
    mode: str,
    budget: SharedRiskBudget | None = None,
    strategies: Mapping[str, Strategy] | None = None,
    **config_overrides: Any,
) -> MultiVenueSession:
    """A bot per ``venues`` entry (name → (exchange, that venue's trade params)), all on one risk budget.

    Each venue gets its own event bus (its dashboard/journal feed); risk transitions reach every bus.
    Without ``budget`` the engine's limits are :func:`shared_limits` of the venues' configs.
    ``config_overrides`` apply to every venue's :class:`BotConfig` (e.g. ``max_positions=1``).
    """
    configs = {name: BotConfig.from_settings(params, settings.general, **config_overrides)
               for name, (_, params) in venues.items()}
    if budget is None:
        budget = SharedRiskBudget(RiskEngine(shared_limits(configs), clock))
    sessions: dict[str, TradingSession] = {}
    for name, (exchange, _) in venues.items():
        strategy = (strategies or {}).get(name) or strategy_from_settings(settings.general)
        bus = EventBus()
        risk = budget.venue(name)
        # the bot only uses the engine's public surface, which VenueRisk mirrors
        bot = Bot(exchange, strategy, risk, settings=configs[name], clock=clock, bus=bus)  # type: ignore[arg-type]
        budget.track(name, lambda bot=bot: bot.occupied_slots())
        sessions[name] = TradingSession(bot=bot, bus=bus, config=configs[name], mode=mode)
    return MultiVenueSession(sessions, budget)
