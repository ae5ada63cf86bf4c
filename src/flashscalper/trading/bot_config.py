"""BotConfig: everything the trading core needs, as one plain dataclass built from the settings."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

from flashscalper.trading.executor import EntryMode, ExecutorConfig
from flashscalper.trading.positions import ExitConfig
from flashscalper.trading.risk_limits import RiskLimits


@dataclass(frozen=True, slots=True)
class BotConfig:
    """Trading parameters of one bot. ROE values are percent of margin (see ``positions.py``).

    Build it from settings with :meth:`from_settings` (venue trade params + general settings), or
    directly in tests and backtests. Times are seconds of the bot's clock.
    """

    markets: tuple[str, ...] = ("BTC-USD-PERP",)
    # sizing and risk (fed to RiskLimits)
    leverage: Decimal = Decimal(10)
    position_size_percent: Decimal = Decimal(25)
    max_positions: int = 10
    daily_loss_limit_percent: Decimal = Decimal(5)
    max_drawdown_percent: Decimal = Decimal(10)
    max_margin_utilisation_percent: Decimal = Decimal(80)
    losing_streak_limit: int = 3  # losing trades in a row before the cooldown (0: no cooldown)
    cooldown_seconds: int = 300
    safe_mode: bool = False
    # exits
    take_profit_roe: Decimal = Decimal("1.5")
    stop_loss_roe: Decimal = Decimal("-0.5")
    trailing_activation_roe: Decimal = Decimal("1.0")  # 0 disables trailing
    trailing_callback_roe: Decimal = Decimal("0.4")
    max_holding_seconds: int = 300  # 0 disables the time limit
    trail_min_interval_s: float = 1.0
    # execution
    entry_mode: EntryMode = EntryMode.MARKET
    entry_timeout_s: float = 5.0
    max_reprices: int = 2
    market_fallback: bool = True
    client_id_prefix: str = "fs"
    session: str = ""  # empty: derived from the clock at start (unique per run)
    send_attempts: int = 3
    ack_timeout_s: float = 5.0
    lost_after: int = 3
    # loop
    min_confidence: float = 0.0  # signals below this are ignored (the strategy has its own floor too)
    timer_interval_s: float = 0.25
    equity_sample_interval_s: float = 5.0
    reconcile_interval_s: float = 0.0  # periodic reconciliation (0: only at start and reconnects)

    @classmethod
    def from_settings(cls, trade: Any, general: Any, **overrides: Any) -> BotConfig:
        """From a venue's trade params (``ParadexSettings`` / ``AsterSettings``) and ``GeneralSettings``."""
        values: dict[str, Any] = {
            "markets": tuple(trade.markets),
            "leverage": trade.leverage,
            "position_size_percent": trade.position_size_percent,
            "max_positions": trade.max_positions,
            "take_profit_roe": trade.take_profit_roe,
            "stop_loss_roe": trade.stop_loss_roe,
            "safe_mode": general.safe_mode,
            "daily_loss_limit_percent": general.daily_loss_limit_percent,
            "max_drawdown_percent": general.max_drawdown_percent,
            "max_margin_utilisation_percent": general.max_margin_utilisation_percent,
            "max_holding_seconds": general.max_holding_seconds,
            "trailing_activation_roe": general.trailing_activation_roe,
            "trailing_callback_roe": general.trailing_callback_roe,
            "losing_streak_limit": general.losing_streak_limit,
            "cooldown_seconds": general.cooldown_seconds,
            "client_id_prefix": general.client_id_prefix,
        }
        known = {f.name for f in fields(cls)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown BotConfig field(s): {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(**values)

    def with_changes(self, **changes: Any) -> BotConfig:
        return replace(self, **changes)

    def risk_limits(self) -> RiskLimits:
        return RiskLimits(
            leverage=self.leverage, position_size_percent=self.position_size_percent,
            max_positions=self.max_positions, max_margin_utilisation_percent=self.max_margin_utilisation_percent,
            daily_loss_limit_percent=self.daily_loss_limit_percent, max_drawdown_percent=self.max_drawdown_percent,
            losing_streak_limit=self.losing_streak_limit, cooldown_seconds=self.cooldown_seconds,
            safe_mode=self.safe_mode,
        )

    def executor_config(self, session: str) -> ExecutorConfig:
        return ExecutorConfig(
            client_id_prefix=self.client_id_prefix, session=session, entry_mode=self.entry_mode,
            entry_timeout_s=self.entry_timeout_s, max_reprices=self.max_reprices,
            market_fallback=self.market_fallback, send_attempts=self.send_attempts,
            ack_timeout_s=self.ack_timeout_s, lost_after=self.lost_after,
        )

    def exit_config(self) -> ExitConfig:
        return ExitConfig(
            take_profit_roe=self.take_profit_roe, stop_loss_roe=self.stop_loss_roe,
            trailing_activation_roe=self.trailing_activation_roe,
            trailing_callback_roe=self.trailing_callback_roe, max_holding_seconds=self.max_holding_seconds,
            trail_min_interval_s=self.trail_min_interval_s,
        )
