"""Recording, replay, backtests, metrics, reports and parameter search.

Entry points: :mod:`.data` (load recordings, candles, trades), :class:`.backtest.BacktestRunner`,
:func:`.metrics.compute_metrics`, :func:`.report.write_report`, :func:`.optimize.optimize`,
:class:`.replayer.SessionReplayer`, :func:`.recorder.record_simulator`.
"""
