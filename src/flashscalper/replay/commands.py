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
        strategy: Annotated[str, typer.Option(help="Strategy name.")] = "scalper",
        param: Annotated[list[str] | None, typer.Option(help="Strategy parameter name=value (repeatable).")] = None,
        collateral: Annotated[str, typer.Option(help="Starting collateral (USD).")] = "10000",
        latency_ms: Annotated[int, typer.Option(help="Order/cancel latency in ms of virtual time.")] = 0,
        funding_rate: Annotated[str | None, typer.Option(help="Funding rate per 8 h period, e.g. 0.0001.")] = None,
        taker_fee: Annotated[str, typer.Option(help="Taker fee rate, e.g. 0.0003.")] = "0",
        maker_fee: Annotated[str, typer.Option(help="Maker fee rate.")] = "0",
        allow_gaps: Annotated[bool, typer.Option(help="Accept missing candles.")] = False,
        report: Annotated[Path | None, typer.Option(help="Write a self-contained HTML report here.")] = None,
        json_output: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Run the bot over recorded or imported data in virtual time and print metrics and the fingerprint.

        Example: flashscalper backtest btc_1m.csv --param min_confidence=0.3 --report report.html
        """
        from flashscalper.replay.backtest import BacktestConfig, BacktestRunner
        from flashscalper.replay.data import load_dataset
        from flashscalper.replay.report import write_report

        if latency_ms < 0:
            raise fail(f"--latency-ms must not be negative, got {latency_ms}")
        start = _decimal(collateral, "--collateral", fail)
        config = BacktestConfig(
            strategy=strategy, strategy_params=_params(param, fail), collateral=start or Decimal(10_000),
            latency_ms=latency_ms, funding_rate=_decimal(funding_rate, "--funding-rate", fail),
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
        db_url: Annotated[str | None, typer.Option(help="Journal database URL (default: from the settings).")] = None,
        env_file: Annotated[str, typer.Option(help="Settings file to read besides the environment.")] = ".env",
    ) -> None:
        """Play a journaled session back onto the event bus (mode REPLAY) and print what it shows.

        Example: flashscalper replay --session s1x2y3 --speed 60
        """
        import asyncio

        from flashscalper.memory.views import open_journal
        from flashscalper.replay.replayer import SessionReplayer
        from flashscalper.trading.bus import TradeClosed

        if speed < 0:
            raise fail(f"--speed must be 0 or positive, got {speed}")
        try:
            db = open_journal(env_file, db_url)
            try:
                replayer = SessionReplayer(db, session, speed=speed)
                replayer.bus.add_listener(lambda e: console.print(
                    f"[REPLAY] {e.trade.market} {e.trade.side.value} net {e.trade.net_pnl:.4f} "
                    f"({e.trade.reason.value})",
                    highlight=False) if isinstance(e, TradeClosed) else None)
                count = asyncio.run(replayer.play())
            finally:
                db.close()
        except FlashScalperError as exc:
            raise fail(str(exc)) from None
        console.print(f"REPLAY of {session}: {count} events, net {replayer.net_pnl():.4f}")

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
