"""The ``record``, ``backtest``, ``replay`` and ``optimize`` commands (flag parsing only; the work is in
the replay modules). ``flashscalper.cli`` registers them on its app."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from flashscalper.errors import FlashScalperError

__all__ = ["register_replay_commands"]


def _decimal(text: str | None, flag: str, fail: Callable[[str], typer.Exit]) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise fail(f"{flag} must be a decimal number, got {text!r}") from None
    if not value.is_finite():
        raise fail(f"{flag} must be finite, got {text!r}")
    return value


def _params(pairs: list[str] | None, fail: Callable[[str], typer.Exit]) -> dict[str, object]:
    params: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise fail(f"--param must look like name=value, got {pair!r}")
        try:
            params[key] = json.loads(raw)
        except json.JSONDecodeError:
            params[key] = raw
    return params


def _strategy_choice(flag: str | None, overrides: dict[str, object], env_file: str
                     ) -> tuple[str, dict[str, object]]:
    """The backtest's strategy: --strategy or FLASHSCALPER_STRATEGY, with FLASHSCALPER_STRATEGY_PARAMS
    under the --param overrides; checked once here so a bad value is one line naming where it came from."""
    from flashscalper.config import load_settings
    from flashscalper.strategy.base import build_strategy

    general = load_settings(env_file=env_file).general
    name = flag or general.strategy
    # the settings' params belong to the settings' strategy; another --strategy starts from its defaults
    base = dict(general.strategy_params) if name == general.strategy else {}
    build_strategy(name, base, source="FLASHSCALPER_STRATEGY_PARAMS")
    params = {**base, **overrides}
    build_strategy(name, params, source="--param")
    return name, params


def register_replay_commands(app: typer.Typer, *, console: Console, fail: Callable[..., typer.Exit]) -> None:
    """Add the four commands to ``app``."""

    @app.command()
    def record(
        out: Annotated[Path, typer.Argument(help="Directory to write events.parquet and manifest.json into.")],
        duration: Annotated[float, typer.Option(help="Seconds of simulated market to record.")] = 600,
        seed: Annotated[int, typer.Option(help="Seed of the simulated market.")] = 7,
        market: Annotated[list[str] | None, typer.Option(help="Market(s) to record (repeatable).")] = None,
    ) -> None:
        """Record the local simulator's market data (virtual time, no network) for backtests.

        Example: flashscalper record data/sim-btc --duration 3600 --seed 7
        """
        from flashscalper.replay.recorder import record_simulator

        if not duration > 0:
            raise fail(f"--duration must be positive seconds, got {duration}")
        markets = tuple(market or ["BTC-USD-PERP"])
        try:
            path = record_simulator(out, duration_ms=int(duration * 1000), seed=seed, markets=markets)
        except KeyError as exc:
            raise fail(f"unknown simulator market {exc}; choose BTC-USD-PERP, ETH-USD-PERP or SOL-USD-PERP") from None
        manifest = json.loads((path / "manifest.json").read_text())
        console.print(f"recorded {manifest['events']} events of {', '.join(markets)} to {path}")

    @app.command()
    def backtest(
        data: Annotated[Path, typer.Argument(
            help="A recording directory, or a candle / trade file (.csv .parquet .json).")],
        market: Annotated[str, typer.Option(help="Market symbol of an imported file.")] = "BTC-USD-PERP",
        kind: Annotated[str, typer.Option(help="auto, recording, candles or trades.")] = "auto",
        strategy: Annotated[str | None, typer.Option(
            help="Strategy name or package.module:ClassName (default FLASHSCALPER_STRATEGY).")] = None,
        param: Annotated[list[str] | None, typer.Option(
            help="Strategy parameter name=value (repeatable); wins over FLASHSCALPER_STRATEGY_PARAMS.")] = None,
        collateral: Annotated[str, typer.Option(help="Starting collateral (USD).")] = "10000",
        latency_ms: Annotated[int, typer.Option(help="Order/cancel latency in ms of virtual time.")] = 0,
        funding_rate: Annotated[str | None, typer.Option(help="Funding rate per 8 h period, e.g. 0.0001.")] = None,
        taker_fee: Annotated[str, typer.Option(help="Taker fee rate, e.g. 0.0003.")] = "0",
        maker_fee: Annotated[str, typer.Option(help="Maker fee rate.")] = "0",
        allow_gaps: Annotated[bool, typer.Option(help="Accept missing candles.")] = False,
        resolution: Annotated[str, typer.Option(
            help="tick (every quote of the candle path reaches the strategy; the reference) or candle "
                 "(one strategy event per candle at its close; the high/low path only reaches the "
                 "engine's stops and orders).")] = "tick",
        report: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report here.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
        env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
    ) -> None:
        """Run the bot over recorded or imported data in virtual time and print metrics and the fingerprint.

        Example: flashscalper backtest btc_1m.csv --param min_confidence=0.3 --report report.html
        """
        from flashscalper.replay.backtest import BacktestConfig, BacktestRunner
        from flashscalper.replay.data import load_dataset
        from flashscalper.replay.report import write_report

        if latency_ms < 0:
            raise fail(f"--latency-ms must not be negative, got {latency_ms}")
        if resolution not in ("tick", "candle"):
            raise fail(f"--resolution must be tick or candle, got {resolution!r}")
        start = _decimal(collateral, "--collateral", fail)
        try:
            name, params = _strategy_choice(strategy, _params(param, fail), env_file)
        except FlashScalperError as exc:
            raise fail(str(exc)) from None
        config = BacktestConfig(
            strategy=name, strategy_params=params, collateral=start or Decimal(10_000),
            latency_ms=latency_ms, resolution=resolution, funding_rate=_decimal(funding_rate, "--funding-rate", fail),
            taker_fee=_decimal(taker_fee, "--taker-fee", fail) or Decimal(0),
            maker_fee=_decimal(maker_fee, "--maker-fee", fail) or Decimal(0),
        )
        try:
            dataset = load_dataset(data, market=market, kind=kind, allow_gaps=allow_gaps)
            result = BacktestRunner(dataset, config).run()
        except FlashScalperError as exc:
            raise fail(str(exc)) from None
        if json_output:
            print(json.dumps(result.as_dict()), flush=True)
        else:
            for line in result.metrics.lines():
                console.print(line, highlight=False)
            rate = result.events / result.wall_s if result.wall_s else 0
            console.print(f"{result.events:,} events in {result.wall_s:.2f}s ({rate:,.0f}/s)")
            console.print(f"fingerprint {result.fingerprint}")
        if report is not None:
            console.print(f"report written to {write_report(result, report)}")

    @app.command()
    def replay(
        session: Annotated[str, typer.Option("--session", help="Journal session id to play back.")],
        speed: Annotated[float, typer.Option(help="1 = as it happened, 60 = a minute per second, 0 = at once.")] = 0,
        no_dashboard: Annotated[bool, typer.Option(
            "--no-dashboard", help="Print the replayed trades only; no dashboard.")] = False,
        dashboard_port: Annotated[int | None, typer.Option(
            help="Dashboard port (default FLASHSCALPER_DASHBOARD_PORT, 8732; 0: any free port).")] = None,
        hold: Annotated[bool, typer.Option(
            "--hold", help="Keep the dashboard serving after the last event (until Ctrl-C).")] = False,
        db_url: Annotated[str | None, typer.Option(help="Journal database URL (default: from the settings).")] = None,
        env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
    ) -> None:
        """Play a journaled session back through the dashboard and overlays, marked REPLAY everywhere.

        Prints the dashboard and overlay URLs, each replayed trade, and exits after the last event
        (--hold keeps serving).

        Example: flashscalper replay --session s1x2y3 --speed 60
        """
        import asyncio

        from flashscalper.config import load_settings
        from flashscalper.memory.views import open_journal
        from flashscalper.replay.live_view import replay_on_dashboard

        if speed < 0:
            raise fail(f"--speed must be 0 or positive, got {speed}")
        if dashboard_port is not None and not 0 <= dashboard_port <= 65535:
            raise fail(f"--dashboard-port must be between 0 and 65535, got {dashboard_port}")
        try:
            settings = load_settings(env_file=env_file)
            db = open_journal(env_file, db_url)
            try:
                result = asyncio.run(replay_on_dashboard(db, session, settings, console, speed=speed,
                                                         dashboard=not no_dashboard, port=dashboard_port,
                                                         hold=hold))
            finally:
                db.close()
        except FlashScalperError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            raise fail("interrupted", code=130) from None
        console.print(f"REPLAY of {session}: {result.events} events, net {result.net_pnl:.4f}", highlight=False)

    @app.command()
    def optimize(
        data: Annotated[Path, typer.Argument(help="A recording directory, or a candle / trade file.")],
        market: Annotated[str, typer.Option(help="Market symbol of an imported file.")] = "BTC-USD-PERP",
        trials: Annotated[int, typer.Option(help="Trials per walk-forward fold.")] = 20,
        folds: Annotated[int, typer.Option(help="Walk-forward folds (train on one window, test on the next).")] = 1,
        objective: Annotated[str, typer.Option(
            help="net_pnl, sharpe_per_trade, profit_factor or expectancy.")] = "net_pnl",
        storage: Annotated[str, typer.Option(
            help="Optuna RDB URL (sqlite:///… or postgresql://…).")] = "sqlite:///optuna.sqlite",
        study: Annotated[str, typer.Option(help="Study name prefix (resumed when it exists).")] = "flashscalper",
        seed: Annotated[int, typer.Option(help="Sampler seed.")] = 7,
    ) -> None:
        """Search strategy and exit parameters with Optuna; the reported score is out-of-sample.

        Example: flashscalper optimize btc_1m.csv --trials 50 --folds 3 --storage sqlite:///optuna.sqlite
        """
        from flashscalper.replay.data import load_dataset
        from flashscalper.replay.optimize import OBJECTIVES, OptimizeConfig
        from flashscalper.replay.optimize import optimize as run_optimize

        if trials < 1 or folds < 1:
            raise fail("--trials and --folds must be at least 1")
        if objective not in OBJECTIVES:
            raise fail(f"--objective must be one of {', '.join(OBJECTIVES)}, got {objective!r}")
        try:
            dataset = load_dataset(data, market=market)
            result = run_optimize(dataset, OptimizeConfig(trials=trials, folds=folds, objective=objective,
                                                          storage=storage, study=study, seed=seed))
        except (FlashScalperError, ValueError) as exc:
            raise fail(str(exc)) from None
        for fold in result.folds:
            console.print(f"fold {fold.fold}: in-sample {fold.in_sample_score:.4f}, out-of-sample "
                          f"{fold.oos_score:.4f} ({fold.oos_trades} trades) with {fold.best_params}", highlight=False)
        console.print(f"out-of-sample {objective}: {result.oos_score:.4f} (in-sample {result.in_sample_score:.4f})")
