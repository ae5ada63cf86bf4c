"""Learning from outcomes: per-setup Bayesian estimates that nudge confidence and trim size.

A *setup* is the signal's pattern × market × volatility regime (:mod:`flashscalper.memory.setups`).
Each closed trade contributes its net result in R multiples: ``r = net ROE / risk_roe`` where
``risk_roe`` is the ROE a stop-loss costs (``|stop_loss_roe|``), so 1R is one full stop.

Estimates, per setup, from its ``n`` trades closed *before* the moment asked about:

* win rate: Beta(α₀ + wins, β₀ + losses), posterior mean ``(α₀ + w) / (α₀ + β₀ + n)``;
* expectancy: Normal-Inverse-Gamma posterior of the mean R, centred on the all-setup mean
  (itself shrunk to 0): with prior (μ₀, κ₀, a₀, b₀), ``x̄`` and ``SS = Σ(r - x̄)²``::

      κₙ = κ₀ + n          μₙ = (κ₀·μ₀ + n·x̄) / κₙ
      aₙ = a₀ + n/2        bₙ = b₀ + SS/2 + κ₀·n·(x̄ − μ₀)² / (2·κₙ)
      sd(μ) = sqrt(bₙ / ((aₙ − 1)·κₙ))

``Learner.adjust(signal)`` turns ``z = μₙ / sd`` into multipliers: a setup that has lost trims size
down to ``min_size_multiplier`` and cuts confidence; one that has won may raise confidence a
little, but size never goes above 1× (risk caps stay where the risk engine puts them).
"""

from __future__ import annotations

import asyncio
import bisect
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select

from flashscalper.domain import ZERO
from flashscalper.memory.db import Database
from flashscalper.memory.journal import Journal, WriteOp
from flashscalper.memory.models import TradeRow
from flashscalper.memory.setups import SetupKey, setup_key
from flashscalper.strategy.base import Signal
from flashscalper.trading.bus import BotEvent, EventBus, TradeClosed
from flashscalper.trading.exits import ClosedTrade

__all__ = ["Adjustment", "Learner", "LearnerConfig", "SetupEstimate"]

HUNDRED = Decimal(100)
_SKIPPED_SETUPS = {"adopted", "unknown", ""}  # no signal opened these: nothing to learn about a setup


@dataclass(frozen=True, slots=True)
class LearnerConfig:
    """Priors and bounds. Defaults: a weak 50 % win-rate prior, expectancy shrunk by 10 pseudo-trades,
    never below 0.25× size, confidence within -30 % / +10 %."""

    risk_roe: float = 0.5  # ROE % of one R (the configured |stop_loss_roe|)
    prior_wins: float = 2.0  # Beta α₀
    prior_losses: float = 2.0  # Beta β₀
    prior_strength: float = 10.0  # κ₀: pseudo-trades at the all-setup mean
    prior_var_shape: float = 2.0  # a₀ of the variance prior
    prior_var_scale: float = 1.0  # b₀ (R²): with a₀ = 2, a prior R variance of about 1
    min_trades: int = 5  # fewer trades: no adjustment at all
    full_effect_z: float = 2.0  # |z| at which the full adjustment applies
    min_size_multiplier: float = 0.25
    max_confidence_boost: float = 0.10
    max_confidence_cut: float = 0.30

    def __post_init__(self) -> None:
        if self.risk_roe <= 0 or self.prior_wins <= 0 or self.prior_losses <= 0 or self.prior_strength <= 0:
            raise ValueError("risk_roe and the priors must be positive")
        if self.prior_var_shape <= 1 or self.prior_var_scale <= 0:
            raise ValueError("prior_var_shape must be above 1 and prior_var_scale positive")
        if not 0 <= self.min_size_multiplier <= 1:
            raise ValueError("min_size_multiplier must be within [0, 1]: learning never raises size")
        if not (0 <= self.max_confidence_boost <= 1 and 0 <= self.max_confidence_cut <= 1):
            raise ValueError("confidence bounds must be within [0, 1]")


class Adjustment(NamedTuple):
    """What learning suggests for one signal (unpacks as ``conf_mult, size_mult, why``)."""

    confidence_multiplier: float
    size_multiplier: Decimal  # within [min_size_multiplier, 1]
    explanation: str


@dataclass(frozen=True, slots=True)
class SetupEstimate:
    """The posterior view of one setup as of ``as_of`` (ms; trades closed strictly before it count)."""

    key: SetupKey
    trades: int
    wins: int
    win_rate: float
    expectancy_r: float
    expectancy_sd: float
    prior_mean_r: float
    confidence_multiplier: float
    size_multiplier: float
    explanation: str
    as_of: int
    sum_r: float = 0.0
    sum_r2: float = 0.0

    @property
    def raw_mean_r(self) -> float:
        return self.sum_r / self.trades if self.trades else 0.0

    @property
    def z(self) -> float:
        return self.expectancy_r / self.expectancy_sd if self.expectancy_sd > 0 else 0.0


