"""Every venue lists markets with precision rules, shows a two-sided book and streams market data."""

from __future__ import annotations

from flashscalper.domain import Quote, Trade
from tests.conformance.conftest import VenueHarness


async def test_markets_carry_precision_rules(venue: VenueHarness) -> None:
    markets = await venue.exchange.markets()
    assert venue.market in markets
    rules = markets[venue.market]
    assert rules.symbol == venue.market
    assert rules.tick_size > 0 and rules.step_size > 0
    assert rules.min_notional > 0
    # a price on the tick survives rounding; one between ticks does not
    on_tick = rules.tick_size * 950_000
    assert rules.round_price(on_tick) == on_tick
    assert rules.round_price(on_tick + rules.tick_size / 2) != on_tick + rules.tick_size / 2


async def test_quote_is_two_sided_and_uncrossed(venue: VenueHarness) -> None:
    quote = await venue.touch()
    assert quote.market == venue.market
    assert 0 < quote.bid < quote.ask
    assert quote.bid_size > 0 and quote.ask_size > 0
    book = await venue.exchange.order_book(venue.market, depth=5)
    assert book.bids and book.asks
    assert book.bids[0].price == quote.bid and book.asks[0].price == quote.ask


async def test_quotes_and_trades_arrive_after_subscribing(venue: VenueHarness) -> None:
    await venue.exchange.subscribe_market_data([venue.market])
    await venue.quiet(0.2)  # the subscription reaches the venue before the market moves
    for _ in range(40):  # takers trade at random: step until both kinds have been seen
        venue.step(250)
        await venue.quiet(0.02)
        kinds = {type(e) for e in venue.events if getattr(e, "market", None) == venue.market}
        if {Quote, Trade} <= kinds:
            break
    quote = await venue.wait_for(lambda e: isinstance(e, Quote) and e.market == venue.market)
    trade = await venue.wait_for(lambda e: isinstance(e, Trade) and e.market == venue.market)
    assert isinstance(quote, Quote) and quote.bid < quote.ask
    assert isinstance(trade, Trade) and trade.price > 0 and trade.size > 0
