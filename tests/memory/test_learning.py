"""Learning from outcomes: posterior figures checked by hand, bounds, persistence, and no look-ahead."""

from __future__ import annotations

import math
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from flashscalper.domain import Side
from flashscalper.memory.db import open_database
from flashscalper.memory.journal import Journal
from flashscalper.memory.learning import Learner, LearnerConfig
from flashscalper.memory.models import SetupStatsRow
from flashscalper.memory.setups import SetupKey
from flashscalper.strategy.base import Signal
from flashscalper.trading.exits import ClosedTrade, ExitReason

D = Decimal
BTC = "BTC-USD-PERP"
NORMAL_VOL = {"vol_regime": 1.0, "rsi": 55.0}
# 1R = 1 % ROE, flat priors that are easy to compute by hand, adjustments from the first trade
HAND = LearnerConfig(risk_roe=1.0, prior_wins=1, prior_losses=1, prior_strength=2, prior_var_shape=2,
                     prior_var_scale=1, min_trades=1)


def trade(r: float, closed_at: int, setup: str = "momentum_breakout", market: str = BTC,
          features: dict[str, float] | None = None) -> ClosedTrade:
    """A closed 1x trade of notional 100: its net P&L in quote equals its net ROE in %."""
    pnl = D(str(r))
    return ClosedTrade(market, Side.BUY, D(1), D(100), D(100) + pnl, pnl, D(0), closed_at - 60_000, closed_at,
                       ExitReason.TP if r > 0 else ExitReason.SL, D(1), pnl,
                       signal={"setup": setup, "confidence": 0.7, "features": features or NORMAL_VOL})


def signal(ts: int, setup: str = "momentum_breakout", market: str = BTC) -> Signal:
    return Signal(market, Side.BUY, 0.7, ("test",), dict(NORMAL_VOL), ts, setup, "scalper", D(100))


def test_posterior_matches_the_hand_computation() -> None:
    learner = Learner(HAND)
    for i, r in enumerate([2.0, -1.0, 2.0]):
        learner.observe(trade(r, 1_000 * (i + 1)))
    e = learner.estimate(SetupKey("momentum_breakout", BTC, "normal"))
    # Beta(1 + 2, 1 + 1): 3/5
    assert e.trades == 3 and e.wins == 2 and math.isclose(e.win_rate, 0.6)
    # the all-setup mean 3/(3+2) = 0.6 is the prior mean; μ = (2·0.6 + 3) / 5 = 0.84
    assert math.isclose(e.prior_mean_r, 0.6) and math.isclose(e.expectancy_r, 0.84)
    # aₙ = 3.5, bₙ = 1 + 6/2 + 2·3·0.4²/(2·5) = 4.096, var = 4.096 / (2.5·5)
    assert math.isclose(e.expectancy_sd, math.sqrt(4.096 / 12.5))
    conf, size, why = learner.adjust(signal(10_000))
    z = 0.84 / math.sqrt(4.096 / 12.5)
    assert math.isclose(conf, round(1 + z / 2 * 0.10, 4)) and size == D(1)  # more confidence, never more size
    assert "3 trades" in why and "60%" in why and "+0.84R" in why


def test_a_losing_setup_is_traded_smaller_and_with_less_confidence() -> None:
    learner = Learner(HAND)
    for i in range(6):
        learner.observe(trade(-1.0, 1_000 * (i + 1)))
    conf, size, why = learner.adjust(signal(10_000))
    # z = μ / sd with μ = (2·(-6/8) - 6) / 8 = -0.9375; bₙ = 1 + 0 + 2·6·(−1 + 0.75)²/16 = 1.046875
    z = -0.9375 / math.sqrt(1.046875 / (4 * 8))
    score = max(-1.0, z / 2)
    assert size == D(str(round(1 + score * 0.75, 4))) and size < 1
    assert math.isclose(conf, round(1 + score * 0.30, 4))
    assert "trading it less" in why


def test_too_few_trades_leave_the_signal_alone() -> None:
    learner = Learner(LearnerConfig(min_trades=5))
    for i in range(4):
        learner.observe(trade(-1.0, 1_000 * (i + 1)))
    assert learner.adjust(signal(10_000)) == (1.0, D(1), learner.adjust(signal(10_000)).explanation)
    assert "only 4 closed trade(s)" in learner.adjust(signal(10_000)).explanation


