"""The risk engine: the one gate every order passes ("may I trade? how much?").

Pure logic, no I/O: the bot feeds it equity, margin and closed trades, and asks it about each order
intent. States follow nautilus_trader's RiskEngine:

* ``ACTIVE``   — entries and exits allowed.
* ``REDUCING`` — only reduce-only orders (margin utilisation too high, or a person paused entries).
* ``HALTED``   — nothing but reduce-only exits and cancels (daily loss limit, max drawdown, a person).
  Cancels never pass through :meth:`RiskEngine.check`: cancelling is always allowed.

Several causes can hold a state at once; the engine is in the most severe one. Every change of
state is recorded as a :class:`RiskTransition` with its reason and passed to listeners (journal,
dashboard). Timestamps are integer milliseconds, as everywhere in :mod:`flashscalper.domain`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum

from flashscalper.clock import Clock
from flashscalper.domain import ZERO, Balance, Market, Side
from flashscalper.trading.risk_limits import HUNDRED, RiskLimits
from flashscalper.trading.sizing import SizingResult, capped_leverage, fit_size, initial_margin, size_entry

__all__ = [
    "Decision",
    "OrderIntent",
    "RiskEngine",
    "RiskLimits",
    "RiskState",
    "RiskStatus",
    "RiskTransition",
]

log = logging.getLogger(__name__)

DAY_MS = 86_400_000


class RiskState(StrEnum):
    """Trading permission, from most to least permissive."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def allows_entries(self) -> bool:
        return self is RiskState.ACTIVE


_SEVERITY = {RiskState.ACTIVE: 0, RiskState.REDUCING: 1, RiskState.HALTED: 2}