@dataclass(slots=True)
class _History:
    """Outcomes of one bucket ordered by close time, with prefix sums for O(log n) as-of queries."""

    closed_at: list[int] = field(default_factory=list)
    outcomes: list[tuple[float, bool]] = field(default_factory=list)
    cum: list[tuple[int, int, float, float]] = field(default_factory=lambda: [(0, 0, 0.0, 0.0)])

    def add(self, closed_at: int, r: float, win: bool) -> None:
        if self.closed_at and closed_at < self.closed_at[-1]:  # out of order: rebuild the sums
            i = bisect.bisect_right(self.closed_at, closed_at)
            self.closed_at.insert(i, closed_at)
            self.outcomes.insert(i, (r, win))
            self.cum = [(0, 0, 0.0, 0.0)]
            for rr, ww in self.outcomes:
                self._push(rr, ww)
            return
        self.closed_at.append(closed_at)
        self.outcomes.append((r, win))
        self._push(r, win)

    def _push(self, r: float, win: bool) -> None:
        n, w, s, q = self.cum[-1]
        self.cum.append((n + 1, w + int(win), s + r, q + r * r))

    def before(self, ts: int | None) -> tuple[int, int, float, float]:
        """(n, wins, Σr, Σr²) of the trades closed strictly before ``ts`` (all when None)."""
        i = len(self.closed_at) if ts is None else bisect.bisect_left(self.closed_at, ts)
        return self.cum[i]

    def last_close(self) -> int:
        return self.closed_at[-1] if self.closed_at else 0


class Learner:
    """Per-setup statistics from closed trades, queried "as of" a signal's time (no look-ahead).

    ::

        learner = Learner(LearnerConfig(risk_roe=0.5), journal=journal)
        await learner.load(journal.db)       # every trade already journaled
        learner.attach(bot.bus)              # keeps learning as trades close
        conf_mult, size_mult, why = learner.adjust(signal)
    """

    def __init__(self, config: LearnerConfig | None = None, *, journal: Journal | None = None) -> None:
        self.config = config or LearnerConfig()
        self.journal = journal
        self._setups: dict[SetupKey, _History] = {}
        self._all = _History()

    # ---- feeding ---------------------------------------------------------------------------------

    def attach(self, bus: EventBus) -> None:
        """Learn from every ``TradeClosed`` on ``bus``."""
        bus.add_listener(self._on_event)

    def _on_event(self, event: BotEvent) -> None:
        if isinstance(event, TradeClosed):
            self.observe(event.trade)

    def observe(self, trade: ClosedTrade) -> SetupEstimate | None:
        """Add one closed trade; persist the setup's new estimate when a journal is attached."""
        signal = trade.signal or {}
        setup = str(signal.get("setup") or ("adopted" if trade.adopted else ""))
        features = signal.get("features")
        key = setup_key(setup, trade.market, features if isinstance(features, dict) else None)
        margin = trade.entry_price * trade.size / trade.leverage if trade.leverage else ZERO
        net_roe = trade.net_pnl / margin * HUNDRED if margin else ZERO
        return self.add_outcome(key, trade.closed_at, float(net_roe), trade.is_win)

    def add_outcome(self, key: SetupKey, closed_at: int, net_roe: float, win: bool) -> SetupEstimate | None:
        """Add one outcome given as net ROE in percent (what the journal stores)."""
        if key.setup in _SKIPPED_SETUPS or not math.isfinite(net_roe):
            return None
        r = net_roe / self.config.risk_roe
        self._setups.setdefault(key, _History()).add(closed_at, r, win)
        self._all.add(closed_at, r, win)
        estimate = self.estimate(key)
        if self.journal is not None:
            self.journal.submit(WriteOp("setup_stats", _stats_row(estimate), "upsert"))
        return estimate

    async def load(self, db: Database) -> int:
        """Learn from every trade in the journal (in a worker thread). Returns how many counted."""
        return await asyncio.to_thread(self.load_blocking, db)

    def load_blocking(self, db: Database) -> int:
        """As :meth:`load`, for synchronous callers (the CLI)."""
        journal, self.journal = self.journal, None  # these are persisted already
        counted = 0
        try:
            with db.engine.connect() as conn:
                rows = conn.execute(select(TradeRow.setup_key, TradeRow.closed_at, TradeRow.net_roe,
                                           TradeRow.net_pnl).order_by(TradeRow.closed_at, TradeRow.id))
                for key_text, closed_at, net_roe, net_pnl in rows:
                    if self.add_outcome(SetupKey.parse(key_text), closed_at, float(net_roe), net_pnl > 0):
                        counted += 1
        finally:
            self.journal = journal
        return counted

    # ---- asking ----------------------------------------------------------------------------------

    def estimate(self, key: SetupKey, before_ms: int | None = None) -> SetupEstimate:
        """The posterior for ``key`` from trades closed strictly before ``before_ms`` (all when None)."""
        c = self.config
        history = self._setups.get(key)
        n, wins, s, q = history.before(before_ms) if history else (0, 0, 0.0, 0.0)
        g_n, _, g_s, _ = self._all.before(before_ms)
        prior_mean = g_s / (g_n + c.prior_strength)  # the all-setup mean, itself shrunk towards 0
        kappa = c.prior_strength + n
        mean = (c.prior_strength * prior_mean + s) / kappa
        xbar = s / n if n else 0.0
        ss = max(q - s * s / n, 0.0) if n else 0.0
        shape = c.prior_var_shape + n / 2
        scale = c.prior_var_scale + ss / 2 + c.prior_strength * n * (xbar - prior_mean) ** 2 / (2 * kappa)
        sd = math.sqrt(scale / ((shape - 1) * kappa))
        win_rate = (c.prior_wins + wins) / (c.prior_wins + c.prior_losses + n)
        conf_mult, size_mult = self._multipliers(n, mean, sd)
        as_of = before_ms if before_ms is not None else (history.last_close() if history else 0)
        estimate = SetupEstimate(key, n, wins, win_rate, mean, sd, prior_mean, conf_mult, size_mult, "", as_of, s, q)
        return _with_explanation(estimate, c)

    def _multipliers(self, n: int, mean: float, sd: float) -> tuple[float, float]:
        c = self.config
        if n < c.min_trades or sd <= 0:
            return 1.0, 1.0
        score = max(-1.0, min(1.0, mean / sd / c.full_effect_z))
        if score >= 0:
            return 1.0 + score * c.max_confidence_boost, 1.0
        return 1.0 + score * c.max_confidence_cut, 1.0 + score * (1.0 - c.min_size_multiplier)

    def adjust(self, signal: Signal) -> Adjustment:
        """Multipliers for ``signal`` from the trades of its setup closed before ``signal.ts``.

        ``size_multiplier`` is within [min_size_multiplier, 1]: learning can trade a setup smaller,
        never bigger. Apply confidence as ``min(1, confidence × confidence_multiplier)``.
        """
        estimate = self.estimate(setup_key(signal.setup, signal.market, signal.features), before_ms=signal.ts)
        size = Decimal(str(round(min(1.0, estimate.size_multiplier), 4)))
        return Adjustment(round(estimate.confidence_multiplier, 4), size, estimate.explanation)

    def report(self, before_ms: int | None = None) -> list[SetupEstimate]:
        """Every setup's estimate, most traded first (what ``flashscalper memory`` prints)."""
        estimates = [self.estimate(key, before_ms) for key in self._setups]
        return sorted((e for e in estimates if e.trades), key=lambda e: (-e.trades, str(e.key)))


