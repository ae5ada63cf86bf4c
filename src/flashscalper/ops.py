"""The operating commands behind ``flashscalper run``, ``flatten`` and ``status``.

* :func:`build_run_session` + :func:`run_with_surfaces` trade the configured venue(s) (Paradex, Aster or both
  on one shared risk budget; prod, testnet, or a running ``flashscalper sim``), optionally in paper mode
  (venue prices, local fills), with the journal, the dashboard and the console log around the session.
  Prod needs an explicit real-money confirmation.
* :func:`flatten_account` is the emergency exit over REST only: cancel every order, close every position
  reduce-only at market, then wait until the venue shows the account flat. It cancels EVERY open order of
  the account, whatever its client-id prefix (on purpose: it is the exit for everything, other bots too).
* :func:`account_status` reads positions, open orders and the balance over REST only.

The CLI only parses flags and prints; everything here returns plain results and raises
:class:`~flashscalper.errors.FlashScalperError` subclasses with one-line messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flashscalper.clock import WallClock
from flashscalper.config import ParadexEnvironment, ParadexSettings, Settings
from flashscalper.domain import Balance, Order, OrderRequest, OrderType, Position, Side
from flashscalper.errors import ConfigError, ExchangeError, ExchangeUnavailable
from flashscalper.exchanges.paradex.rest import ParadexRestClient
from flashscalper.multi import MultiVenueSession, build_multi_session
from flashscalper.run_venues import (  # noqa: F401 - re-exported: the guard is part of `run`
    LIVE_CONFIRMATION_HINT,
    VenueBuild,
    build_venue,
    check_live_confirmation,
    choose_venues,
)
from flashscalper.session import TradingSession, build_session
from flashscalper.trading.stats import StatsSummary

log = logging.getLogger(__name__)

# ---- guards ---------------------------------------------------------------------------------------


def venue_identity(settings: ParadexSettings, *, timeout_s: float = 5.0) -> Any:
    """The Paradex identity of the configured key (ConfigError naming the variable when none is set,
    or naming the URL when the venue cannot be reached)."""
    from flashscalper.doctor import fetch_system_config, paradex_identity

    if not settings.has_credentials:
        raise ConfigError("no Paradex key configured; set PARADEX_PRIVATE_KEY (Ethereum key) or "
                          "PARADEX_L2_PRIVATE_KEY with PARADEX_ACCOUNT_ADDRESS")
    return paradex_identity(settings, fetch_system_config(settings, timeout_s))


def _unreachable(settings: ParadexSettings, exc: Exception) -> ExchangeUnavailable:
    hint = " (is `flashscalper sim` running?)" if settings.environment is ParadexEnvironment.LOCAL else ""
    return ExchangeUnavailable(f"cannot reach Paradex at {settings.rest_url}{hint}: {exc}")


# ---- status ---------------------------------------------------------------------------------------


@dataclass(slots=True)
class AccountStatus:
    """What the venue says about the account right now."""

    environment: str
    account: str
    balance: Balance
    positions: list[Position]
    open_orders: list[Order]

    @property
    def margin_utilisation_percent(self) -> Decimal | None:
        b = self.balance
        return b.initial_margin / b.equity * 100 if b.equity > 0 else None

    def as_json(self) -> dict[str, Any]:
        b = self.balance
        util = self.margin_utilisation_percent
        return {
            "environment": self.environment,
            "account": self.account,
            "balance": {"asset": b.asset, "equity": str(b.equity), "wallet": str(b.wallet),
                        "available": str(b.available), "initial_margin": str(b.initial_margin),
                        "maintenance_margin": str(b.maintenance_margin)},
            "risk": {"margin_utilisation_percent": None if util is None else str(util.quantize(Decimal("0.01"))),
                     "positions": len(self.positions), "open_orders": len(self.open_orders)},
            "positions": [{"market": p.market, "size": str(p.size), "entry_price": str(p.entry_price),
                           "mark_price": str(p.mark_price), "unrealized_pnl": str(p.unrealized_pnl),
                           "liquidation_price": None if p.liquidation_price is None else str(p.liquidation_price)}
                          for p in self.positions],
            "open_orders": [{"market": o.market, "side": o.side.value, "type": o.type.value, "size": str(o.size),
                             "price": None if o.price is None else str(o.price),
                             "trigger_price": None if o.trigger_price is None else str(o.trigger_price),
                             "reduce_only": o.reduce_only, "client_id": o.client_id, "status": o.status.value}
                            for o in self.open_orders],
        }


async def account_status(settings: Settings) -> AccountStatus:
    """Positions, open orders and the balance of the configured account, read over REST."""
    p = settings.paradex
    identity = venue_identity(p)
    async with ParadexRestClient(p.rest_url, identity, max_retries=2) as rest:
        try:
            await rest.authenticate()
            balance = await rest.balance()
            positions = await rest.open_positions_marked()
            orders = await rest.open_orders()
        except ExchangeUnavailable as exc:
            raise _unreachable(p, exc) from None
    return AccountStatus(p.environment.value, identity.address_hex, balance, positions, orders)


# ---- flatten --------------------------------------------------------------------------------------


@dataclass(slots=True)
class FlattenResult:
    """What the emergency exit did, and whether the venue confirms the account is flat."""

    cancelled_orders: int
    closed: list[tuple[str, Decimal]] = field(default_factory=list)  # (market, signed size closed)
    flat: bool = False
    remaining_positions: list[Position] = field(default_factory=list)
    remaining_orders: list[Order] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"cancelled_orders": self.cancelled_orders, "flat": self.flat,
                "closed": [{"market": m, "size": str(s)} for m, s in self.closed],
                "remaining_positions": [{"market": p.market, "size": str(p.size)} for p in self.remaining_positions],
                "remaining_orders": [o.client_id or o.id for o in self.remaining_orders]}


async def flatten_account(settings: Settings, *, timeout_s: float = 15.0) -> FlattenResult:
    """Cancel every open order, close every position reduce-only at market, and wait until the venue is flat.

    Repeats the close for positions that are still open (a partial fill, a 5xx), until ``timeout_s``.
    """
    p = settings.paradex
    identity = venue_identity(p)
    async with ParadexRestClient(p.rest_url, identity) as rest:
        try:
            await rest.authenticate()
            return await _flatten(rest, timeout_s)
        except ExchangeUnavailable as exc:
            raise _unreachable(p, exc) from None


async def _flatten(rest: ParadexRestClient, timeout_s: float) -> FlattenResult:
    cancelled = len(await rest.open_orders())
    await rest.cancel_all()  # stops and take-profits first, so none can open a new position meanwhile
    result = FlattenResult(cancelled_orders=cancelled)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    tag = secrets.token_hex(3)
    round_no = 0
    while True:
        positions = [pos for pos in await rest.positions() if pos.size != 0]
        orders = await rest.open_orders()
        if not positions and not orders:
            result.flat = True
            break
        if loop.time() >= deadline:
            result.remaining_positions, result.remaining_orders = positions, orders
            break
        if orders:
            await rest.cancel_all()
        for pos in positions:
            side = Side.SELL if pos.size > 0 else Side.BUY
            request = OrderRequest(pos.market, side, OrderType.MARKET, abs(pos.size),
                                   client_id=f"fs-flatten-{tag}-{round_no}-{pos.market}", reduce_only=True)
            try:
                await rest.create_order(request)
                result.closed.append((pos.market, pos.size))
            except ExchangeError as exc:  # keep going with the other markets; the loop tries again
                log.warning("flatten: closing %s %s failed: %s", pos.size, pos.market, exc)
        round_no += 1
        await asyncio.sleep(0.2)
    return result


# ---- run ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunOptions:
    duration_s: float | None = None  # None: until SIGINT/SIGTERM
    paper: bool = False
    confirmed_real_money: bool = False
    exchange: str | None = "paradex"  # paradex, aster, both; None: PARADEX_ENABLED / ASTER_ENABLED decide


RunTarget = TradingSession | MultiVenueSession


def build_run_session(settings: Settings, options: RunOptions) -> RunTarget:
    """The venue(s) and the bot(s) around them, not started yet: one :class:`TradingSession`, or a
    :class:`MultiVenueSession` (one bot per venue on one shared risk budget) for two venues."""
    names = choose_venues(options.exchange, settings)
    paper = options.paper or settings.general.paper
    check_live_confirmation(settings, confirmed_by_flag=options.confirmed_real_money, paper=paper, venues=names)
    clock = WallClock()
    builds = [build_venue(name, settings, paper=paper, clock=clock) for name in names]
    if len(builds) == 1:
        b = builds[0]
        session = build_session(b.exchange, settings, trade_params=b.trade_params, clock=clock, mode=b.mode,
                                markets=tuple(b.trade_params.markets))
        session.extras.update(b.extras())
        return session
    multi = build_multi_session({b.name: (b.exchange, b.trade_params) for b in builds}, settings, clock=clock,
                                mode="live")
    for b in builds:
        multi.sessions[b.name].mode = b.mode
        multi.sessions[b.name].extras.update(b.extras())
    return multi


def target_sessions(target: RunTarget) -> dict[str, TradingSession]:
    """venue -> session of a run target (one entry for a single venue)."""
    if isinstance(target, MultiVenueSession):
        return dict(target.sessions)
    return {str(target.extras.get("venue") or getattr(target.exchange, "name", "venue")): target}


def describe_target(target: RunTarget) -> list[str]:
    """One header line per venue: mode, venue, environment, URL and markets."""
    return [f"[bold]FlashScalper[/] {s.mode} on {s.extras.get('venue_label', name)} {s.extras.get('environment')} "
            f"({s.extras.get('rest_url')}), markets {', '.join(s.config.markets)}"
            for name, s in target_sessions(target).items()]


async def run_session(target: RunTarget, duration_s: float | None) -> dict[str, StatsSummary]:
    """Trade until the duration ends or SIGINT/SIGTERM arrives; then flatten and close every venue.

    Returns each venue's summary."""
    sessions = target_sessions(target)
    loop = asyncio.get_running_loop()
    installed: list[int] = []

    def stop_all() -> None:
        for session in sessions.values():
            session.bot.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop_all)
            installed.append(signum)
    try:
        if isinstance(target, MultiVenueSession):
            return await target.run(duration_s)
        return {name: await target.run(duration_s) for name in sessions}
    except (ExchangeUnavailable, OSError, TimeoutError) as exc:
        raise ExchangeUnavailable(f"cannot reach {_where(sessions)}: {exc}") from None
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


