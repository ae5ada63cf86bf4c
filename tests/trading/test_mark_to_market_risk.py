"""An open loss counts towards the daily loss limit before the position is closed."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import Side
from flashscalper.trading.risk import RiskState

from .scenario import BTC, started


async def test_open_loss_marked_to_market_halts_entries_while_the_position_is_still_open() -> None:
    # A far stop (so it does not close the position) and a tight daily loss limit of 1 % of equity.
    s = await started(stop_loss_roe=Decimal(-90), take_profit_roe=Decimal(500), daily_loss_limit_percent=Decimal(1))
    await s.enter(BTC, Side.BUY)
    assert s.bot.risk.state is RiskState.ACTIVE
    await s.drift(BTC, -0.01, steps=10)  # 25 % of equity at 10x: a 1 % drop loses about 2.5 % of equity
    assert s.venue_position(BTC) > 0, "the position is still open: only marking to market can have halted"
    assert s.bot.risk.state is RiskState.HALTED
    assert any("daily loss" in r for r in s.bot.risk.reasons())
