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


def run() -> None:  # pragma: no cover - console-script shim
    sys.exit(app())
