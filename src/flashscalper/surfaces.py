"""What a person sees of a running session, started the same way by ``demo`` and ``run``:

* the journal with learning and the optional LLM advisor (:func:`attach_memory`; restores the day's risk
  baselines for lasting accounts),
* the local dashboard with its overlays, whose URLs and control token are printed once,
* the live console log.

::

    surfaces = await open_surfaces({"paradex": session}, settings, console, SurfaceOptions(dashboard_port=0))
    try:
        await session.run(60)
    finally:
        await surfaces.stop()

The journal belongs to the session once attached (``session.run`` closes it); :meth:`Surfaces.stop`
stops the dashboards and console logs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console

from flashscalper.config import Settings
from flashscalper.console_log import ConsoleLog
from flashscalper.session import TradingSession

__all__ = ["SurfaceOptions", "Surfaces", "open_surfaces", "print_dashboard_urls", "start_dashboard"]


@dataclass(frozen=True, slots=True)
class SurfaceOptions:
    dashboard: bool = True
    dashboard_port: int | None = None  # None: FLASHSCALPER_DASHBOARD_PORT
    journal: bool = True
    console_log: bool = True


@dataclass
class Surfaces:
    """The running surfaces of one or more sessions (one dashboard per venue)."""

    dashboards: dict[str, Any] = field(default_factory=dict)  # venue -> DashboardServer
    printers: list[ConsoleLog] = field(default_factory=list)

    async def stop(self) -> None:
        for printer in self.printers:
            with contextlib.suppress(Exception):
                await printer.stop()
        for dash in self.dashboards.values():
            with contextlib.suppress(Exception):
                await dash.stop()
        self.printers.clear()
        self.dashboards.clear()


def control_token(settings: Settings) -> str | None:
    token = settings.general.control_token
    return token.get_secret_value() if token else None


async def start_dashboard(session: Any, settings: Settings, *, port: int | None = None, token: str | None = None,
                          controls: bool = True) -> Any:
    """A started DashboardServer for ``session`` (any object with the session surface, replays included).

    ``token`` defaults to FLASHSCALPER_CONTROL_TOKEN, else the server makes a random one."""
    from flashscalper.dashboard.server import DashboardServer

    general = settings.general
    dash = DashboardServer(session, host=general.dashboard_host,
                           port=general.dashboard_port if port is None else port,
                           token=token or control_token(settings), privacy=general.privacy_mode, controls=controls)
    await dash.start()
    return dash


def print_dashboard_urls(console: Console, dash: Any, *, label: str = "", show_token: bool = True) -> None:
    """The dashboard URL, each overlay's URL and (when it was generated, not configured) the control token."""
    title = f"dashboard {label}".rstrip()
    console.print(f"[bold]{title}[/] {dash.url}/", highlight=False)
    for name, overlay_url in dash.overlay_urls().items():
        console.print(f"  overlay {name:<9} {overlay_url}", highlight=False)
    if show_token:
        console.print(f"  control token (needed by the dashboard's buttons): {dash.token}", highlight=False)


async def open_surfaces(sessions: Mapping[str, TradingSession], settings: Settings, console: Console,
                        options: SurfaceOptions) -> Surfaces:
    """Attach the journal, start the dashboards and the console logs of ``sessions`` (venue -> session).

    Call before the sessions start (the journal restores the risk baselines first). With several venues
    the first dashboard takes the configured port and each next venue the port after it (0 stays 0).
    """
    surfaces = Surfaces()
    try:
        if options.journal:
            await _attach_journals(sessions, settings, console)
        if options.dashboard:
            from flashscalper.dashboard.controls import new_token

            base = settings.general.dashboard_port if options.dashboard_port is None else options.dashboard_port
            configured = control_token(settings)
            token = configured or new_token()  # one token for every dashboard of this run
            for offset, (venue, session) in enumerate(sessions.items()):
                dash = await start_dashboard(session, settings, port=base + offset if base else 0, token=token)
                surfaces.dashboards[venue] = dash
                # a generated token is shown once (a configured one is the operator's already)
                print_dashboard_urls(console, dash, label=venue if len(sessions) > 1 else "",
                                     show_token=configured is None and offset == 0)
        if options.console_log:
            for session in sessions.values():
                printer = ConsoleLog(session.bus, console)
                printer.start()
                surfaces.printers.append(printer)
    except BaseException:
        await surfaces.stop()
        raise
    return surfaces


async def _attach_journals(sessions: Mapping[str, TradingSession], settings: Settings, console: Console) -> None:
    from flashscalper.session_memory import attach_memory

    for venue, session in sessions.items():
        if session.memory is not None:
            continue
        session.memory = await attach_memory(session, settings, venue=venue)
        memory = session.memory
        note = (f" (risk baselines restored from {memory.restored_equity_samples} equity sample(s) of today)"
                if memory.restored_equity_samples else "")
        console.print(f"[bold]journal[/] {memory.url}{note}", highlight=False)
