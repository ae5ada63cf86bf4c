"""Composition of one trading session: a venue, the strategy, the risk engine and the bot, wired to a bus.

``demo``, ``run`` and (later) ``backtest`` build their venue differently and share everything else here,
so the trading code is the same object graph in every mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from flashscalper.clock import Clock
from flashscalper.config import Settings
from flashscalper.exchanges.base import Exchange
from flashscalper.strategy.base import Strategy, strategy_from_settings
from flashscalper.trading.bot import Bot
from flashscalper.trading.bot_config import BotConfig
from flashscalper.trading.bus import EventBus
from flashscalper.trading.risk import RiskEngine
from flashscalper.trading.stats import StatsSummary

log = logging.getLogger(__name__)


@dataclass
class TradingSession:
    """Everything one run of the bot is made of. ``bus`` is what the dashboard and the journal listen to."""

    bot: Bot
    bus: EventBus
    config: BotConfig
    mode: str
    extras: dict[str, Any] = field(default_factory=dict)
    # session_memory.SessionMemory when a journal is attached (typed loosely: memory depends on this module)
    memory: Any = None

    @property
    def exchange(self) -> Exchange:
        return self.bot.exchange

    def summary(self) -> StatsSummary:
        return self.bot.stats.summary()

    async def run(self, duration_s: float | None, *, flatten_at_end: bool = True) -> StatsSummary:
        """Start, trade for ``duration_s`` (None: until stopped), then flatten and close."""
        try:
            await self.bot.start()
            if self.memory is not None:
                await self.memory.recover(self)
            await self.bot.run(duration_s=duration_s)
        finally:
            if flatten_at_end:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.bot.flatten("session end"), timeout=15)
                    await self._settle()
            with contextlib.suppress(Exception):  # the summary's end equity is the venue's, read last
                await self.bot.sample_equity()
            await self.bot.close()
            if self.memory is not None:
                await self.memory.close(self.bot.clock.time_ms())
        return self.summary()

    async def _settle(self, seconds: float = 1.5) -> None:
        """Let the closing fills arrive so the summary counts the final trades."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            handled = await self.bot.process_pending()
            if handled == 0 and not any(True for _ in await self.bot.exchange.positions()):
                break
            await asyncio.sleep(0.1)


def build_session(
    exchange: Exchange,
    settings: Settings,
    *,
    trade_params: Any,
    clock: Clock,
    mode: str,
    strategy: Strategy | None = None,
    bus: EventBus | None = None,
    **config_overrides: Any,
) -> TradingSession:
    """Wire strategy, risk and bot around ``exchange`` from the settings (overrides for tests and modes)."""
    config = BotConfig.from_settings(trade_params, settings.general, **config_overrides)
    bus = bus or EventBus()
    risk = RiskEngine(config.risk_limits(), clock)
    strategy = strategy or strategy_from_settings(settings.general)
    bot = Bot(exchange, strategy, risk, settings=config, clock=clock, bus=bus)
    return TradingSession(bot=bot, bus=bus, config=config, mode=mode)
