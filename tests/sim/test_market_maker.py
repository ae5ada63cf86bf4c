"""The market generator: alive (trades, two-sided books, funding) and deterministic per seed."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.clock import ManualClock
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.events import TradeEvent
from flashscalper.sim.market_maker import MarketSimulator


def _trade_tape(seed: int, minutes: int = 10) -> list[tuple[str, str, Decimal, Decimal, str]]:
    clock = ManualClock()
    ex = SimExchange(clock)
    tape: list[tuple[str, str, Decimal, Decimal, str]] = []
    ex.subscribe(lambda e: tape.append((e.trade.market, e.trade.id, e.trade.price, e.trade.size,
                                        e.trade.taker_side)) if isinstance(e, TradeEvent) else None)
    MarketSimulator(ex, seed=seed).run(clock, duration_ms=minutes * 60_000, step_ms=1_000)
    return tape


def test_same_seed_gives_the_same_trades() -> None:
    first = _trade_tape(seed=7)
    assert len(first) > 100
    assert _trade_tape(seed=7) == first
    assert _trade_tape(seed=8) != first


def test_market_looks_alive_for_an_hour_and_money_is_conserved() -> None:
    clock = ManualClock()
    ex = SimExchange(clock, funding_interval_ms=300_000)  # funding runs on the clock: settle every 5 min
    sim = MarketSimulator(ex, seed=3, speed=4.0)  # 4x: 15 minutes of clock cover an hour of price action
    start = {m: ex.mark_price(m) for m in ex.specs}
    sim.run(clock, duration_ms=60 * 60_000 // 4 + 1_000, step_ms=1_000)
    for market in ex.specs:
        quote = ex.bbo(market)
        assert quote is not None and quote.bid < quote.ask
        assert len(ex.book_snapshot(market, depth=15).bids) >= 3  # takers may have eaten a level or two
        assert ex.recent_trades(market)
        assert ex.mark_price(market) != start[market]
    assert all(len(ex.funding_history(m)) == 3 for m in ex.specs)
    assert any(row.rate for m in ex.specs for row in ex.funding_history(m))  # the basis makes a premium
    assert any(ex.funding_payments(a) for a in ex.accounts())
    assert ex.total_equity() == ex.deposits


def test_jump_moves_mark_and_requotes_around_it() -> None:
    clock = ManualClock()
    ex = SimExchange(clock)
    sim = MarketSimulator(ex, seed=1)
    before = ex.mark_price("BTC-USD-PERP")
    sim.jump("BTC-USD-PERP", -0.05)
    after = ex.mark_price("BTC-USD-PERP")
    assert abs(after / before - Decimal("0.95")) < Decimal("0.0001")
    quote = ex.bbo("BTC-USD-PERP")
    assert quote is not None and abs(quote.mid / after - 1) < Decimal("0.002")
