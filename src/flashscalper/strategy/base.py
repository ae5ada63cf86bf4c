"""The strategy API: market-data callbacks in, optional ``Signal`` out, and a registry by name.

A strategy only reads market data and proposes trades; sizing, risk checks and orders belong to
``trading/``. The same strategy object runs live, in paper, in replay and in backtests, so it must
take its notion of time from event timestamps and never from the wall clock.

Config picks a strategy by name, or names a plugin class as ``package.module:ClassName``::

    strategy = create_strategy("scalper", {"cooldown_ms": 5000})
    strategy = create_strategy("my_strategies.breakout:Breakout", {"window": 300})
    strategy = strategy_from_settings(settings.general)  # FLASHSCALPER_STRATEGY + _STRATEGY_PARAMS
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from flashscalper.domain import BookUpdate, MarkPrice, Quote, Side, Trade
from flashscalper.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Signal:
    """A proposal to trade, with the why attached.

    ``confidence`` is in [0, 1]; ``reasons`` are human-readable sentences for the dashboard and the
    journal; ``features`` is a snapshot of the indicator readings that produced the signal (for
    learning from outcomes); ``setup`` names the pattern (e.g. ``"momentum_breakout"``) so results
    can be grouped by it. ``price`` is the mid at signal time, for reference only.
    """

    market: str
    side: Side
    confidence: float
    reasons: tuple[str, ...]
    features: dict[str, float]
    ts: int
    setup: str
    strategy: str = ""
    price: Decimal | None = None

    def __post_init__(self) -> None:
        if not (0.0 <= self.confidence <= 1.0) or math.isnan(self.confidence):
            raise ValueError(f"Signal confidence must be within [0, 1], got {self.confidence!r}")
        if not isinstance(self.side, Side):
            raise ValueError(f"Signal side must be a domain Side, got {self.side!r}")


class Strategy:
    """Base class: override the callbacks you need; each may return a ``Signal`` or ``None``.

    Subclasses set ``name`` and are registered with ``@register_strategy``. ``from_params`` builds an
    instance from a plain mapping (what config provides).
    """

    name: ClassVar[str] = "base"

    def on_quote(self, quote: Quote) -> Signal | None:
        """Top of book changed."""
        return None

    def on_trade(self, trade: Trade) -> Signal | None:
        """A public trade printed."""
        return None

    def on_book(self, book: BookUpdate) -> Signal | None:
        """Order book levels changed."""
        return None

    def on_mark(self, mark: MarkPrice) -> Signal | None:
        """Mark price (and maybe funding) changed."""
        return None

    def on_event(self, event: object) -> Signal | None:
        """Route any market-data event to its callback (other events are ignored)."""
        if isinstance(event, Quote):
            return self.on_quote(event)
        if isinstance(event, Trade):
            return self.on_trade(event)
        if isinstance(event, BookUpdate):
            return self.on_book(event)
        if isinstance(event, MarkPrice):
            return self.on_mark(event)
        return None

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None = None) -> Strategy:
        """Build from config values; the default passes them as keyword arguments."""
        return cls(**dict(params or {}))


S = TypeVar("S", bound=type[Strategy])

_REGISTRY: dict[str, type[Strategy]] = {}
# Built-in strategies are imported on first lookup so that importing base.py stays cheap.
_BUILTIN_MODULES = {"scalper": "flashscalper.strategy.scalper"}


def register_strategy(name: str) -> Callable[[S], S]:
    """Class decorator: make a strategy available to ``create_strategy(name)``."""

    def decorate(cls: S) -> S:
        existing = _REGISTRY.get(name)
        if existing is not None and existing is not cls:
            raise ValueError(f"strategy name {name!r} is already registered to {existing.__qualname__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def strategy_class(name: str) -> type[Strategy]:
    """The class registered under ``name``, or the plugin class ``package.module:ClassName``.

    Raises ``ConfigError`` listing the known names, or saying why a plugin cannot be used.
    """
    if ":" in name:
        return _plugin_class(name)
    if name not in _REGISTRY and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(available_strategies()) or "none"
        raise ConfigError(f"unknown strategy {name!r}; choose one of: {known}") from None


def _plugin_class(spec: str) -> type[Strategy]:
    """Import ``package.module:ClassName`` and check that it is a Strategy subclass."""
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name or ":" in class_name:
        raise ConfigError(f"strategy plugin {spec!r} must look like package.module:ClassName")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(f"strategy plugin {spec!r}: cannot import {module_name!r} ({exc})") from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ConfigError(f"strategy plugin {spec!r}: module {module_name!r} has no {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise ConfigError(f"strategy plugin {spec!r} is not a subclass of flashscalper.strategy.base.Strategy")
    return cls


def create_strategy(name: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """Build the strategy registered under ``name`` (or the plugin ``module:Class``) from config ``params``."""
    return strategy_class(name).from_params(params)


def build_strategy(name: str, params: Mapping[str, Any] | None, *, source: str) -> Strategy:
    """``create_strategy`` with bad parameters reported as one ``ConfigError`` line naming ``source``
    (the variable or flag they came from) and the offending key and value."""
    from pydantic import ValidationError

    cls = strategy_class(name)
    try:
        return cls.from_params(params)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe_param_error(exc, name)}") from None
    except ConfigError as exc:  # a strategy that wraps its params model's error (the scalper does)
        if isinstance(exc.__cause__, ValidationError):
            raise ConfigError(f"{source}: {_describe_param_error(exc.__cause__, name)}") from None
        raise ConfigError(f"{source}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: strategy {name} refused the parameters {dict(params or {})}: {exc}") from None


def strategy_from_settings(general: Any) -> Strategy:
    """The strategy ``FLASHSCALPER_STRATEGY`` names, with ``FLASHSCALPER_STRATEGY_PARAMS``."""
    return build_strategy(general.strategy, general.strategy_params, source="FLASHSCALPER_STRATEGY_PARAMS")


def _describe_param_error(exc: Any, name: str) -> str:
    errors = exc.errors()
    first = errors[0] if errors else {}
    key = ".".join(str(part) for part in first.get("loc", ())) or "?"
    if first.get("type") == "extra_forbidden":
        text = f"unknown parameter {key!r} of strategy {name}"
    else:
        text = f"{key}={first.get('input')!r:.60}: {first.get('msg', 'is invalid')}"
    more = len(errors) - 1
    return text + (f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else "")


def available_strategies() -> tuple[str, ...]:
    """Names that ``create_strategy`` accepts (built-ins included)."""
    return tuple(sorted(set(_REGISTRY) | set(_BUILTIN_MODULES)))
