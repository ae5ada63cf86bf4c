"""Risk engine scenarios: limits move the state, the state gates orders, every move is recorded."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from flashscalper.clock import ManualClock
from flashscalper.domain import Balance, Market, Side
from flashscalper.trading.risk import (
    Decision,
    OrderIntent,
    RiskEngine,
    RiskLimits,
    RiskState,
    RiskTransition,
)

from .conftest import HOUR_MS, START_MS

D = Decimal
ACTIVE, REDUCING, HALTED = RiskState.ACTIVE, RiskState.REDUCING, RiskState.HALTED


def entry(market: Market, **overrides: object) -> OrderIntent:
    """A fresh long entry on a 10 000 USD account with nothing open."""
    fields: dict[str, object] = {
        "market": market, "side": Side.BUY, "price": D(60_000), "equity": D(10_000),
    }
    fields.update(overrides)
    return OrderIntent(**fields)  # type: ignore[arg-type]


def close_long(market: Market, held: Decimal = D("0.05"), size: Decimal | None = None) -> OrderIntent:
    return OrderIntent(
        market=market, side=Side.SELL, price=D(60_000), size=size, reduce_only=True,
        position_size=held, open_positions=1, equity=D(10_000),
    )


@pytest.fixture
def engine(clock: ManualClock) -> RiskEngine:
    eng = RiskEngine(RiskLimits(), clock)
    eng.on_equity(D(10_000))
    return eng


# ---- limits -------------------------------------------------------------------------------------


def test_limits_defaults_and_safe_mode_caps() -> None:
    limits = RiskLimits()
    assert (limits.leverage, limits.position_size_percent, limits.max_positions) == (D(10), D(25), 10)
    assert limits.effective() is limits

    safe = RiskLimits(safe_mode=True).effective()
    assert (safe.leverage, safe.position_size_percent, safe.max_positions) == (D(3), D(5), 2)
    assert safe.effective() == safe  # applying the caps twice changes nothing
    # a value already under a cap is kept
    gentle = RiskLimits(leverage=D(2), position_size_percent=D(1), max_positions=1, safe_mode=True).effective()
    assert (gentle.leverage, gentle.position_size_percent, gentle.max_positions) == (D(2), D(1), 1)


def test_limits_accept_ints_and_numeric_strings_as_decimals() -> None:
    limits = RiskLimits(leverage=5, daily_loss_limit_percent="2.5")  # type: ignore[arg-type]
    assert limits.leverage == D(5) and isinstance(limits.leverage, Decimal)
    assert limits.daily_loss_limit_percent == D("2.5")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"leverage": D(0)}, "leverage must be positive"),
        ({"leverage": 2.5}, "leverage must be a Decimal, int or numeric string (not float)"),
        ({"position_size_percent": D(120)}, "position_size_percent must be a percentage above 0 and at most 100"),
        ({"daily_loss_limit_percent": D(-1)}, "daily_loss_limit_percent must be a percentage"),
        ({"max_drawdown_percent": "ten"}, "max_drawdown_percent must be a number"),
        ({"max_positions": 0}, "max_positions must be at least 1"),
        ({"max_positions": True}, "max_positions must be a whole number"),
        ({"cooldown_seconds": -5}, "cooldown_seconds must not be negative"),
        ({"margin_resume_percent": D(90)}, "margin_resume_percent (90) must not exceed"),
        ({"safe_mode": "yes"}, "safe_mode must be true or false"),
        ({"leverage": D("NaN")}, "leverage must be a finite number"),
    ],
)
def test_bad_limits_are_refused_with_a_clear_message(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        RiskLimits(**kwargs)  # type: ignore[arg-type]


# ---- the gate in ACTIVE -------------------------------------------------------------------------


def test_active_engine_sizes_and_allows_an_entry(engine: RiskEngine, btc: Market) -> None:
    decision = engine.check(entry(btc))
    # free collateral 10 000 × 25% × 10 / 60 000 = 0.41666 → 0.416 BTC, margin 2496 = 24.96% of equity
    assert decision.allowed and decision
    assert decision.size == D("0.416")
    assert "entry allowed" in decision.reason
    assert "margin utilisation 24.96% after" in decision.reason


def test_entry_refused_when_max_positions_reached(clock: ManualClock, btc: Market) -> None:
    engine = RiskEngine(RiskLimits(max_positions=3), clock)
    refused = engine.check(entry(btc, open_positions=3))
    assert not refused.allowed
    assert refused.size == 0
    assert "max positions reached (3 open, limit 3)" in refused.reason
    # adding to a position already open in this market is not a new position
    assert engine.check(entry(btc, open_positions=3, position_size=D("0.1"), size=D("0.01"))).allowed


def test_entry_refused_when_margin_after_the_trade_would_exceed_the_limit(engine: RiskEngine, btc: Market) -> None:
    # 6 000 of 10 000 already in use; 0.5 BTC at 60 000 needs 3 000 more at 10x → 90% > 80%
    refused = engine.check(entry(btc, size=D("0.5"), margin_in_use=D(6_000), open_positions=2))
    assert not refused.allowed
    assert "margin utilisation would be 90.00% after this order (limit 80%)" in refused.reason
    # a smaller order fits: 0.3 BTC → 1 800 more → 78%
    assert engine.check(entry(btc, size=D("0.3"), margin_in_use=D(6_000), open_positions=2)).allowed


def test_given_entry_size_is_fitted_to_the_market(engine: RiskEngine, btc: Market, doge: Market) -> None:
    assert engine.check(entry(btc, size=D("0.12345"))).size == D("0.123")
    tiny = engine.check(entry(doge, price=D("0.1"), size=D(20)))  # 2 USDT < 5 USDT minimum
    assert not tiny.allowed
    assert "below DOGEUSDT's minimum 5 USDT" in tiny.reason


def test_reduce_only_orders_cannot_grow_a_position(engine: RiskEngine, btc: Market) -> None:
    grow = OrderIntent(market=btc, side=Side.BUY, price=D(60_000), size=D("0.01"), reduce_only=True,
                       position_size=D("0.05"))
    refused = engine.check(grow)
    assert not refused.allowed
    assert "would grow the long BTC-USD-PERP position" in refused.reason

    flat = engine.check(close_long(btc, held=D(0)))
    assert not flat.allowed
    assert "no BTC-USD-PERP position to reduce" in flat.reason

    # too large a reduce-only is clamped to the position, never flipped
    oversize = engine.check(close_long(btc, held=D("0.05"), size=D(1)))
    assert oversize.allowed and oversize.size == D("0.05")
    partial = engine.check(close_long(btc, held=D("0.05"), size=D("0.0205")))
    assert partial.allowed and partial.size == D("0.020")


# ---- daily loss limit ---------------------------------------------------------------------------


def test_daily_loss_limit_halts_entries_but_lets_exits_out(engine: RiskEngine, clock: ManualClock, btc: Market) -> None:
    clock.advance(HOUR_MS)
    assert engine.on_equity(D(9_600)) is ACTIVE  # -4%: within the 5% limit
    clock.advance(HOUR_MS)
    assert engine.on_equity(D(9_500)) is HALTED  # -5%: limit hit

    last = engine.transitions[-1]
    assert (last.from_state, last.to_state, last.ts) == (ACTIVE, HALTED, START_MS + 2 * HOUR_MS)
    assert "daily loss limit hit: equity 9500 is 5.00% below start-of-day 10000 (limit 5%)" in last.reason

    refused = engine.check(entry(btc, equity=D(9_500)))
    assert not refused.allowed
    assert "risk state is HALTED (daily loss limit hit" in refused.reason
    exit_ = engine.check(close_long(btc))
    assert exit_.allowed and exit_.size == D("0.05")

    # recovering the same day does not lift it: the daily limit is latched for the day
    assert engine.on_equity(D(9_900)) is HALTED
    # a person cannot resume past it either
    assert engine.resume("let me trade") is HALTED


def test_next_utc_day_lifts_the_daily_halt_and_resets_the_baseline(clock: ManualClock, btc: Market) -> None:
    engine = RiskEngine(RiskLimits(max_drawdown_percent=D(50)), clock)  # only the daily limit in play
    engine.on_equity(D(10_000))
    engine.on_equity(D(9_400))
    assert engine.state is HALTED
    clock.advance(14 * HOUR_MS)  # 10:00 → 00:00 UTC next day
    assert engine.on_equity(D(9_400)) is ACTIVE
    assert engine.status().start_of_day_equity == D(9_400)
    lifted = engine.transitions[-1]
    assert (lifted.from_state, lifted.to_state) == (HALTED, ACTIVE)
    assert "new UTC day 2024-03-02" in lifted.reason and "daily loss limit lifted" in lifted.reason
    assert engine.check(entry(btc, equity=D(9_400))).allowed
    # the new day's limit counts from the new baseline: 5% of 9 400 = 470
    assert engine.on_equity(D(8_931)) is ACTIVE
    assert engine.on_equity(D(8_930)) is HALTED


def test_new_day_does_not_lift_a_manual_halt(engine: RiskEngine, clock: ManualClock) -> None:
    engine.halt("streamer went for lunch")
    engine.on_equity(D(9_400))  # daily limit hit too (-6%), drawdown still within 10%
    assert len(engine.reasons()) == 2
    clock.advance(14 * HOUR_MS)
    assert engine.on_equity(D(9_400)) is HALTED
    assert engine.reasons() == ("manual: streamer went for lunch",)
    assert engine.resume() is ACTIVE


# ---- drawdown -----------------------------------------------------------------------------------


def test_drawdown_from_session_peak_halts_until_a_person_resumes(clock: ManualClock, btc: Market) -> None:
    engine = RiskEngine(RiskLimits(daily_loss_limit_percent=D(50), max_drawdown_percent=D(10)), clock)
    for equity in (10_000, 11_000, 12_000):
        engine.on_equity(D(equity))
        clock.advance(HOUR_MS)
    assert engine.status().peak_equity == D(12_000)
    assert engine.on_equity(D(10_900)) is ACTIVE  # 9.17% below the peak
    assert engine.on_equity(D(10_800)) is HALTED  # 10%
    assert "max drawdown hit: equity 10800 is 10.00% below the session peak 12000" in engine.transitions[-1].reason
    assert not engine.check(entry(btc, equity=D(10_800))).allowed

    # resuming while still beyond the limit is refused
    assert engine.resume() is HALTED
    # recovering does not lift it by itself (latched) ...
    assert engine.on_equity(D(11_500)) is HALTED
    # ... a person resuming once equity is back above the floor does
    assert engine.resume("drawdown reviewed") is ACTIVE
    assert engine.transitions[-1].reason == "drawdown reviewed"


def test_equity_wiped_out_halts(engine: RiskEngine) -> None:
    assert engine.on_equity(D(0)) is HALTED
    assert "account equity is 0 (zero or negative)" in engine.reasons()


# ---- margin utilisation -------------------------------------------------------------------------


def test_margin_utilisation_above_limit_reduces_until_it_falls_back(engine: RiskEngine, btc: Market) -> None:
    assert engine.on_equity(D(10_000), margin_in_use=D(8_000)) is ACTIVE  # exactly 80% is allowed
    assert engine.on_equity(D(10_000), margin_in_use=D(8_500)) is REDUCING
    assert "margin utilisation 85.00% above the 80% limit" in engine.transitions[-1].reason
    assert engine.status().margin_utilisation_percent == D(85)

    refused = engine.check(entry(btc, margin_in_use=D(8_500), open_positions=1))
    assert not refused.allowed and "risk state is REDUCING" in refused.reason
    assert engine.check(close_long(btc)).allowed

    assert engine.on_equity(D(10_000), margin_in_use=D(7_000)) is ACTIVE
    assert "margin utilisation 70.00% back under 80%" in engine.transitions[-1].reason


def test_margin_resume_level_adds_hysteresis(clock: ManualClock) -> None:
    engine = RiskEngine(RiskLimits(margin_resume_percent=D(60)), clock)
    balance = Balance(asset="USD", wallet=D(10_000), equity=D(10_000), available=D(1_000),
                      initial_margin=D(9_000), updated_at=START_MS)
    assert engine.on_balance(balance) is REDUCING
    assert engine.on_equity(D(10_000), margin_in_use=D(7_000)) is REDUCING  # under 80 but above 60
    assert engine.on_equity(D(10_000), margin_in_use=D(6_000)) is ACTIVE


def test_margin_clearing_while_halted_keeps_the_halt(engine: RiskEngine) -> None:
    engine.on_equity(D(10_000), margin_in_use=D(9_000))
    engine.halt("manual stop")
    assert engine.on_equity(D(10_000), margin_in_use=D(1_000)) is HALTED
    assert engine.resume() is ACTIVE


# ---- a person at the controls -------------------------------------------------------------------


def test_manual_pause_halt_and_resume(engine: RiskEngine, btc: Market) -> None:
    assert engine.pause_entries("chat asked for a break") is REDUCING
    assert not engine.check(entry(btc)).allowed
    assert engine.check(close_long(btc)).allowed

    assert engine.halt("something looks off") is HALTED
    assert engine.check(close_long(btc)).allowed  # exits still get out
    assert engine.set_state(ACTIVE, "all clear") is ACTIVE
    assert engine.check(entry(btc)).allowed

    assert [(t.from_state, t.to_state) for t in engine.transitions] == [
        (ACTIVE, REDUCING), (REDUCING, HALTED), (HALTED, ACTIVE),
    ]
    assert [t.reason for t in engine.transitions] == [
        "manual: chat asked for a break", "manual: something looks off", "all clear",
    ]


def test_resume_keeps_reducing_while_margin_is_still_too_high(engine: RiskEngine) -> None:
    engine.on_equity(D(10_000), margin_in_use=D(9_000))
    engine.halt("stop")
    assert engine.resume("go") is REDUCING
    last = engine.transitions[-1]
    assert (last.from_state, last.to_state) == (HALTED, REDUCING)
    assert "go; still REDUCING because margin utilisation 90.00%" in last.reason


# ---- losing streak cooldown ---------------------------------------------------------------------


def test_losing_streak_cools_down_entries_until_the_clock_moves_on(
    engine: RiskEngine, clock: ManualClock, btc: Market
) -> None:
    engine.on_trade_closed(D(-12))
    engine.on_trade_closed(D(-8))
    engine.on_trade_closed(D(5))  # a win ends the streak
    engine.on_trade_closed(D(-3))
    engine.on_trade_closed(D(0))  # a scratch neither ends nor extends it
    engine.on_trade_closed(D(-4))
    assert engine.check(entry(btc)).allowed  # two losses in a row so far

    engine.on_trade_closed(D(-6))  # third in a row → 300 s cooldown
    refused = engine.check(entry(btc))
    assert not refused.allowed
    assert "cooling down after 3 losing trades in a row until 10:05:00 UTC (300s left)" in refused.reason
    assert engine.check(close_long(btc)).allowed  # exits are never cooled down
    assert engine.state is ACTIVE  # a cooldown is a lock on entries, not a state change

    clock.advance(299_000)
    assert not engine.check(entry(btc)).allowed
    clock.advance(1_000)
    assert engine.check(entry(btc)).allowed
    assert engine.status().cooldown_until_ms is None


# ---- transitions are visible --------------------------------------------------------------------


def test_every_transition_reaches_listeners_even_if_one_fails(clock: ManualClock) -> None:
    seen: list[RiskTransition] = []

    def broken_journal(_: RiskTransition) -> None:
        raise RuntimeError("disk full")

    engine = RiskEngine(RiskLimits(), clock, listener=broken_journal)
    engine.add_listener(seen.append)
    engine.on_equity(D(10_000))
    engine.on_equity(D(10_000), margin_in_use=D(9_000))
    clock.advance(60_000)
    engine.on_equity(D(9_000), margin_in_use=D(1_000))  # daily loss and drawdown hit as margin clears
    clock.advance(60_000)
    engine.halt("done for today")  # already halted: nothing new to announce

    assert seen == engine.transitions
    assert [(t.from_state, t.to_state, t.ts) for t in seen] == [
        (ACTIVE, REDUCING, START_MS),
        (REDUCING, HALTED, START_MS + 60_000),
    ]
    assert "margin utilisation 90.00% above the 80% limit" in seen[0].reason
    # the escalation names every cause behind it
    assert "daily loss limit hit" in seen[1].reason and "max drawdown hit" in seen[1].reason
    assert len(engine.reasons()) == 3
    assert engine.reasons()[-1] == "manual: done for today"


def test_decision_reads_as_a_boolean() -> None:
    assert Decision(True, "ok", D(1))
    assert not Decision(False, "no")


def test_bad_intents_are_refused_not_raised(engine: RiskEngine, btc: Market) -> None:
    assert "price must be positive" in engine.check(entry(btc, price=D(0))).reason
    assert "size must be positive" in engine.check(entry(btc, size=D(-1))).reason
