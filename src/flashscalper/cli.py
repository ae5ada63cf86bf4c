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
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
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
    host: Annotated[str, typer.Option(help="Interface to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port; 0 picks a free one.")] = 8731,
    seed: Annotated[int, typer.Option(help="Seed of the market generator.")] = 7,
    fund_usdc: Annotated[str, typer.Option(help="Test USDC credited to each newly onboarded account.")] = "10000",
    speed: Annotated[float, typer.Option(help="Market generator speed (1 = real time).")] = 1.0,
    order_rate: Annotated[
        int, typer.Option(help="Order-entry limit per account per second (Paradex: 800); raise it for benchmarks.")
    ] = 0,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Run the local exchange simulator in the foreground (Paradex REST + WS and admin routes).

    Prints one JSON line with its URLs on stdout, then logs to stderr. Stop it with Ctrl-C.

    Example: flashscalper sim --port 8731 --fund-usdc 50000
    """
    from decimal import Decimal, InvalidOperation

    from flashscalper.sim.run import run_simulator

    if not 0 <= port <= 65535:
        raise fail(f"--port must be between 0 and 65535, got {port}")
    try:
        funds = Decimal(fund_usdc)
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
                      log_level=log_level.upper())
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def run() -> None:  # pragma: no cover - console-script shim
    sys.exit(app())
