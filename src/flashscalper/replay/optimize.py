"""Parameter search with Optuna, walk-forward so the reported score is out-of-sample.

The data's time span is cut into ``folds + 1`` equal windows. Fold *i* searches parameters on window
*i* (``trials`` backtests, in-sample) and then runs the best parameters once on window *i + 1*,
which the search never saw. The reported score is the mean of those out-of-sample scores; in-sample
scores are shown next to them so over-fitting is visible. Studies live in any Optuna RDB storage:
``sqlite:///optuna.sqlite`` by default, a PostgreSQL URL works the same; study names are
``<study>-fold<i>`` and are resumed when they exist.

::

    result = optimize(data, OptimizeConfig(trials=30, folds=3, storage="sqlite:///optuna.sqlite"))
    print(result.oos_score, result.folds[-1].best_params)
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flashscalper.errors import FlashScalperError
from flashscalper.replay.backtest import BacktestConfig, BacktestResult, BacktestRunner
from flashscalper.replay.data import DataSet

__all__ = ["SEARCH_SPACE", "FoldResult", "OptimizeConfig", "OptimizeResult", "optimize", "walk_forward_windows"]

# name -> (where, kind, low, high); "strategy" params go to the strategy, "bot" to BotConfig (ROE %)
SEARCH_SPACE: dict[str, tuple[str, str, float, float]] = {
    "fast_ema": ("strategy", "int", 4, 16),
    "slow_ema": ("strategy", "int", 20, 60),
    "trend_threshold_atr": ("strategy", "float", 0.8, 3.0),
    "min_confidence": ("strategy", "float", 0.2, 0.7),
    "cooldown_ms": ("strategy", "int", 1_000, 30_000),
    "take_profit_roe": ("bot", "float", 0.5, 3.0),
    "stop_loss_roe": ("bot", "float", -2.0, -0.3),
}
OBJECTIVES = ("net_pnl", "sharpe_per_trade", "profit_factor", "expectancy")


@dataclass(frozen=True)
class OptimizeConfig:
    """A study: ``trials`` per fold, ``folds`` walk-forward steps, ``objective`` one of OBJECTIVES."""

    trials: int = 20
    folds: int = 1
    objective: str = "net_pnl"
    storage: str = "sqlite:///optuna.sqlite"
    study: str = "flashscalper"
    seed: int = 7
    base: BacktestConfig = field(default_factory=BacktestConfig)
    space: dict[str, tuple[str, str, float, float]] = field(default_factory=lambda: dict(SEARCH_SPACE))
    progress: bool = True


@dataclass(frozen=True)
class FoldResult:
    fold: int
    train: tuple[int, int]
    test: tuple[int, int]
    best_params: dict[str, Any]
    in_sample_score: float
    oos_score: float
    oos_trades: int
    oos_fingerprint: str


@dataclass(frozen=True)
class OptimizeResult:
    """``oos_score`` is the mean out-of-sample score over the folds (what to believe)."""

    objective: str
    folds: list[FoldResult]
    oos_score: float
    in_sample_score: float
    storage: str

    def as_dict(self) -> dict[str, Any]:
        return {"objective": self.objective, "oos_score": self.oos_score, "in_sample_score": self.in_sample_score,
                "storage": self.storage,
                "folds": [{"fold": f.fold, "train": list(f.train), "test": list(f.test),
                           "best_params": f.best_params, "in_sample_score": f.in_sample_score,
                           "oos_score": f.oos_score, "oos_trades": f.oos_trades,
                           "oos_fingerprint": f.oos_fingerprint} for f in self.folds]}


def walk_forward_windows(start_ms: int, end_ms: int, folds: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """``folds`` (train, test) pairs of adjacent equal windows covering ``[start_ms, end_ms)``."""
    if folds < 1:
        raise ValueError("folds must be at least 1")
    width = (end_ms - start_ms) // (folds + 1)
    if width <= 0:
        raise ValueError("the data is too short for that many folds")
    edges = [start_ms + i * width for i in range(folds + 2)]
    edges[-1] = end_ms
    return [((edges[i], edges[i + 1]), (edges[i + 1], edges[i + 2])) for i in range(folds)]


def score(result: BacktestResult, objective: str) -> float:
    """The objective of one backtest; a run with no trades scores 0 (or -inf for ratios: no evidence)."""
    m = result.metrics
    if objective == "net_pnl":
        return float(m.net_pnl)
    if objective == "expectancy":
        return float(m.expectancy)
    value = m.sharpe_per_trade if objective == "sharpe_per_trade" else m.profit_factor
    return float(value) if value is not None else float("-inf")


def _config(base: BacktestConfig, params: dict[str, Any], space: dict[str, tuple[str, str, float, float]]
            ) -> BacktestConfig:
    strategy = dict(base.strategy_params)
    bot: dict[str, Any] = {}
    for name, value in params.items():
        where = space[name][0]
        if where == "strategy":
            strategy[name] = value
        else:
            bot[name] = Decimal(str(round(value, 4)))
    return BacktestConfig(**{**base.__dict__, "strategy_params": strategy, "bot": base.bot.with_changes(**bot)})


def optimize(data: DataSet, config: OptimizeConfig | None = None) -> OptimizeResult:
    """Run the walk-forward study (see the module docstring)."""
    import optuna
    from rich.progress import Progress

    cfg = config or OptimizeConfig()
    if cfg.objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {cfg.objective!r}")
    optuna.logging.set_verbosity(logging.WARNING)
    windows = walk_forward_windows(data.start_ms, data.end_ms, cfg.folds)
    folds: list[FoldResult] = []
    with Progress(disable=not cfg.progress, transient=True) as progress:
        task = progress.add_task("optimising", total=cfg.folds * (cfg.trials + 1))
        for i, (train, test) in enumerate(windows):
            train_data = data.between(*train)

            def objective(trial: optuna.Trial, train_data: DataSet = train_data) -> float:
                params: dict[str, Any] = {}
                for name, (_where, kind, low, high) in cfg.space.items():
                    if kind == "int":
                        params[name] = trial.suggest_int(name, int(low), int(high))
                    else:
                        params[name] = trial.suggest_float(name, low, high)
                progress.advance(task)
                try:
                    result = BacktestRunner(train_data, _config(cfg.base, params, cfg.space)).run()
                except (ValueError, FlashScalperError) as exc:  # an inconsistent combination (fast >= slow EMA)
                    raise optuna.TrialPruned(str(exc)) from None
                value = score(result, cfg.objective)
                return value if value != float("-inf") else -1e12

            study = optuna.create_study(study_name=f"{cfg.study}-fold{i}", storage=cfg.storage, direction="maximize",
                                        sampler=optuna.samplers.TPESampler(seed=cfg.seed + i), load_if_exists=True)
            study.optimize(objective, n_trials=cfg.trials)
            best = study.best_trial
            oos = BacktestRunner(data.between(*test), _config(cfg.base, best.params, cfg.space)).run()
            progress.advance(task)
            folds.append(FoldResult(i, train, test, dict(best.params), float(best.value or 0.0),
                                    score(oos, cfg.objective), len(oos.trades), oos.fingerprint))
    return OptimizeResult(cfg.objective, folds, statistics.fmean(f.oos_score for f in folds),
                          statistics.fmean(f.in_sample_score for f in folds), cfg.storage)
