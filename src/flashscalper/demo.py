"""``flashscalper demo``: the local simulator plus the bot trading it over the real wire protocol.

Nothing leaves the machine: the simulator listens on loopback, the bot gets a fresh throw-away key,
onboards, authenticates and trades exactly as it would on the venue. ``exchange="aster"`` trades the
simulator's Aster dialect instead, with an API key created in its registry (V1 HMAC) or an approved
agent wallet (V3 EIP-712, ``aster_auth="v3"``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rich.console import Console

from flashscalper.clock import WallClock
from flashscalper.config import Settings
from flashscalper.exchanges.base import Exchange
from flashscalper.exchanges.paradex.client import ParadexExchange, demo_identity
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.session import TradingSession, build_session
from flashscalper.sim.server import Simulator
from flashscalper.surfaces import SurfaceOptions, Surfaces, open_surfaces
from flashscalper.trading.stats import StatsSummary

log = logging.getLogger(__name__)

DEMO_MARKETS = ("BTC-USD-PERP", "ETH-USD-PERP", "SOL-USD-PERP")
ASTER_DEMO_MARKETS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
DEMO_EXCHANGES = ("paradex", "aster")


@dataclass(frozen=True, slots=True)
class DemoOptions:
    duration_s: float = 120.0
    seed: int = 7
    exchange: str = "paradex"
    speed: float = 1.0
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    dashboard: bool = True
    dashboard_port: int | None = None  # None: from the settings (FLASHSCALPER_DASHBOARD_PORT)
    journal: bool = True  # record the session in the journal database (data dir or FLASHSCALPER_DB_URL)
    aster_auth: str = "v1"  # with exchange="aster": "v1" HMAC key or "v3" agent wallet


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
    """Start the simulator and build a bot session trading it (not started yet; no journal or dashboard:
    :func:`run_demo` opens those through :func:`~flashscalper.surfaces.open_surfaces`)."""
    if options.exchange not in DEMO_EXCHANGES:
        raise ValueError(f"unknown exchange {options.exchange!r}; the demo trades 'paradex' or 'aster'")
    clock = WallClock()
    sim = Simulator(seed=options.seed, fund_usdc=settings.general.sim_fund_usdc, clock=clock, speed=options.speed)
    urls = await sim.start(options.host, options.port)
    if options.exchange == "aster":
        venue: Exchange = _aster_demo_venue(sim, options.aster_auth, clock)
        trade_params: Any = settings.aster
        markets = ASTER_DEMO_MARKETS
    else:
        identity = demo_identity(sim.system)
        rest = ParadexRestClient(urls.paradex_rest, identity, clock=clock)
        venue = ParadexExchange(rest, urls.paradex_ws, clock=clock)
        trade_params, markets = settings.paradex, DEMO_MARKETS
    try:
        session = build_session(venue, settings, trade_params=trade_params, clock=clock, mode="demo",
                                markets=markets)
    except BaseException:  # e.g. bad FLASHSCALPER_STRATEGY_PARAMS: do not leave the simulator listening
        await sim.stop()
        raise
    session.extras.update(simulator=sim, urls=urls.as_dict(), environment="demo")
    return sim, session


async def run_demo(settings: Settings, options: DemoOptions, console: Console) -> DemoResult:
    """Start the simulator and the session, open the surfaces (journal, dashboard, console log), trade
    for the duration, then stop everything."""
    sim, session = await start_demo_session(settings, options)
    urls = session.extras["urls"]
    console.print(f"[bold]FlashScalper demo[/] — simulator at {urls[options.exchange + '_rest']} "
                  f"(seed {options.seed}), trading {', '.join(session.config.markets)} for {options.duration_s:.0f}s")
    surfaces: Surfaces | None = None
    try:
        surfaces = await open_surfaces({options.exchange: session}, settings, console, SurfaceOptions(
            dashboard=options.dashboard, dashboard_port=options.dashboard_port, journal=options.journal))
        summary = await session.run(options.duration_s)
    finally:
        if surfaces is not None:
            await surfaces.stop()
        await sim.stop()
    return DemoResult(summary=summary, urls=urls, reconnects=_reconnects(session.exchange))


def _aster_demo_venue(sim: Simulator, auth: str, clock: WallClock) -> Exchange:
    """AsterExchange on the simulator's Aster dialect with fresh throw-away credentials."""
    from eth_account import Account

    from flashscalper.exchanges.aster.client import AsterExchange
    from flashscalper.exchanges.aster.rest import AgentCredentials, Credentials, HmacCredentials
    from flashscalper.sim.aster.registry import registry_of

    assert sim.urls is not None
    registry = registry_of(sim)
    if auth == "v3":
        user, agent = Account.create(), Account.create()
        registry.add_agent(user.address, agent.address)
        credentials: Credentials = AgentCredentials(user.address, agent.address, agent.key.hex())
    elif auth == "v1":
        key, secret, _ = registry.add_api_key()
        credentials = HmacCredentials(key, secret)
    else:
        raise ValueError(f"unknown Aster auth {auth!r}; expected 'v1' or 'v3'")
    return AsterExchange(sim.urls.aster_rest, sim.urls.aster_ws, credentials, clock=clock)


def _reconnects(exchange: Exchange) -> int:
    """Socket reconnections during the run, from whichever stream statistics the venue client keeps."""
    ws = getattr(exchange, "ws", None)
    if ws is not None:
        return int(ws.stats_snapshot().get("reconnects", 0))
    streams = [getattr(exchange, name, None) for name in ("market_stream", "user_stream")]
    return sum(max(int(getattr(s, "connects", 0)) - 1, 0) for s in streams if s is not None)


def print_summary(console: Console, result: DemoResult) -> None:
    console.rule("session summary")
    for line in result.summary.lines():
        console.print(line, highlight=False)
    if result.summary.start_equity is not None and result.summary.end_equity is not None:
        q = Decimal("0.01")
        console.print(f"equity {result.summary.start_equity.quantize(q)} → {result.summary.end_equity.quantize(q)}")
