"""Session statistics from closed trades and equity samples (what the demo prints at the end).

Drawdown is measured peak-to-trough on the equity samples when there are any, otherwise on the
running net P&L of the closed trades (then the percentage is relative to ``starting_equity`` when
known).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from flashscalper.domain import ZERO
from flashscalper.trading.bus import BotEvent, EquitySample, EventBus, TradeClosed
from flashscalper.trading.exits import ClosedTrade

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class StatsSummary:
    """``pnl`` is net of fees; ``gross_pnl`` before fees. ``win_rate`` is a percentage."""

    trades: int
    wins: int
    losses: int
    win_rate: Decimal
    pnl: Decimal
    gross_pnl: Decimal
    fees: Decimal
    max_drawdown: Decimal
    max_drawdown_percent: Decimal
    avg_duration_s: Decimal
    best_trade: Decimal
    worst_trade: Decimal
    exit_reasons: dict[str, int] = field(default_factory=dict)
    start_equity: Decimal | None = None
    end_equity: Decimal | None = None

    def lines(self) -> list[str]:
        """Human-readable lines for a terminal."""
        q = Decimal("0.01")
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(self.exit_reasons.items())) or "-"
        return [
            f"trades {self.trades} (wins {self.wins}, losses {self.losses}, win rate {self.win_rate.quantize(q)}%)",
            f"net pnl {self.pnl.quantize(q)} (gross {self.gross_pnl.quantize(q)}, fees {self.fees.quantize(q)})",
            f"max drawdown {self.max_drawdown.quantize(q)} ({self.max_drawdown_percent.quantize(q)}%)",
            f"avg duration {self.avg_duration_s.quantize(Decimal('0.1'))}s; best {self.best_trade.quantize(q)}, "
            f"worst {self.worst_trade.quantize(q)}",
            f"exits: {reasons}",
        ]


class SessionStats:
    """Accumulates closed trades and equity samples; ``summary()`` computes the figures."""

    def __init__(self, starting_equity: Decimal | None = None) -> None:
        self.starting_equity = starting_equity
        self.trades: list[ClosedTrade] = []
        self.equity: list[tuple[int, Decimal]] = []

    def attach(self, bus: EventBus) -> None:
        """Follow a bot's bus (trade closes and equity samples)."""
        bus.add_listener(self.on_event)

    def on_event(self, event: BotEvent) -> None:
        if isinstance(event, TradeClosed):
            self.add_trade(event.trade)
        elif isinstance(event, EquitySample):
            self.add_equity(event.ts, event.equity)

    def add_trade(self, trade: ClosedTrade) -> None:
        self.trades.append(trade)

    def add_equity(self, ts: int, equity: Decimal) -> None:
        if self.starting_equity is None:
            self.starting_equity = equity
        self.equity.append((ts, equity))

    def summary(self) -> StatsSummary:
        trades = self.trades
        wins = sum(1 for t in trades if t.is_win)
        net = [t.net_pnl for t in trades]
        gross = sum((t.pnl for t in trades), ZERO)
        fees = sum((t.fees for t in trades), ZERO)
        dd, dd_pct = self._drawdown(net)
        durations = [Decimal(t.duration_ms) / 1000 for t in trades]
        return StatsSummary(
            trades=len(trades),
            wins=wins,
            losses=sum(1 for t in trades if t.net_pnl < 0),
            win_rate=Decimal(wins) / len(trades) * HUNDRED if trades else ZERO,
            pnl=sum(net, ZERO),
            gross_pnl=gross,
            fees=fees,
            max_drawdown=dd,
            max_drawdown_percent=dd_pct,
            avg_duration_s=sum(durations, ZERO) / len(durations) if durations else ZERO,
            best_trade=max(net, default=ZERO),
            worst_trade=min(net, default=ZERO),
            exit_reasons=dict(Counter(t.reason.value for t in trades)),
            start_equity=self.starting_equity,
            end_equity=self.equity[-1][1] if self.equity else None,
        )

    def _drawdown(self, net: list[Decimal]) -> tuple[Decimal, Decimal]:
        if self.equity:
            curve = [e for _, e in self.equity]
        else:
            base = self.starting_equity or ZERO
            curve = [base]
            for pnl in net:
                curve.append(curve[-1] + pnl)
        peak, worst, worst_pct = None, ZERO, ZERO
        for value in curve:
            peak = value if peak is None else max(peak, value)
            drop = peak - value
            if drop > worst:
                worst = drop
            if peak > 0:
                worst_pct = max(worst_pct, drop / peak * HUNDRED)
        return worst, worst_pct
