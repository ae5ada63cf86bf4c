"""A readable live log of what the bot does, for the terminal (and for the stream's chat)."""

from __future__ import annotations

import asyncio
import contextlib
from decimal import Decimal

from rich.console import Console

from flashscalper.trading.bus import (
    BotEvent,
    ConnectionHealth,
    EventBus,
    FillReport,
    OrderReport,
    ReconcileAction,
    RiskStateChanged,
    SignalReport,
    Subscription,
    TradeClosed,
)

_Q = Decimal("0.01")


def _px(value: Decimal) -> str:
    """Prices for people: at most 6 decimals, no trailing zeros (averages can carry many digits)."""
    return f"{value.quantize(Decimal('0.000001')).normalize():f}"


def describe(event: BotEvent) -> str | None:
    """One line for events a person wants to see; None for the noisy ones (positions, equity ticks)."""
    if isinstance(event, SignalReport):
        s = event.signal
        verdict = "[green]acting[/]" if event.acted else f"[dim]skipped: {event.note}[/]"
        return f"signal {s.market} {s.side.value} conf {s.confidence:.2f} ({s.setup}) → {verdict}"
    if isinstance(event, FillReport):
        f = event.fill
        return f"[cyan]fill[/] {f.market} {f.side.value} {f.size} @ {_px(f.price)} ({event.purpose.lower()})"
    if isinstance(event, OrderReport) and event.note:
        o = event.order
        return f"[yellow]order[/] {o.market} {o.side.value} {o.type.value} {o.status.value}: {event.note}"
    if isinstance(event, TradeClosed):
        t = event.trade
        colour = "green" if t.net_pnl >= 0 else "red"
        prices = f"{_px(t.entry_price)} → {_px(t.exit_price)}"
        return (f"[bold {colour}]closed[/] {t.market} {t.side.value} {t.size}: {prices}, "
                f"pnl {t.net_pnl.quantize(_Q)} ({t.roe.quantize(_Q)}% ROE) by {t.reason.value}")
    if isinstance(event, RiskStateChanged):
        return f"[bold magenta]risk[/] {event.from_state.value} → {event.to_state.value}: {event.reason}"
    if isinstance(event, ReconcileAction) and event.action != "IN_SYNC":
        return f"[blue]reconcile[/] {event.action} {event.market}: {event.reason}"
    if isinstance(event, ConnectionHealth):
        return f"[blue]venue[/] {event.venue} {event.state.value} {event.detail}".rstrip()
    return None


class ConsoleLog:
    """Prints bus events as they happen; never slows the bot (bounded subscription, drops when behind)."""

    def __init__(self, bus: EventBus, console: Console) -> None:
        self._sub: Subscription = bus.subscribe(maxsize=2000)
        self._console = console
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._print(), name="console-log")

    async def _print(self) -> None:
        async for event in self._sub:
            line = describe(event)
            if line:
                self._console.print(line, highlight=False)

    async def stop(self) -> None:
        for event in self._sub.drain():
            line = describe(event)
            if line:
                self._console.print(line, highlight=False)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