@dataclass(frozen=True, slots=True)
class RiskTransition:
    """One change of risk state, as the journal and the dashboard see it."""

    from_state: RiskState
    to_state: RiskState
    reason: str
    ts: int


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """What the bot wants to do, with the account facts the engine judges it by.

    ``size`` None asks the engine to size an entry (from ``available_collateral``, or equity minus
    margin in use when not given) or, for reduce-only, to close the whole position.
    ``position_size`` is the signed position already held in ``market``.
    """

    market: Market
    side: Side
    price: Decimal  # limit price, or the mark for market orders
    size: Decimal | None = None
    reduce_only: bool = False
    position_size: Decimal = ZERO
    open_positions: int = 0
    margin_in_use: Decimal = ZERO
    equity: Decimal = ZERO
    available_collateral: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer. ``size`` is what may be sent (zero when refused)."""

    allowed: bool
    reason: str
    size: Decimal = ZERO

    def __bool__(self) -> bool:
        return self.allowed


@dataclass(frozen=True, slots=True)
class RiskStatus:
    """A snapshot for the dashboard and overlays."""

    state: RiskState
    reasons: tuple[str, ...]
    equity: Decimal | None
    start_of_day_equity: Decimal | None
    peak_equity: Decimal | None
    margin_utilisation_percent: Decimal | None
    losing_streak: int
    cooldown_until_ms: int | None
    safe_mode: bool


@dataclass(slots=True)
class _Cause:
    state: RiskState
    reason: str


Listener = Callable[[RiskTransition], None]


@dataclass(slots=True)
class _Account:
    equity: Decimal | None = None
    day: int | None = None  # UTC day number of the daily baseline
    start_of_day: Decimal | None = None
    peak: Decimal | None = None
    margin_utilisation: Decimal | None = None
    losing_streak: int = 0
    cooldown_until_ms: int | None = None
    causes: dict[str, _Cause] = field(default_factory=dict)


class RiskEngine:
    """The one risk gate. Feed it ``on_equity`` / ``on_trade_closed``; ask it ``check(intent)``."""

    def __init__(self, limits: RiskLimits, clock: Clock, *, listener: Listener | None = None) -> None:
        self._limits = limits
        self._clock = clock
        self._state = RiskState.ACTIVE
        self._acct = _Account()
        self.transitions: list[RiskTransition] = []
        self._listeners: list[Listener] = [listener] if listener else []

    # ---- configuration & observation --------------------------------------------------------------

    @property
    def limits(self) -> RiskLimits:
        """The limits in force, safe-mode caps applied."""
        return self._limits.effective()

    @property
    def configured_limits(self) -> RiskLimits:
        return self._limits

    def set_limits(self, limits: RiskLimits) -> None:
        """Swap limits at runtime (e.g. toggle safe mode); state is re-judged at the next equity update."""
        self._limits = limits

    @property
    def state(self) -> RiskState:
        return self._state

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` with every future transition (exceptions are logged, never raised)."""
        self._listeners.append(listener)

    def reasons(self) -> tuple[str, ...]:
        """Why the engine is not ACTIVE (empty when it is), most severe first."""
        causes = sorted(self._acct.causes.values(), key=lambda c: -c.state.severity)
        return tuple(c.reason for c in causes)

    def in_cooldown(self, now_ms: int | None = None) -> bool:
        until = self._acct.cooldown_until_ms
        now = self._clock.time_ms() if now_ms is None else now_ms
        return until is not None and now < until

    def status(self) -> RiskStatus:
        a = self._acct
        return RiskStatus(
            state=self._state,
            reasons=self.reasons(),
            equity=a.equity,
            start_of_day_equity=a.start_of_day,
            peak_equity=a.peak,
            margin_utilisation_percent=a.margin_utilisation,
            losing_streak=a.losing_streak,
            cooldown_until_ms=a.cooldown_until_ms if self.in_cooldown() else None,
            safe_mode=self._limits.safe_mode,
        )

    # ---- a person at the controls -----------------------------------------------------------------

    def pause_entries(self, reason: str = "entries paused by operator", ts: int | None = None) -> RiskState:
        """Stop new entries; exits still run (REDUCING)."""
        return self._manual(RiskState.REDUCING, reason, ts)

    def halt(self, reason: str = "halted by operator", ts: int | None = None) -> RiskState:
        """Stop everything but reduce-only exits and cancels (HALTED)."""
        return self._manual(RiskState.HALTED, reason, ts)

    def resume(self, reason: str = "resumed by operator", ts: int | None = None) -> RiskState:
        """Lift a manual pause/halt and acknowledge a drawdown halt if equity is back above the floor.

        Returns the resulting state: still not ACTIVE while a hard limit holds (daily loss limit for the
        rest of the UTC day, drawdown still beyond the limit, margin utilisation above the limit).
        """
        ts = self._now(ts)
        self._acct.causes.pop("manual", None)
        drawdown = self._acct.causes.get("drawdown")
        if drawdown is not None and not self._drawdown_breached():
            del self._acct.causes["drawdown"]
        self._reevaluate(reason, ts)
        return self._state

    def set_state(self, state: RiskState, reason: str, ts: int | None = None) -> RiskState:
        """Operator entry point: ACTIVE resumes, REDUCING pauses entries, HALTED halts."""
        if state is RiskState.ACTIVE:
            return self.resume(reason, ts)
        return self._manual(state, reason, ts)

    def _manual(self, state: RiskState, reason: str, ts: int | None) -> RiskState:
        self._acct.causes["manual"] = _Cause(state, f"manual: {reason}")
        self._reevaluate(f"manual: {reason}", self._now(ts))
        return self._state

    # ---- account feed -----------------------------------------------------------------------------

    def on_balance(self, balance: Balance) -> RiskState:
        """Convenience: feed a venue balance (equity and initial margin in use)."""
        ts = balance.updated_at or None
        return self.on_equity(balance.equity, ts, margin_in_use=balance.initial_margin)

    def on_equity(
        self, equity: Decimal, ts: int | None = None, *, margin_in_use: Decimal | None = None
    ) -> RiskState:
        """Update the day baseline, session peak and margin utilisation, then re-judge the state.

        A new UTC day resets the start-of-day equity and lifts a daily-loss halt. The daily loss halt
        is latched for the rest of its day; the drawdown halt is latched until a person resumes.
        """
        if not isinstance(equity, Decimal):
            raise TypeError(f"equity must be a Decimal, got {type(equity).__name__}")
        ts = self._now(ts)
        a, lim = self._acct, self.limits
        notes: list[str] = []
        day = ts // DAY_MS
        if a.day is None or day > a.day:
            if a.day is not None:
                notes.append(f"new UTC day {_day(ts)}: start-of-day equity reset to {equity:f}")
                if a.causes.pop("daily_loss", None):
                    notes.append("daily loss limit lifted")
            a.day, a.start_of_day = day, equity
        a.equity = equity
        a.peak = equity if a.peak is None else max(a.peak, equity)

        if equity <= 0:
            a.causes["equity"] = _Cause(RiskState.HALTED, f"account equity is {equity:f} (zero or negative)")
        elif a.causes.pop("equity", None):
            notes.append(f"account equity positive again ({equity:f})")

        assert a.start_of_day is not None
        if "daily_loss" not in a.causes and a.start_of_day > 0:
            loss_pct = (a.start_of_day - equity) / a.start_of_day * HUNDRED
            if loss_pct >= lim.daily_loss_limit_percent:
                a.causes["daily_loss"] = _Cause(
                    RiskState.HALTED,
                    f"daily loss limit hit: equity {equity:f} is {_pct(loss_pct)}% below start-of-day "
                    f"{a.start_of_day:f} (limit {lim.daily_loss_limit_percent:f}%)",
                )
        if "drawdown" not in a.causes and self._drawdown_breached():
            assert a.peak is not None
            dd_pct = (a.peak - equity) / a.peak * HUNDRED
            a.causes["drawdown"] = _Cause(
                RiskState.HALTED,
                f"max drawdown hit: equity {equity:f} is {_pct(dd_pct)}% below the session peak "
                f"{a.peak:f} (limit {lim.max_drawdown_percent:f}%)",
            )

        if margin_in_use is not None:
            self._judge_margin(margin_in_use, equity, notes)

        return self._reevaluate("; ".join(notes), ts)

    def on_trade_closed(self, pnl: Decimal, ts: int | None = None) -> None:
        """Count losing streaks; after ``losing_streak_limit`` losses in a row, cool down entries.

        A win (pnl > 0) ends the streak; a scratch (pnl == 0) neither ends nor extends it.
        """
        if not isinstance(pnl, Decimal):
            raise TypeError(f"pnl must be a Decimal, got {type(pnl).__name__}")
        ts = self._now(ts)
        a, lim = self._acct, self.limits
        if pnl > 0:
            a.losing_streak = 0
        elif pnl < 0:
            a.losing_streak += 1
            if lim.losing_streak_limit and a.losing_streak >= lim.losing_streak_limit:
                a.cooldown_until_ms = ts + lim.cooldown_seconds * 1000
                a.losing_streak = 0  # the cooldown is the penalty; the next streak counts afresh

    def _judge_margin(self, margin_in_use: Decimal, equity: Decimal, notes: list[str]) -> None:
        a, lim = self._acct, self.limits
        utilisation = _utilisation(margin_in_use, equity)
        a.margin_utilisation = utilisation
        shown = "∞" if utilisation is None else _pct(utilisation)
        if utilisation is None or utilisation > lim.max_margin_utilisation_percent:
            a.causes["margin"] = _Cause(
                RiskState.REDUCING,
                f"margin utilisation {shown}% above the {lim.max_margin_utilisation_percent:f}% limit: "
                "reduce-only until it falls back",
            )
        elif "margin" in a.causes and utilisation <= lim.margin_resume_level:
            del a.causes["margin"]
            notes.append(f"margin utilisation {shown}% back under {lim.margin_resume_level:f}%")

    def _drawdown_breached(self) -> bool:
        a = self._acct
        if a.peak is None or a.equity is None or a.peak <= 0:
            return False
        return (a.peak - a.equity) / a.peak * HUNDRED >= self.limits.max_drawdown_percent

    def _reevaluate(self, reason: str, ts: int) -> RiskState:
        """Move to the most severe state any cause holds; record and announce a change."""
        causes = self._acct.causes.values()
        target = max((c.state for c in causes), key=lambda s: s.severity, default=RiskState.ACTIVE)
        if target is self._state:
            return target
        held_by = self.reasons()
        if target.severity > self._state.severity:
            # escalation: name every cause that holds the new, more severe state
            text = "; ".join(c.reason for c in causes if c.state is target)
        else:
            text = reason or "conditions cleared"
            if target is not RiskState.ACTIVE:
                text += f"; still {target} because {held_by[0]}"
        transition = RiskTransition(self._state, target, text, ts)
        self._state = target
        self.transitions.append(transition)
        for listener in self._listeners:
            try:
                listener(transition)
            except Exception:  # a broken journal must not break the risk gate
                log.exception("risk transition listener failed")
        return target

    # ---- sizing and the gate ----------------------------------------------------------------------

    def size_entry(
        self,
        market: Market,
        price: Decimal,
        available_collateral: Decimal,
        open_positions_count: int,
        *,
        current_position: Decimal = ZERO,
        side: Side | None = None,
    ) -> SizingResult:
        """Size a new entry under the effective limits (safe mode applied).

        Rejects when opening a new position would exceed ``max_positions``; otherwise see
        :func:`flashscalper.trading.sizing.size_entry`.
        """
        lim = self.limits
        if current_position == 0 and open_positions_count >= lim.max_positions:
            leverage, _ = capped_leverage(market, lim.leverage)
            why = f"max positions reached ({open_positions_count} open, limit {lim.max_positions})"
            return SizingResult(ZERO, price, leverage, (why,), True)
        return size_entry(
            market,
            price,
            available_collateral,
            position_size_percent=lim.position_size_percent,
            leverage=lim.leverage,
            current_position=current_position,
            side=side,
        )

    def check(self, intent: OrderIntent) -> Decision:
        """Judge one order intent. Reduce-only intents pass in every state unless they would grow the
        position; entries need ACTIVE, no cooldown, a free position slot and margin headroom."""
        if intent.price <= 0:
            return Decision(False, f"refused: price must be positive, got {intent.price}")
        if intent.size is not None and intent.size <= 0:
            return Decision(False, f"refused: size must be positive, got {intent.size}")
        if intent.reduce_only:
            return self._check_reduce(intent)
        return self._check_entry(intent)

    def _check_reduce(self, intent: OrderIntent) -> Decision:
        pos, market = intent.position_size, intent.market
        if pos == 0:
            return Decision(False, f"refused: reduce-only {intent.side} but no {market.symbol} position to reduce")
        if intent.side.sign * pos > 0:
            held = "long" if pos > 0 else "short"
            return Decision(
                False, f"refused: reduce-only {intent.side} would grow the {held} {market.symbol} position"
            )
        held_size = abs(pos)
        if intent.size is None or intent.size >= held_size:
            note = "" if intent.size is None or intent.size == held_size else (
                f" (clamped from {intent.size:f} to the position size)"
            )
            return Decision(True, f"reduce-only: closing the whole {held_size:f} {market.base}{note}", held_size)
        size = market.round_size(intent.size)
        if size <= 0:
            return Decision(False, f"refused: reduce-only size {intent.size:f} is below one step")
        return Decision(True, f"reduce-only: reducing {market.symbol} by {size:f} of {held_size:f}", size)

    def _check_entry(self, intent: OrderIntent) -> Decision:
        lim, market, now = self.limits, intent.market, self._clock.time_ms()
        if not self._state.allows_entries:
            return Decision(
                False, f"entry refused: risk state is {self._state} ({self.reasons()[0]}); only reduce-only "
                "orders are allowed",
            )
        if self.in_cooldown(now):
            until = self._acct.cooldown_until_ms
            assert until is not None
            return Decision(
                False, f"entry refused: cooling down after {lim.losing_streak_limit} losing trades in a row "
                f"until {_clock_time(until)} UTC ({-(-(until - now) // 1000)}s left)",
            )
        opens_new = intent.position_size == 0
        if opens_new and intent.open_positions >= lim.max_positions:
            return Decision(
                False, f"entry refused: max positions reached ({intent.open_positions} open, "
                f"limit {lim.max_positions})",
            )
        if intent.equity <= 0:
            return Decision(False, f"entry refused: account equity is {intent.equity:f}")

        leverage, _ = capped_leverage(market, lim.leverage)
        if intent.size is None:
            collateral = intent.available_collateral
            if collateral is None:
                collateral = max(intent.equity - intent.margin_in_use, ZERO)
            sized = self.size_entry(
                market, intent.price, collateral, intent.open_positions,
                current_position=intent.position_size, side=intent.side,
            )
        else:
            sized = fit_size(
                market, intent.size, intent.price,
                current_position=intent.position_size, side=intent.side, leverage=leverage,
            )
        if not sized.accepted:
            return Decision(False, f"entry refused: {sized.reason}")

        needed = initial_margin(market, sized.notional, leverage)
        after = _utilisation(intent.margin_in_use + needed, intent.equity)
        assert after is not None  # equity > 0 checked above
        if after > lim.max_margin_utilisation_percent:
            return Decision(
                False, f"entry refused: margin utilisation would be {_pct(after)}% after this order "
                f"(limit {lim.max_margin_utilisation_percent:f}%)",
            )
        return Decision(
            True, f"entry allowed: {intent.side} {sized.size:f} {market.symbol} at {leverage:f}x, margin "
            f"utilisation {_pct(after)}% after; {sized.reason}",
            sized.size,
        )

    def _now(self, ts: int | None) -> int:
        return self._clock.time_ms() if ts is None else ts


def _utilisation(margin: Decimal, equity: Decimal) -> Decimal | None:
    """Margin in use as % of equity; None means unbounded (margin held against no equity)."""
    if equity <= 0:
        return None if margin > 0 else ZERO
    return margin / equity * HUNDRED


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def _day(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d")


def _clock_time(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%H:%M:%S")
