"""A seeded market generator that keeps the simulator's books, trades and funding alive.

Per market there is a fair-price process (volatility regimes plus jumps) that also drives the mark
price, one liquidity agent quoting several levels around it (a normal engine account, skewing against
its inventory and around a slowly wandering basis so funding has a premium to pay), and a few taker
agents that send market orders at random times. The same seed always gives the same trades.

    sim = MarketSimulator(exchange, seed=7, speed=1.0)
    clock.advance(250); sim.step(250)   # or: sim.run(clock, duration_ms=60_000, step_ms=250)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import Decimal

from flashscalper.clock import ManualClock
from flashscalper.domain import OrderRequest, OrderType, Side, TimeInForce
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.markets import MarketSpec
from flashscalper.sim.orders import OrderValidationError

_MS_PER_YEAR = 365 * 24 * 3_600_000


@dataclass(frozen=True, slots=True)
class Regime:
    """A volatility regime: annualised volatility and the jump intensity (per hour) and size (stdev)."""

    name: str
    annual_vol: float
    jumps_per_hour: float
    jump_stdev: float


REGIMES = (
    Regime("calm", 0.35, 0.2, 0.002),
    Regime("normal", 0.65, 0.5, 0.004),
    Regime("volatile", 1.40, 2.0, 0.010),
)


class MidProcess:
    """Fair price of one market: geometric Brownian motion whose volatility switches between regimes
    (Markov, about every 10 simulated minutes) with Poisson jumps. Floats inside, Decimals out."""

    def __init__(self, spec: MarketSpec, rng: random.Random, regime_minutes: float = 10.0) -> None:
        self.spec = spec
        self.rng = rng
        self.price = float(spec.initial_price)
        self.regime = REGIMES[1]
        self._switch_per_ms = 1.0 / (regime_minutes * 60_000)

    def advance(self, dt_ms: float) -> None:
        rng = self.rng
        if rng.random() < dt_ms * self._switch_per_ms:
            self.regime = rng.choice(REGIMES)
        sigma = self.regime.annual_vol * math.sqrt(dt_ms / _MS_PER_YEAR)
        log_return = rng.gauss(0.0, sigma) - 0.5 * sigma * sigma
        if rng.random() < self.regime.jumps_per_hour * dt_ms / 3_600_000:
            log_return += rng.gauss(0.0, self.regime.jump_stdev)
        self.price *= math.exp(log_return)

    def jump(self, fraction: float) -> None:
        """Move the fair price by ``fraction`` at once (the admin "price jump")."""
        self.price *= 1.0 + fraction

    def decimal(self) -> Decimal:
        return self.spec.market.round_price(Decimal(repr(self.price)))


class LiquidityAgent:
    """Quotes ``levels`` bids and asks around fair price (+ basis), skewed against its inventory."""

    def __init__(self, exchange: SimExchange, account: str, spec: MarketSpec, rng: random.Random, *,
                 levels: int = 5, spread_bps: float = 0.6, level_step_bps: float = 1.0,
                 level_notional: float = 25_000.0) -> None:
        self.exchange = exchange
        self.account = account
        self.spec = spec
        self.rng = rng
        self.levels = levels
        self.spread_bps = spread_bps
        self.level_step_bps = level_step_bps
        self.level_notional = level_notional
        self.basis_bps = 0.0
        self._n = 0

    def requote(self, fair: float, dt_ms: float) -> None:
        """Replace every quote around ``fair``."""
        ex, market = self.exchange, self.spec.market
        # basis: mean-reverting random walk in bps, so the book mid drifts around mark and funding moves
        self.basis_bps += -0.01 * self.basis_bps * dt_ms / 1000 + self.rng.gauss(0.0, 0.3 * math.sqrt(dt_ms / 1000))
        inventory = float(ex.position(self.account, market.symbol).size) * fair
        skew_bps = -inventory / (self.level_notional * self.levels) * 2.0
        center = fair * (1 + (self.basis_bps + skew_bps) / 10_000)
        ex.cancel_all(self.account, market.symbol)
        for i in range(self.levels):
            offset = (self.spread_bps / 2 + i * self.level_step_bps) / 10_000
            notional = self.level_notional * (0.5 + self.rng.random())
            size = market.round_size(Decimal(repr(notional / fair)))
            for side, raw in ((Side.BUY, center * (1 - offset)), (Side.SELL, center * (1 + offset))):
                price = market.round_price(Decimal(repr(raw)), side)
                self._n += 1
                try:
                    ex.submit_order(self.account, OrderRequest(
                        market.symbol, side, OrderType.LIMIT, size, f"mm-{self._n}", price=price,
                        tif=TimeInForce.POST_ONLY))
                except OrderValidationError:
                    continue  # e.g. a level below min notional after a crash: skip it


class TakerAgent:
    """Sends market orders at Poisson times; leans towards flattening its own inventory."""

    def __init__(self, exchange: SimExchange, account: str, specs: list[MarketSpec], rng: random.Random, *,
                 orders_per_minute: float = 20.0, mean_notional: float = 3_000.0) -> None:
        self.exchange = exchange
        self.account = account
        self.specs = specs
        self.rng = rng
        self.rate_per_ms = orders_per_minute / 60_000
        self.mean_notional = mean_notional
        self._n = 0

    def act(self, dt_ms: float) -> None:
        rng, ex = self.rng, self.exchange
        arrivals = _poisson(rng, self.rate_per_ms * dt_ms)
        for _ in range(arrivals):
            spec = rng.choice(self.specs)
            market = spec.market
            mark = float(ex.mark_price(market.symbol))
            inventory = float(ex.position(self.account, market.symbol).size) * mark
            p_buy = 0.5 - max(-0.4, min(0.4, inventory / (self.mean_notional * 40)))
            side = Side.BUY if rng.random() < p_buy else Side.SELL
            notional = rng.lognormvariate(math.log(self.mean_notional), 0.8)
            size = market.round_size(Decimal(repr(notional / mark)))
            self._n += 1
            try:
                ex.submit_order(self.account, OrderRequest(market.symbol, side, OrderType.MARKET, size,
                                                           f"{self.account}-{self._n}"))
            except OrderValidationError:
                continue  # too small or too large for this market: a real trader would just retry


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; means here are small (a few per step)."""
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class MarketSimulator:
    """Drives fair prices, marks, quotes and takers for every market of ``exchange``."""

    def __init__(self, exchange: SimExchange, seed: int = 0, *, speed: float = 1.0, takers: int = 3,
                 collateral: Decimal = Decimal(50_000_000), markets: list[str] | None = None) -> None:
        self.exchange = exchange
        self.speed = speed
        symbols = markets or sorted(exchange.specs)
        self.processes: dict[str, MidProcess] = {}
        self.makers: dict[str, LiquidityAgent] = {}
        for symbol in symbols:
            spec = exchange.specs[symbol]
            rng = random.Random(f"{seed}:{symbol}")
            self.processes[symbol] = MidProcess(spec, rng)
            account = f"mm-{spec.market.base.lower()}"
            exchange.create_account(account, collateral)
            self.makers[symbol] = LiquidityAgent(exchange, account, spec, random.Random(f"{seed}:mm:{symbol}"))
        self.takers: list[TakerAgent] = []
        for i in range(takers):
            account = f"taker-{i}"
            exchange.create_account(account, collateral // 10)
            self.takers.append(TakerAgent(exchange, account, [exchange.specs[s] for s in symbols],
                                          random.Random(f"{seed}:taker:{i}")))
        for symbol, process in self.processes.items():
            exchange.set_mark_price(symbol, process.decimal())
            self.makers[symbol].requote(process.price, 0.0)

    def step(self, dt_ms: float) -> None:
        """Advance the simulated market by ``dt_ms`` × speed: prices, marks, quotes, takers, then
        ``exchange.tick()`` (funding, triggers, liquidations at the clock's now)."""
        dt = dt_ms * self.speed
        ex = self.exchange
        for symbol, process in self.processes.items():
            process.advance(dt)
            ex.set_mark_price(symbol, process.decimal())
            self.makers[symbol].requote(process.price, dt)
        for taker in self.takers:
            taker.act(dt)
        ex.tick()

    def jump(self, market: str, fraction: float) -> None:
        """Admin: move fair and mark price of ``market`` by ``fraction`` (e.g. -0.05) right now."""
        process = self.processes[market]
        process.jump(fraction)
        self.exchange.set_mark_price(market, process.decimal())
        self.makers[market].requote(process.price, 0.0)

    def run(self, clock: ManualClock, duration_ms: int, step_ms: int = 250) -> None:
        """Backtest helper: advance ``clock`` and the market together in virtual time."""
        elapsed = 0
        while elapsed < duration_ms:
            clock.advance(step_ms)
            self.step(step_ms)
            elapsed += step_ms