def _with_explanation(e: SetupEstimate, c: LearnerConfig) -> SetupEstimate:
    head = f"{e.key.describe()}: "
    if e.trades < c.min_trades:
        why = (f"{head}only {e.trades} closed trade(s) so far (need {c.min_trades}); trading it normally "
               f"(confidence ×1.00, size ×1.00)")
    else:
        if e.size_multiplier < 1.0:
            verdict = "trading it less"
        elif e.confidence_multiplier > 1.0:
            verdict = "trading it with a little more confidence (size stays capped at ×1.00)"
        else:
            verdict = "no clear edge either way; trading it normally"
        why = (f"{head}{e.trades} trades, {e.wins} wins; win rate {e.win_rate:.0%} (Beta posterior), "
               f"expectancy {e.expectancy_r:+.2f}R ± {e.expectancy_sd:.2f} (raw {e.raw_mean_r:+.2f}R, shrunk "
               f"toward the all-setup {e.prior_mean_r:+.2f}R) → {verdict}: confidence "
               f"×{e.confidence_multiplier:.2f}, size ×{e.size_multiplier:.2f}")
    return replace(e, explanation=why)


def _stats_row(e: SetupEstimate) -> dict[str, object]:
    return {
        "key": str(e.key), "setup": e.key.setup, "market": e.key.market, "regime": e.key.regime,
        "trades": e.trades, "wins": e.wins, "sum_r": e.sum_r, "sum_r2": e.sum_r2, "win_rate": e.win_rate,
        "expectancy_r": e.expectancy_r, "expectancy_sd": e.expectancy_sd, "size_multiplier": e.size_multiplier,
        "confidence_multiplier": e.confidence_multiplier, "explanation": e.explanation, "as_of": e.as_of,
    }
