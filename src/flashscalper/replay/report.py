"""A self-contained HTML backtest report: one file, inline SVG charts, no scripts, no CDN.

Sections: the headline figures, the equity curve, the drawdown, price with trade markers (green
triangles for long entries, red for short, a dot at each exit), per-setup and per-exit-reason tables,
the data the run used and its fingerprint.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from flashscalper.replay.backtest import BacktestResult
from flashscalper.trading.exits import ClosedTrade

__all__ = ["render_report", "write_report"]

W, H, PAD = 900, 220, 40


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")


def _scale(points: Sequence[tuple[int, float]]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 1, y1 + 1
    return x0, x1, y0, y1


def _xy(x: float, y: float, box: tuple[float, float, float, float]) -> tuple[float, float]:
    x0, x1, y0, y1 = box
    return (PAD + (x - x0) / (x1 - x0) * (W - 2 * PAD), H - PAD - (y - y0) / (y1 - y0) * (H - 2 * PAD))


def _thin(points: list[tuple[int, float]], limit: int = 1500) -> list[tuple[int, float]]:
    stride = max(len(points) // limit, 1)
    thinned = points[::stride]
    if points and thinned[-1] != points[-1]:
        thinned.append(points[-1])
    return thinned


def line_chart(points: list[tuple[int, float]], *, title: str, color: str, fill: bool = False,
               markers: str = "", box: tuple[float, float, float, float] | None = None) -> str:
    """An SVG line chart with min/max labels and start/end times; ``markers`` is extra SVG drawn on top."""
    if not points:
        return f"<p><em>{html.escape(title)}: no data</em></p>"
    pts = _thin(points)
    box = box or _scale(pts)
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (_xy(px, py, box) for px, py in pts))
    area = ""
    if fill:
        first_x = _xy(pts[0][0], box[2], box)[0]
        last_x = _xy(pts[-1][0], box[2], box)[0]
        area = (f'<polygon points="{first_x:.1f},{_xy(0, box[3], box)[1]:.1f} {path} {last_x:.1f},'
                f'{_xy(0, box[3], box)[1]:.1f}" fill="{color}" opacity="0.15"/>')
    return (
        f'<figure><figcaption>{html.escape(title)}</figcaption>'
        f'<svg viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{html.escape(title)}">'
        f'<rect x="{PAD}" y="{PAD}" width="{W - 2 * PAD}" height="{H - 2 * PAD}" fill="none" stroke="#ddd"/>'
        f'{area}<polyline points="{path}" fill="none" stroke="{color}" stroke-width="1.5"/>{markers}'
        f'<text x="4" y="{PAD + 4}" class="ax">{box[3]:,.2f}</text>'
        f'<text x="4" y="{H - PAD}" class="ax">{box[2]:,.2f}</text>'
        f'<text x="{PAD}" y="{H - 8}" class="ax">{_time(int(box[0]))}</text>'
        f'<text x="{W - PAD}" y="{H - 8}" class="ax" text-anchor="end">{_time(int(box[1]))}</text>'
        "</svg></figure>"
    )


def _trade_markers(trades: list[ClosedTrade], market: str, box: tuple[float, float, float, float]) -> str:
    out = []
    for t in trades:
        if t.market != market:
            continue
        x, y = _xy(t.opened_at, float(t.entry_price), box)
        up = t.side.value == "BUY"
        tri = (f"{x:.1f},{y - 6:.1f} {x - 5:.1f},{y + 4:.1f} {x + 5:.1f},{y + 4:.1f}" if up
               else f"{x:.1f},{y + 6:.1f} {x - 5:.1f},{y - 4:.1f} {x + 5:.1f},{y - 4:.1f}")
        color = "#1a7f37" if up else "#cf222e"
        ex, ey = _xy(t.closed_at, float(t.exit_price), box)
        tip = html.escape(f"{t.side.value} {t.size} @ {t.entry_price} -> {t.exit_price} ({t.reason.value}, "
                          f"net {t.net_pnl:.2f})")
        out.append(f'<g><title>{tip}</title><polygon points="{tri}" fill="{color}"/>'
                   f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" stroke="{color}" '
                   f'stroke-dasharray="2,2"/><circle cx="{ex:.1f}" cy="{ey:.1f}" r="3" fill="#555"/></g>')
    return "".join(out)


def _group_table(trades: list[ClosedTrade], key_name: str, key: object) -> str:
    groups: dict[str, list[ClosedTrade]] = defaultdict(list)
    for t in trades:
        groups[key(t)].append(t)  # type: ignore[operator]
    rows = []
    for name, items in sorted(groups.items()):
        net = sum((t.net_pnl for t in items), Decimal(0))
        wins = sum(1 for t in items if t.is_win)
        rows.append(f"<tr><td>{html.escape(name)}</td><td>{len(items)}</td><td>{wins / len(items) * 100:.1f}%</td>"
                    f"<td>{net:.2f}</td><td>{net / len(items):.4f}</td></tr>")
    body = "".join(rows) or '<tr><td colspan="5">no trades</td></tr>'
    return (f"<table><thead><tr><th>{html.escape(key_name)}</th><th>trades</th><th>win rate</th><th>net P&amp;L</th>"
            f"<th>expectancy</th></tr></thead><tbody>{body}</tbody></table>")


def _setup(t: ClosedTrade) -> str:
    return str(t.signal.get("setup") or "unknown")


def _drawdown(equity: list[tuple[int, float]]) -> list[tuple[int, float]]:
    peak = None
    out = []
    for ts, value in equity:
        peak = value if peak is None else max(peak, value)
        out.append((ts, -(peak - value) / peak * 100 if peak else 0.0))
    return out


def render_report(result: BacktestResult, *, title: str = "FlashScalper backtest") -> str:
    """The report as one HTML string."""
    m = result.metrics
    equity = [(ts, float(v)) for ts, v in result.equity]
    charts = [line_chart(equity, title="Equity", color="#0969da", fill=True),
              line_chart(_drawdown(equity), title="Drawdown (% below the running peak)", color="#cf222e", fill=True)]
    for market, series in result.prices.items():
        pts = [(ts, float(v)) for ts, v in series]
        if pts:
            box = _scale(_thin(pts) + [(t.opened_at, float(t.entry_price)) for t in result.trades
                                        if t.market == market])
            charts.append(line_chart(pts, title=f"{market} mid with trades (▲ long, ▼ short, ● exit)",
                                     color="#57606a", box=box, markers=_trade_markers(result.trades, market, box)))
    figures = "".join(f"<tr><th>{html.escape(k.replace('_', ' '))}</th><td>{html.escape(str(v))}</td></tr>"
                      for k, v in m.as_dict().items() if k != "notes")
    data_rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                        for k, v in result.data.items())
    config_rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
                          for k, v in result.config.items())
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in m.notes)
    headline = (f"{m.trades} trades · net {m.net_pnl:.2f} ({m.return_percent:+.2f}%) · win rate "
                f"{m.win_rate_percent:.1f}% · max drawdown {m.max_drawdown_percent:.2f}%")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body{{font:14px/1.45 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#1f2328}}
h1{{font-size:1.5em}} .headline{{font-size:1.15em;font-weight:600}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}} th,td{{padding:3px 10px;border-bottom:1px solid #eee;
text-align:left}} figure{{margin:1em 0}} figcaption{{font-weight:600}} .ax{{font-size:11px;fill:#57606a}}
code{{font-size:12px}}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p class="headline">{html.escape(headline)}</p>
<p>{_time(m.period_start_ms)} → {_time(m.period_end_ms)} UTC · {result.events:,} events ·
fingerprint <code>{result.fingerprint}</code></p>
{"".join(charts)}
<h2>Per setup</h2>{_group_table(result.trades, "setup", _setup)}
<h2>Per exit reason</h2>{_group_table(result.trades, "exit", lambda t: t.reason.value)}
<h2>All figures</h2><table>{figures}</table><ul>{notes}</ul>
<h2>Data</h2><table>{data_rows}</table>
<h2>Configuration</h2><table>{config_rows}</table>
<p><small>Fills: paper fill model (the data's touch mirrored into the simulator's engine). Generated by
FlashScalper.</small></p>
</body></html>
"""


def write_report(result: BacktestResult, path: str | Path, **kwargs: str) -> Path:
    """Write :func:`render_report` to ``path``."""
    target = Path(path)
    target.write_text(render_report(result, **kwargs), encoding="utf-8")
    return target
