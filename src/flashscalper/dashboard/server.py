"""Run the dashboard inside the bot's event loop: ``uvicorn.Server(config).serve()`` as a task.

::

    dash = DashboardServer(session, port=0)      # 0: any free port
    url = await dash.start()                     # bound to 127.0.0.1 unless told otherwise
    print(url, dash.overlay_urls(), dash.token)  # the token is shown once, by the caller
    ...
    await dash.stop()

The bot never waits for the dashboard: events reach it through a bounded bus subscription, and
market data through an O(1) observer on the strategy feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Generator
from typing import Any

import uvicorn

from flashscalper.dashboard.app import OVERLAYS, create_app
from flashscalper.dashboard.controls import Controls, new_token
from flashscalper.dashboard.hub import LiveHub
from flashscalper.dashboard.metrics import Metrics
from flashscalper.dashboard.state import DashboardState, ModeFlags
from flashscalper.errors import ConfigError

__all__ = ["DashboardServer", "build_state"]

log = logging.getLogger(__name__)


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: the bot (or the CLI) owns Ctrl-C."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def build_state(session: Any, *, privacy: bool = False) -> DashboardState:
    """A DashboardState describing ``session`` (mode flags, markets, R unit, account address)."""
    bot = session.bot
    safe = bool(bot.risk.status().safe_mode)
    mode = ModeFlags.of(session.mode, safe=safe, privacy=privacy, simulator="simulator" in session.extras,
                        venue=getattr(session.exchange, "name", ""))
    identity = getattr(getattr(session.exchange, "rest", None), "identity", None)
    account = hex(identity.account_address) if identity is not None else ""
    state = DashboardState(mode, markets=tuple(session.config.markets),
                           risk_unit_roe=session.config.stop_loss_roe, account=account)
    state.risk = {**state.risk, "state": bot.risk.state.value, "reasons": list(bot.risk.reasons())}
    return state


class DashboardServer:
    """The dashboard for one trading session: state, push hub, controls and the HTTP server."""

    def __init__(self, session: Any, *, host: str = "127.0.0.1", port: int = 8732, token: str | None = None,
                 privacy: bool = False, controls: bool = True) -> None:
        self.session = session
        self.host = host
        self.requested_port = port
        self.token = token or new_token()
        self.privacy = privacy
        self.state = build_state(session, privacy=privacy)
        self.metrics = Metrics(expose_equity=not privacy)
        self.hub = LiveHub(self.state, session.bus, self.metrics, force_privacy=privacy)
        self.controls = Controls(session, self.hub, self.token) if controls else None
        self.app = create_app(self.hub, controls=self.controls)
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("the dashboard is not running; call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def overlay_urls(self) -> dict[str, str]:
        """One browser-source URL per overlay."""
        return {name: f"{self.url}/overlay/{name}" for name in OVERLAYS}

    async def start(self) -> str:
        """Start following the bus and serving; return the dashboard URL (with the bound port)."""
        self.hub.start()
        observers = self.session.bot.market_observers
        if self.state.on_market not in observers:
            observers.append(self.state.on_market)
        config = uvicorn.Config(self.app, host=self.host, port=self.requested_port, ws="websockets-sansio",
                                lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=3)
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve(), name="dashboard-http")
        while not self._server.started:
            if self._task.done():
                with contextlib.suppress(SystemExit, Exception):
                    self._task.result()  # uvicorn exits the task when it cannot bind
                await self._cleanup()
                raise ConfigError(f"the dashboard cannot listen on {self.host}:{self.requested_port} "
                                  "(port in use? pick another with --dashboard-port, or 0 for any free port)")
            await asyncio.sleep(0.01)
        sockets = self._server.servers[0].sockets
        self.port = int(sockets[0].getsockname()[1])
        return self.url

    async def stop(self) -> None:
        """Stop serving; connected pages see their socket close (1012) and show "offline"."""
        await self.hub.stop()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, SystemExit, Exception):
                await asyncio.wait_for(self._task, timeout=5)
        await self._cleanup()

    async def _cleanup(self) -> None:
        await self.hub.stop()
        observers = self.session.bot.market_observers
        if self.state.on_market in observers:
            observers.remove(self.state.on_market)
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, SystemExit, Exception):
                await self._task
        self._task = None
        self._server = None
