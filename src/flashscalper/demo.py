"""``flashscalper demo``: the local simulator plus the bot trading it over the real wire protocol.

Nothing leaves the machine: the simulator listens on loopback, the bot gets a fresh throw-away key,
onboards, authenticates and trades exactly as it would on the venue.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.console import Console

from flashscalper.clock import WallClock
from flashscalper.config import Settings
from flashscalper.console_log import ConsoleLog
from flashscalper.exchanges.paradex.client import ParadexExchange, demo_identity
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.session import TradingSession, build_session
from flashscalper.sim.server import Simulator
from flashscalper.trading.stats import StatsSummary

log = logging.getLogger(__name__)

DEMO_MARKETS = ("BTC-USD-PERP", "ETH-USD-PERP", "SOL-USD-PERP")


@dataclass(frozen=True, slots=True)
class DemoOptions:
    duration_s: float = 120.0
    seed: int = 7
    exchange: str = "paradex"
    speed: float = 1.0
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    journal: bool = True  # record the session in the journal database (data dir or FLASHSCALPER_DB_URL)


@dataclass(slots=True)
class DemoResult:
    summary: StatsSummary
    urls: dict[str, str]
    reconnects: int

    def as_json(self) -> dict[str, Any]:
        s = self.summary
        return {
            "trades": s.trades,
            "wins": s.wins,
            "losses": s.losses,
            "win_rate": float(s.win_rate),
            "pnl": float(s.pnl),
            "fees": float(s.fees),
            "max_drawdown": float(s.max_drawdown),
            "max_drawdown_percent": float(s.max_drawdown_percent),
            "avg_duration_s": float(s.avg_duration_s),
            "exit_reasons": s.exit_reasons,
            "start_equity": None if s.start_equity is None else float(s.start_equity),
            "end_equity": None if s.end_equity is None else float(s.end_equity),
            "reconnects": self.reconnects,
            "urls": self.urls,
        }


async def start_demo_session(settings: Settings, options: DemoOptions) -> tuple[Simulator, TradingSession]:
    """Start the simulator and build a bot session trading it (not started yet)."""
    if options.exchange != "paradex":
        raise ValueError(f"unknown exchange {options.exchange!r}; the demo trades 'paradex'")
    clock = WallClock()
    sim = Simulator(seed=options.seed, fund_usdc=settings.general.sim_fund_usdc, clock=clock, speed=options.speed)
    urls = await sim.start(options.host, options.port)
    identity = demo_identity(sim.system)
    rest = ParadexRestClient(urls.paradex_rest, identity, clock=clock)
    venue = ParadexExchange(rest, urls.paradex_ws, clock=clock)
    session = build_session(
        venue, settings, trade_params=settings.paradex, clock=clock, mode="demo",
        markets=DEMO_MARKETS,
    )
    session.extras.update(simulator=sim, urls=urls.as_dict())
    if options.journal:
        from flashscalper.session_memory import attach_memory

        session.memory = await attach_memory(session, settings, venue=options.exchange)
    return sim, session


async def run_demo(settings: Settings, options: DemoOptions, console: Console) -> DemoResult:
    sim, session = await start_demo_session(settings, options)
    urls = session.extras["urls"]
    console.print(f"[bold]FlashScalper demo[/] — simulator at {urls['paradex_rest']} (seed {options.seed}), "
                  f"trading {', '.join(DEMO_MARKETS)} for {options.duration_s:.0f}s")
    printer = ConsoleLog(session.bus, console)
    printer.start()
    try:
        summary = await session.run(options.duration_s)
    finally:
        await printer.stop()
        await sim.stop()
    reconnects = int(session.exchange.ws.stats_snapshot().get("reconnects", 0))  # type: ignore[attr-defined]
    return DemoResult(summary=summary, urls=urls, reconnects=reconnects)


def print_summary(console: Console, result: DemoResult) -> None:
    console.rule("session summary")
    for line in result.summary.lines():
        console.print(line, highlight=False)
    if result.summary.start_equity is not None and result.summary.end_equity is not None:
        q = Decimal("0.01")
        console.print(f"equity {result.summary.start_equity.quantize(q)} → {result.summary.end_equity.quantize(q)}")