def _where(sessions: dict[str, TradingSession]) -> str:
    return " / ".join(f"{s.extras.get('venue_label', name)} at {s.extras.get('rest_url')}"
                      for name, s in sessions.items())


async def run_with_surfaces(target: RunTarget, settings: Settings, console: Any, surfaces: Any,
                            duration_s: float | None) -> dict[str, StatsSummary]:
    """``run_session`` with the journal, dashboard(s) and console log open around it (``surfaces``:
    :class:`~flashscalper.surfaces.SurfaceOptions`)."""
    from flashscalper.surfaces import open_surfaces

    opened = await open_surfaces(target_sessions(target), settings, console, surfaces)
    try:
        return await run_session(target, duration_s)
    finally:
        await opened.stop()


# ---- printing -------------------------------------------------------------------------------------


def print_summary_lines(console: Any, summary: Any, *, venue: str = "") -> None:
    """The session summary after ``run`` (trades, win rate, P&L, equity)."""
    console.rule(f"session summary {venue}".rstrip())
    for line in summary.lines():
        console.print(line, highlight=False)
    if summary.start_equity is not None and summary.end_equity is not None:
        q = Decimal("0.01")
        console.print(f"equity {summary.start_equity.quantize(q)} → {summary.end_equity.quantize(q)}",
                      highlight=False)