def test_only_trades_closed_before_the_signal_count() -> None:
    learner = Learner(HAND)
    for i, r in enumerate([1.0, 1.0, -1.0, -1.0, -1.0, -1.0]):
        learner.observe(trade(r, 1_000 * (i + 1)))  # closes at 1000 … 6000
    past = learner.adjust(signal(3_000))  # sees the two winners only (the 3000 close is not "before")
    replay = Learner(HAND)
    for i, r in enumerate([1.0, 1.0]):
        replay.observe(trade(r, 1_000 * (i + 1)))
    assert past == replay.adjust(signal(3_000))
    assert past.size_multiplier == 1 and "2 trades" in past.explanation
    # the later losses only matter for later signals
    assert learner.adjust(signal(7_000)).size_multiplier < 1
    # and learning more later never rewrites an earlier answer
    learner.observe(trade(-5.0, 8_000))
    assert learner.adjust(signal(3_000)) == past


def test_a_trade_reported_out_of_order_still_counts_only_before_its_close() -> None:
    learner = Learner(HAND)
    learner.observe(trade(1.0, 5_000))
    learner.observe(trade(-1.0, 2_000))  # arrives late
    assert learner.estimate(SetupKey("momentum_breakout", BTC, "normal"), before_ms=3_000).trades == 1
    assert learner.estimate(SetupKey("momentum_breakout", BTC, "normal"), before_ms=3_000).wins == 0


def test_setups_are_kept_apart_by_market_and_volatility_regime() -> None:
    learner = Learner(HAND)
    learner.observe(trade(1.0, 1_000, features={"vol_regime": 2.0}))
    learner.observe(trade(1.0, 2_000, market="ETH-USD-PERP"))
    learner.observe(trade(1.0, 3_000, setup="mean_reversion"))
    learner.observe(trade(1.0, 4_000))
    keys = {str(e.key) for e in learner.report()}
    assert keys == {f"momentum_breakout|{BTC}|high", "momentum_breakout|ETH-USD-PERP|normal",
                    f"mean_reversion|{BTC}|normal", f"momentum_breakout|{BTC}|normal"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=-5, max_value=5, allow_nan=False), min_size=0, max_size=40))
def test_multipliers_always_stay_within_their_bounds(outcomes: list[float]) -> None:
    config = LearnerConfig(min_trades=1)
    learner = Learner(config)
    for i, r in enumerate(outcomes):
        learner.observe(trade(round(r, 6), 1_000 * (i + 1)))
    conf, size, _ = learner.adjust(signal(1_000 * (len(outcomes) + 1)))
    assert D(str(config.min_size_multiplier)) <= size <= 1
    assert 1 - config.max_confidence_cut - 1e-9 <= conf <= 1 + config.max_confidence_boost + 1e-9


async def test_estimates_are_persisted_and_reloaded_from_the_journal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from flashscalper.memory.journal import JournalRecorder, SessionInfo
    from flashscalper.trading.bus import EventBus, TradeClosed

    url = f"sqlite:///{(tmp_path / 'j.sqlite').as_posix()}"
    journal = Journal(open_database(url))
    await journal.start()
    learner = Learner(HAND, journal=journal)
    bus = EventBus()
    JournalRecorder(journal, SessionInfo.new("s", "local", "paper", 0)).attach(bus)
    learner.attach(bus)
    for i, r in enumerate([2.0, -1.0, 2.0]):
        bus.publish(TradeClosed(trade(r, 1_000 * (i + 1)), 1_000 * (i + 1)))
    await journal.close()

    db = open_database(url)
    with db.session() as s:
        (row,) = s.scalars(select(SetupStatsRow)).all()
    assert (row.key, row.trades, row.wins) == (f"momentum_breakout|{BTC}|normal", 3, 2)
    assert math.isclose(row.expectancy_r, 0.84) and row.as_of == 3_000
    reloaded = Learner(HAND)
    assert reloaded.load_blocking(db) == 3
    assert reloaded.adjust(signal(10_000)) == learner.adjust(signal(10_000))
    db.close()
