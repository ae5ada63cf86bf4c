"""The ``flashscalper`` command. Each sub-command parses its flags and hands over to a module."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from flashscalper import __version__
from flashscalper.errors import FlashScalperError

app = typer.Typer(
    name="flashscalper",
    help="Scalping bot for crypto perpetual DEXes (Paradex, Aster), with a local exchange simulator.\n\n"
    "Example: flashscalper demo --duration 60",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one clear error line (no traceback) and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True, soft_wrap=True)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        console.print(f"flashscalper {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """FlashScalper command line."""


@app.command()
def doctor(
    env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each server check.")] = 3.0,
) -> None:
    """Check the configuration, the clock against each configured venue, and print the derived identity.

    Example: PARADEX_ENVIRONMENT=local flashscalper doctor
    """
    from flashscalper.doctor import run_doctor

    try:
        ok = run_doctor(console, env_file=env_file, timeout=timeout)
    except FlashScalperError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(0 if ok else 1)


@app.command()
def keys(
    env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the venue's /system/config.")] = 3.0,
) -> None:
    """Derive and print the Paradex L1 address, L2 public key and L2 account address (never a private key).

    Example: PARADEX_PRIVATE_KEY=0x... flashscalper keys
    """
    from flashscalper.doctor import print_identity

    try:
        print_identity(console, env_file=env_file, timeout=timeout)
    except FlashScalperError as exc:
        raise fail(str(exc)) from None


@app.command()
def sim(
    host: Annotated[str | None, typer.Option(
        help="Interface to listen on (default FLASHSCALPER_SIM_HOST, loopback).")] = None,
    port: Annotated[int | None, typer.Option(
        help="TCP port (default FLASHSCALPER_SIM_PORT, 8731); 0 picks a free one.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the market generator (default FLASHSCALPER_SIM_SEED).")
                    ] = None,
    fund_usdc: Annotated[str | None, typer.Option(
        help="Test USDC credited to each newly onboarded account (default FLASHSCALPER_SIM_FUND_USDC).")] = None,
    speed: Annotated[float, typer.Option(help="Market generator speed (1 = real time).")] = 1.0,
    order_rate: Annotated[
        int, typer.Option(help="Order-entry limit per account per second (Paradex: 800); raise it for benchmarks.")
    ] = 0,
    aster_key: Annotated[list[str] | None, typer.Option(
        help="Aster V1 API key KEY:SECRET the simulator accepts, each with its own account (repeatable).")] = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
    env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
) -> None:
    """Run the local exchange simulator in the foreground (Paradex and Aster REST + WS, admin routes).

    Prints one JSON line with its URLs on stdout, then logs to stderr. Stop it with Ctrl-C.
    Flags win over the FLASHSCALPER_SIM_* settings.

    Example: flashscalper sim --port 8731 --fund-usdc 50000 --aster-key mykey:mysecret
    """
    from decimal import Decimal, InvalidOperation

    from flashscalper.config import load_settings
    from flashscalper.sim.aster.registry import parse_key_option
    from flashscalper.sim.run import run_simulator

    try:
        general = load_settings(env_file=env_file).general
        aster_keys = [parse_key_option(value) for value in aster_key or []]
    except FlashScalperError as exc:
        raise fail(str(exc)) from None
    host = general.sim_host if host is None else host
    port = general.sim_port if port is None else port
    seed = general.sim_seed if seed is None else seed
    if not 0 <= port <= 65535:
        raise fail(f"--port must be between 0 and 65535, got {port}")
    try:
        funds = general.sim_fund_usdc if fund_usdc is None else Decimal(fund_usdc)
    except InvalidOperation:
        raise fail(f"--fund-usdc must be a decimal number, got {fund_usdc!r}") from None
    if not funds.is_finite() or funds < 0:
        raise fail(f"--fund-usdc must be a non-negative number, got {fund_usdc!r}")
    if not speed > 0:
        raise fail(f"--speed must be positive, got {speed}")
    if order_rate < 0:
        raise fail(f"--order-rate must be positive (or 0 for the Paradex default), got {order_rate}")
    if log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise fail(f"--log-level must be DEBUG, INFO, WARNING or ERROR, got {log_level!r}")
    try:
        run_simulator(host=host, port=port, seed=seed, fund_usdc=funds, speed=speed, order_rate=order_rate,
                      log_level=log_level.upper(), aster_keys=aster_keys)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@app.command()
def demo(
    duration: Annotated[float, typer.Option(help="Seconds to trade before flattening and printing the summary.")] = 120,
    seed: Annotated[int, typer.Option(help="Seed of the simulated market.")] = 7,
    exchange: Annotated[str, typer.Option(help="Venue dialect the bot trades: paradex or aster.")] = "paradex",
    speed: Annotated[float, typer.Option(help="Market speed (1 = real time).")] = 1.0,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object with the results last.")] = False,
    journal: Annotated[bool, typer.Option(help="Record the session in the journal (`flashscalper journal`).")] = True,
    env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
    no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="Do not start the local dashboard.")] = False,
    dashboard_port: Annotated[
        int | None, typer.Option(help="Dashboard port (default FLASHSCALPER_DASHBOARD_PORT, 8732; 0: any free port).")
    ] = None,
) -> None:
    """Start the local exchange simulator and let the bot trade it over the real wire protocol.

    No account, no internet: a throw-away key is made for each run.

    Example: flashscalper demo --duration 60 --seed 7 --json
    """
    import asyncio
    import json

    from flashscalper.config import load_settings
    from flashscalper.demo import DemoOptions, print_summary, run_demo
    from flashscalper.logs import setup_logging

    if not duration > 0:
        raise fail(f"--duration must be positive seconds, got {duration}")
    if not speed > 0:
        raise fail(f"--speed must be positive, got {speed}")
    if exchange not in ("paradex", "aster"):
        raise fail(f"--exchange must be paradex or aster, got {exchange!r}")
    if dashboard_port is not None and not 0 <= dashboard_port <= 65535:
        raise fail(f"--dashboard-port must be between 0 and 65535, got {dashboard_port}")
    try:
        settings = load_settings(env_file=env_file)
    except FlashScalperError as exc:
        raise fail(str(exc)) from None
    setup_logging("WARNING", console=err_console)
    options = DemoOptions(duration_s=duration, seed=seed, exchange=exchange, speed=speed, journal=journal,
                          dashboard=not no_dashboard, dashboard_port=dashboard_port)
    try:
        result = asyncio.run(run_demo(settings, options, console))
    except FlashScalperError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", code=130) from None
    print_summary(console, result)
    if json_output:
        print(json.dumps(result.as_json()), flush=True)


@app.command("run")
def run_command(
    exchange: Annotated[str | None, typer.Option(
        help="Venue to trade: paradex, aster or both (default: PARADEX_ENABLED / ASTER_ENABLED decide).")] = None,
    paper: Annotated[bool, typer.Option("--paper", help="Venue prices, local fills: no real orders.")] = False,
    real_money: Annotated[
        bool, typer.Option("--i-understand-real-money", help="Confirm trading real money on a prod venue.")
    ] = False,
    duration: Annotated[
        float | None, typer.Option(help="Seconds to trade, then flatten and stop (default: until Ctrl-C).")
    ] = None,
    journal: Annotated[bool, typer.Option(help="Record the session in the journal (`flashscalper journal`).")] = True,
    no_dashboard: Annotated[bool, typer.Option("--no-dashboard", help="Do not start the local dashboard.")] = False,
    dashboard_port: Annotated[
        int | None, typer.Option(help="Dashboard port (default FLASHSCALPER_DASHBOARD_PORT, 8732; 0: any free port).")
    ] = None,
    env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
) -> None:
    """Trade the configured venue(s) (*_ENVIRONMENT=local talks to a running `flashscalper sim`).

    Example: PARADEX_ENVIRONMENT=testnet flashscalper run --duration 600
    """
    import asyncio

    from flashscalper.config import load_settings
    from flashscalper.logs import setup_logging
    from flashscalper.ops import RunOptions, build_run_session, describe_target, print_summary_lines, run_with_surfaces
    from flashscalper.surfaces import SurfaceOptions

    if duration is not None and not duration > 0:
        raise fail(f"--duration must be positive seconds, got {duration}")
    if exchange is not None and exchange not in ("paradex", "aster", "both"):
        raise fail(f"--exchange must be paradex, aster or both, got {exchange!r}")
    if dashboard_port is not None and not 0 <= dashboard_port <= 65535:
        raise fail(f"--dashboard-port must be between 0 and 65535, got {dashboard_port}")
    try:
        settings = load_settings(env_file=env_file)
        setup_logging(settings.general.log_level, console=err_console)
        options = RunOptions(duration_s=duration, paper=paper, confirmed_real_money=real_money, exchange=exchange)
        target = build_run_session(settings, options)
    except FlashScalperError as exc:
        raise fail(str(exc)) from None
    for line in describe_target(target):
        console.print(line, highlight=False)
    surfaces = SurfaceOptions(dashboard=not no_dashboard, dashboard_port=dashboard_port, journal=journal)
    try:
        summaries = asyncio.run(run_with_surfaces(target, settings, console, surfaces, duration))
    except FlashScalperError as exc:
        raise fail(str(exc)) from None
    except KeyboardInterrupt:
        raise fail("interrupted", code=130) from None
    for venue, summary in summaries.items():
        print_summary_lines(console, summary, venue=venue if len(summaries) > 1 else "")


@app.command()
def flatten(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object with the result last.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to keep trying until the account is flat.")] = 15.0,
    env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
) -> None:
    """Emergency exit: cancel every order and close every position reduce-only at market (REST only).

    Every open order of the account is cancelled, whatever its client-id prefix (other bots' too).

    Example: flashscalper flatten
    """
    import asyncio
    import json

    from flashscalper.config import load_settings
    from flashscalper.logs import setup_logging
    from flashscalper.ops import flatten_account

    try:
        settings = load_settings(env_file=env_file)
        setup_logging("WARNING", console=err_console)
        result = asyncio.run(flatten_account(settings, timeout_s=timeout))
    except FlashScalperError as exc:
        raise fail(str(exc)) from None
    console.print(f"cancelled {result.cancelled_orders} open order(s)", highlight=False)
    for market, size in result.closed:
        console.print(f"closed {size} {market} reduce-only at market", highlight=False)
    if result.flat:
        console.print("[green]account is flat[/]: no positions, no open orders")
    else:
        left = ", ".join(f"{p.size} {p.market}" for p in result.remaining_positions) or "none"
        console.print(f"[red]NOT flat[/]: positions {left}; open orders {len(result.remaining_orders)}")
    if json_output:
        print(json.dumps(result.as_json()), flush=True)
    raise typer.Exit(0 if result.flat else 1)


@app.command()
def status(
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object with the status last.")] = False,
    env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
) -> None:
    """Positions, open orders, balance and margin use of the configured account (REST only).

    Example: flashscalper status --json
    """
    import asyncio
    import json

    from flashscalper.config import load_settings
    from flashscalper.logs import setup_logging
    from flashscalper.ops import account_status, print_status

    try:
        settings = load_settings(env_file=env_file)
        setup_logging("WARNING", console=err_console)
        report = asyncio.run(account_status(settings))
    except FlashScalperError as exc:
        raise fail(str(exc)) from None
    print_status(console, report)
    if json_output:
        print(json.dumps(report.as_json()), flush=True)


@app.command()
def journal(
    limit: Annotated[int, typer.Option(help="How many recent trades to list.")] = 20,
    days: Annotated[int, typer.Option(help="How many trading days of per-day figures to show.")] = 14,
    export: Annotated[
        str | None, typer.Option("--export", help="Write every trade to PATH as csv or parquet instead.")
    ] = None,
    path: Annotated[str | None, typer.Argument(help="Export target file (with --export).")] = None,
    db_url: Annotated[str | None, typer.Option(help="Journal database URL (default: from the settings).")] = None,
    env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
) -> None:
    """Print recent trades and per-day stats from the trade journal, or export the trades.

    Example: flashscalper journal --limit 50    |    flashscalper journal --export csv trades.csv
    """
    from flashscalper.memory.export import export_trades
    from flashscalper.memory.views import open_journal, print_journal

    if limit < 1 or days < 1:
        raise fail("--limit and --days must be at least 1")
    if export is not None and export.lower() not in ("csv", "parquet"):
        raise fail(f"--export must be csv or parquet, got {export!r}")
    if export is not None and not path:
        raise fail("--export needs a target file, e.g. flashscalper journal --export csv trades.csv")
    try:
        db = open_journal(env_file, db_url)
        try:
            if export is not None and path:
                count = export_trades(db, path, export)
                console.print(f"wrote {count} trades to {path} ({export.lower()})")
            else:
                print_journal(console, db, limit=limit, days=days)
        finally:
            db.close()
    except FlashScalperError as exc:
        raise fail(str(exc)) from None


@app.command()
def memory(
    risk_roe: Annotated[float, typer.Option(help="ROE % of one R (your |stop-loss ROE|).")] = 0.5,
    db_url: Annotated[str | None, typer.Option(help="Journal database URL (default: from the settings).")] = None,
    env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
) -> None:
    """Print what the bot learned per setup (win rate, expectancy in R) and why it trades each more or less.

    Example: flashscalper memory --risk-roe 0.5
    """
    from flashscalper.memory.learning import LearnerConfig
    from flashscalper.memory.views import open_journal, print_memory

    if not risk_roe > 0:
        raise fail(f"--risk-roe must be positive, got {risk_roe}")
    try:
        db = open_journal(env_file, db_url)
        try:
            print_memory(console, db, LearnerConfig(risk_roe=risk_roe))
        finally:
            db.close()
    except FlashScalperError as exc:
        raise fail(str(exc)) from None


# record / backtest / replay / optimize: flags parsed in flashscalper.replay.commands, work done in replay/
from flashscalper.replay.commands import register_replay_commands  # noqa: E402

register_replay_commands(app, console=console, fail=fail)


def run() -> None:  # pragma: no cover - console-script shim
    sys.exit(app())