def print_status(console: Any, report: AccountStatus) -> None:
    """Human-readable account status: balance and margin use, positions, open orders."""
    from rich.table import Table

    b = report.balance
    q = Decimal("0.01")
    util = report.margin_utilisation_percent
    console.print(f"Paradex {report.environment} account {report.account}", highlight=False)
    console.print(f"equity {b.equity.quantize(q)} {b.asset}, available {b.available.quantize(q)}, "
                  f"margin in use {b.initial_margin.quantize(q)}"
                  f" ({'n/a' if util is None else f'{util.quantize(q)}%'} of equity)", highlight=False)
    positions = Table(title=f"positions ({len(report.positions)})")
    for name in ("market", "size", "entry", "mark", "uPnL", "liq. price"):
        positions.add_column(name)
    for p in report.positions:
        positions.add_row(p.market, str(p.size), str(p.entry_price), str(p.mark_price),
                          str(p.unrealized_pnl.quantize(q)), "-" if p.liquidation_price is None else str(
                              p.liquidation_price))
    console.print(positions)
    orders = Table(title=f"open orders ({len(report.open_orders)})")
    for name in ("market", "side", "type", "size", "price", "trigger", "reduce-only", "client id"):
        orders.add_column(name)
    for o in report.open_orders:
        orders.add_row(o.market, o.side.value, o.type.value, str(o.size), "-" if o.price is None else str(o.price),
                       "-" if o.trigger_price is None else str(o.trigger_price), "yes" if o.reduce_only else "no",
                       o.client_id)
    console.print(orders)
