"""Entry sizing scenarios: budget → size, then step, max order size, position limit, min notional."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from flashscalper.clock import ManualClock
from flashscalper.domain import Market, Side, is_multiple
from flashscalper.trading.risk import RiskEngine, RiskLimits
from flashscalper.trading.sizing import fit_size, initial_margin, size_entry

D = Decimal
DEFAULT = {"position_size_percent": D(25), "leverage": D(10)}


def test_btc_entry_is_quarter_of_collateral_at_10x_rounded_down_to_step(btc: Market) -> None:
    # 1000 USD × 25% = 250 margin × 10x = 2500 notional / 60000 = 0.041666… BTC → 0.041 at step 0.001
    result = size_entry(btc, D(60_000), D(1_000), **DEFAULT)
    assert result.accepted
    assert result.size == D("0.041")
    assert is_multiple(result.size, btc.step_size)
    assert result.notional == D("2460.000")
    assert result.margin == D("246")
    assert "rounded down to step 0.001" in result.reason


def test_whole_unit_market_rounds_down_to_whole_coins(doge: Market) -> None:
    # 100 × 25% × 10 / 0.37 = 675.67… DOGE → 675
    result = size_entry(doge, D("0.37"), D(100), **DEFAULT)
    assert result.size == D(675)


def test_entry_below_min_notional_is_rejected_with_the_numbers(doge: Market, eth: Market) -> None:
    # 1 × 25% × 10 = 2.5 USDT of DOGE (25 coins at 0.1), below the 5 USDT minimum
    result = size_entry(doge, D("0.1"), D(1), **DEFAULT)
    assert not result.accepted
    assert result.size == 0
    assert "notional 2.5 USDT is below DOGEUSDT's minimum 5 USDT" in result.reason

    # ETH caps leverage at 5x: 60 × 25% × 5 = 75 USD notional, below ETH's 100 USD minimum
    eth_result = size_entry(eth, D(3_000), D(60), **DEFAULT)
    assert not eth_result.accepted
    assert "capped to ETH-USD-PERP's maximum 5x" in eth_result.reason
    assert "below ETH-USD-PERP's minimum 100 USD" in eth_result.reason


def test_entry_smaller_than_one_step_is_rejected(btc: Market) -> None:
    # 0.1 USD of collateral buys 0.0000041 BTC: less than one 0.001 step
    result = size_entry(btc, D(60_000), D("0.1"), **DEFAULT)
    assert not result.accepted
    assert "below one step" in result.reason


def test_large_account_is_clamped_to_max_order_size(btc: Market, doge: Market) -> None:
    result = size_entry(btc, D(60_000), D(1_000_000), **DEFAULT)  # would be 41.666 BTC
    assert result.accepted
    assert result.size == btc.max_order_size == D(5)
    assert "max order size 5" in result.reason

    doge_result = size_entry(doge, D("0.1"), D(10_000), **DEFAULT)  # would be 250 000 DOGE
    assert doge_result.size == D(50_000)


def test_position_limit_clamps_to_the_room_left_and_rejects_when_full(btc: Market) -> None:
    # holding 9.99 BTC long of a 10 BTC limit: a buy can only add 0.01
    clamped = size_entry(btc, D(60_000), D(100_000), **DEFAULT, current_position=D("9.99"), side=Side.BUY)
    assert clamped.accepted
    assert clamped.size == D("0.01")
    assert "position limit 10" in clamped.reason

    full = size_entry(btc, D(60_000), D(100_000), **DEFAULT, current_position=D(10), side=Side.BUY)
    assert not full.accepted
    assert "position limit 10 reached" in full.reason

    # selling against the long first closes it, so there is room; the max order size still binds
    opposite = size_entry(btc, D(60_000), D(1_000_000), **DEFAULT, current_position=D(10), side=Side.SELL)
    assert opposite.size == D(5)


def test_leverage_is_capped_by_the_market(eth: Market) -> None:
    # 1000 × 25% × min(10, 5) / 2000 = 0.625 → 0.62 ETH
    result = size_entry(eth, D(2_000), D(1_000), **DEFAULT)
    assert result.leverage == D(5)
    assert result.size == D("0.62")


def test_no_free_collateral_means_no_entry(btc: Market) -> None:
    result = size_entry(btc, D(60_000), D(0), **DEFAULT)
    assert not result.accepted
    assert "no free collateral" in result.reason


def test_given_size_is_fitted_to_the_market(btc: Market) -> None:
    fitted = fit_size(btc, D("0.12345"), D(60_000))
    assert fitted.size == D("0.123")
    too_small = fit_size(btc, D("0.0001"), D(60_000))
    assert not too_small.accepted


def test_initial_margin_uses_the_larger_of_leverage_and_market_floor(btc: Market) -> None:
    assert initial_margin(btc, D(10_000), D(10)) == D(1_000)  # 1/10 beats the 2% floor
    assert initial_margin(btc, D(10_000), D(100)) == D(200)  # 2% floor beats 1/100


def test_engine_sizing_applies_safe_mode_caps(btc: Market) -> None:
    engine = RiskEngine(RiskLimits(safe_mode=True), ManualClock())
    # safe mode: 5% at 3x → 1000 × 5% × 3 / 60000 = 0.0025 → 0.002
    result = engine.size_entry(btc, D(60_000), D(1_000), open_positions_count=0)
    assert result.size == D("0.002")
    assert result.leverage == D(3)


def test_engine_sizing_rejects_a_new_position_beyond_max_positions(btc: Market) -> None:
    engine = RiskEngine(RiskLimits(max_positions=2), ManualClock())
    refused = engine.size_entry(btc, D(60_000), D(1_000), open_positions_count=2)
    assert not refused.accepted
    assert "max positions reached (2 open, limit 2)" in refused.reason
    # adding to a position already held does not open a new one
    adding = engine.size_entry(
        btc, D(60_000), D(1_000), open_positions_count=2, current_position=D("0.1"), side=Side.BUY
    )
    assert adding.accepted


prices = st.decimals(min_value=D("0.0001"), max_value=D(200_000), places=4)
collaterals = st.decimals(min_value=D(0), max_value=D(5_000_000), places=2)
percents = st.decimals(min_value=D("0.5"), max_value=D(100), places=1)
leverages = st.integers(min_value=1, max_value=100).map(Decimal)


@given(price=prices, collateral=collaterals, pct=percents, leverage=leverages)
def test_sized_entries_always_respect_every_market_rule(
    price: Decimal, collateral: Decimal, pct: Decimal, leverage: Decimal
) -> None:
    market = Market(
        symbol="X-USD-PERP", base="X", quote="USD", tick_size=D("0.0001"), step_size=D("0.01"),
        min_notional=D(10), max_order_size=D(1_000), position_limit=D(2_000), max_leverage=D(20),
    )
    result = size_entry(market, price, collateral, position_size_percent=pct, leverage=leverage)
    budget = collateral * pct / 100 * min(leverage, market.max_leverage)
    if result.accepted:
        assert is_multiple(result.size, market.step_size)
        assert result.notional <= budget  # never more exposure than the budget
        assert result.notional >= market.min_notional
        assert result.size <= market.max_order_size
    else:
        assert result.size == 0
        assert result.reasons
