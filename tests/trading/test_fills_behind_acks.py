"""An order update can overtake its fills (REST answer or order channel before the fill channel): the
slot of an entry the venue reports filled stays taken until its fills reach the position manager."""

from __future__ import annotations

from decimal import Decimal

from flashscalper.domain import Event, FillEvent, PositionUpdate, Side
from flashscalper.exchanges.local import LocalExchange

from .scenario import BTC, ETH, ScriptedStrategy, make_scenario


class LateFillsVenue(LocalExchange):
    """Fault injection: fill and position events are held back (as slow fills and positions channels
    would) until ``release()``; order updates and balances flow as usual. Everything else is the real
    venue."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.holding = True
        self.held: list[Event] = []

    def _emit(self, event: Event) -> None:
        if self.holding and isinstance(event, FillEvent | PositionUpdate):
            self.held.append(event)
            return
        super()._emit(event)

    def release(self) -> None:
        self.holding = False
        for event in self.held:
            super()._emit(event)
        self.held.clear()


async def test_a_filled_entry_holds_its_slot_until_the_fills_arrive() -> None:
    s = make_scenario(venue_cls=LateFillsVenue, max_positions=1)
    venue = s.venue
    assert isinstance(venue, LateFillsVenue) and isinstance(s.strategy, ScriptedStrategy)
    await s.bot.start()
    await s.step(250, 4)
    s.strategy.go(BTC, Side.BUY)
    await s.step(250, 2)
    assert venue.held, "the BTC entry filled on the venue and its fills are being held back"
    assert s.bot.positions.get(BTC) is None and BTC not in s.bot.executor.entries

    s.strategy.go(ETH, Side.BUY)  # a second market while the only slot is still settling
    await s.step(250, 2)
    s.strategy.go(BTC, Side.SELL)  # and the same market again
    await s.step(250, 2)
    assert s.venue_position(ETH) == 0, "max_positions=1: the settling BTC entry holds the only slot"
    notes = [e.note for e in s.of_kind("signal") if not e.acted]
    assert any("max positions" in n for n in notes)
    assert any("waiting for its fills" in n for n in notes)

    venue.release()
    await s.step(250, 2)
    assert s.bot.positions.get(BTC) is not None and s.venue_position(BTC) > 0
    assert s.bot.executor.settling == {}
    assert abs(s.venue_position(BTC)) == s.bot.positions.get(BTC).size
    assert s.venue_position(ETH) == Decimal(0)
