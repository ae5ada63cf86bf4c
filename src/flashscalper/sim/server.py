"""The local exchange served over loopback: engine + market generator + wire dialects on one aiohttp app.

    sim = Simulator(seed=7)
    urls = await sim.start(port=0)      # {"paradex_rest": "http://127.0.0.1:PORT/v1", ...}
    ...
    await sim.stop()

The market generator runs as a background task at ``step_ms`` cadence on the simulator's clock. With a
``ManualClock`` (tests, backtests) nothing moves until ``advance(ms)`` is called.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal

from aiohttp import web

from flashscalper.clock import Clock, ManualClock, WallClock
from flashscalper.sim.engine import SimExchange
from flashscalper.sim.faults import FaultInjector
from flashscalper.sim.market_maker import MarketSimulator
from flashscalper.sim.ratelimit import RateLimiter
from flashscalper.sim.tokens import TokenIssuer

log = logging.getLogger(__name__)

# (capacity, window seconds) per scope, as documented for Paradex (protocol doc §3).
PARADEX_LIMITS: dict[str, tuple[int, float]] = {
    "public": (1500, 60.0),
    "auth": (600, 60.0),
    "orders": (800, 1.0),
    "private_get": (120, 1.0),
}

# Chain id and class hashes of the Paradex testnet fixture used by the official SDK's tests; any
# SDK-based client accepts this chain id (protocol doc §1), and our vectors were made with it.
PARADEX_SYSTEM = {
    "starknet_chain_id": "PRIVATE_SN_POTC_SEPOLIA",
    "l1_chain_id": "11155111",
    "paraclear_account_proxy_hash": "0x3530cc4759d78042f1b543bf797f5f3d647cde0388c33734cf91b7f7b9314a9",
    "paraclear_account_hash": "0x41cb0280ebadaa75f996d8d92c6f265f6d040bb3ba442e5f86a554f1765244e",
}

Registrar = Callable[[web.Application, "Simulator"], None]


@dataclass(frozen=True, slots=True)
class SimulatorUrls:
    paradex_rest: str
    paradex_ws: str
    admin: str
    aster_rest: str = ""
    aster_ws: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"paradex_rest": self.paradex_rest, "paradex_ws": self.paradex_ws, "admin": self.admin,
                "aster_rest": self.aster_rest, "aster_ws": self.aster_ws}


class Simulator:
    """One simulated venue with every wire dialect we speak, sharing one engine and one clock."""

    def __init__(
        self,
        *,
        seed: int = 7,
        fund_usdc: Decimal = Decimal(10_000),
        clock: Clock | None = None,
        speed: float = 1.0,
        step_ms: int = 100,
        generate_market: bool = True,
    ) -> None:
        self.clock: Clock = clock or WallClock()
        self.seed = seed
        self.fund_usdc = fund_usdc
        self.step_ms = step_ms
        self.exchange = SimExchange(self.clock)
        self.market = MarketSimulator(self.exchange, seed=seed, speed=speed) if generate_market else None
        self.tokens = TokenIssuer(self.clock)
        self.limiter = RateLimiter(PARADEX_LIMITS, self.clock)
        self.faults = FaultInjector(self.clock)
        self.system = dict(PARADEX_SYSTEM)
        self.app = web.Application(client_max_size=1 << 20)
        self._runner: web.AppRunner | None = None
        self._market_task: asyncio.Task[None] | None = None
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self.urls: SimulatorUrls | None = None
        for register in _dialects():
            register(self.app, self)

    def on_stop(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Dialects register clean-up (closing sockets) to run before the HTTP server stops."""
        self._on_stop.append(hook)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> SimulatorUrls:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://{host}:{bound}"
        self.urls = SimulatorUrls(
            paradex_rest=f"{base}/v1",
            paradex_ws=f"ws://{host}:{bound}/v1/ws",
            admin=f"{base}/admin",
            aster_rest=f"{base}/aster",
            aster_ws=f"ws://{host}:{bound}/aster",
        )
        if self.market is not None and not isinstance(self.clock, ManualClock):
            self._market_task = asyncio.create_task(self._run_market(), name="sim-market")
        return self.urls

    async def stop(self) -> None:
        if self._market_task is not None:
            self._market_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._market_task
            self._market_task = None
        for hook in self._on_stop:
            with contextlib.suppress(Exception):
                await hook()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def advance(self, ms: int) -> None:
        """Virtual time: move a ManualClock and the market together (tests and backtests)."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock; a wall-clock simulator runs by itself")
        self.clock.advance(ms)
        if self.market is not None:
            self.market.step(ms)
        else:
            self.exchange.tick()

    async def _run_market(self) -> None:
        assert self.market is not None
        last = self.clock.time_ms()
        while True:
            await asyncio.sleep(self.step_ms / 1000)
            now = self.clock.time_ms()
            try:
                self.market.step(now - last)
            except Exception:  # the venue must keep running whatever one step does
                log.exception("market generator step failed")
            last = now


def _dialects() -> list[Registrar]:
    """The wire dialects mounted on the app (imported here so that each stays its own module)."""
    from flashscalper.sim import admin
    from flashscalper.sim.aster import rest as aster_rest
    from flashscalper.sim.aster import ws as aster_ws
    from flashscalper.sim.paradex import rest as paradex_rest
    from flashscalper.sim.paradex import ws as paradex_ws

    return [admin.register, paradex_rest.register, paradex_ws.register, aster_rest.register, aster_ws.register]
