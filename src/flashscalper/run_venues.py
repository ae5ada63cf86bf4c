"""The venues ``flashscalper run`` trades, built from the settings.

* :func:`choose_venues` turns ``--exchange`` (paradex, aster, both; or none: ``PARADEX_ENABLED`` and
  ``ASTER_ENABLED`` decide) into the venue names.
* :func:`build_venue` makes one venue client: Paradex with its key, Aster with V3 (API wallet) or V1
  (HMAC) credentials, or either in paper mode (venue prices, local fills, no key).
* :func:`check_live_confirmation` refuses real money on a prod venue without an explicit confirmation.

``*_ENVIRONMENT=local`` means a running ``flashscalper sim``: its Paradex dialect under ``/v1`` and its
Aster dialect under ``/aster`` (give the simulator the Aster key with ``sim --aster-key KEY:SECRET``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flashscalper.clock import Clock
from flashscalper.config import AsterEnvironment, ParadexEnvironment, Settings
from flashscalper.errors import ConfigError

__all__ = ["EXCHANGE_CHOICES", "LIVE_CONFIRMATION_HINT", "VenueBuild", "build_venue", "check_live_confirmation",
           "choose_venues"]

EXCHANGE_CHOICES = ("paradex", "aster", "both")
VENUE_LABELS = {"paradex": "Paradex", "aster": "Aster"}
LIVE_CONFIRMATION_HINT = "pass --i-understand-real-money or set FLASHSCALPER_CONFIRM_LIVE_TRADING=true"
NO_ASTER_CREDENTIALS = ("no Aster credentials configured; set ASTER_USER_ADDRESS, ASTER_SIGNER_ADDRESS and "
                        "ASTER_SIGNER_PRIVATE_KEY (V3 API wallet) or ASTER_API_KEY and ASTER_API_SECRET (V1)")


@dataclass(slots=True)
class VenueBuild:
    """One venue client and what the session and the console need to know about it."""

    name: str
    exchange: Any
    trade_params: Any  # ParadexSettings or AsterSettings
    mode: str  # live (prod), testnet, local or paper
    environment: str
    rest_url: str
    account: str  # public account id (address, or a hash of a V1 key): never a secret

    @property
    def label(self) -> str:
        return VENUE_LABELS[self.name]

    def extras(self) -> dict[str, Any]:
        return {"venue": self.name, "venue_label": self.label, "environment": self.environment,
                "rest_url": self.rest_url, "account": self.account}


def choose_venues(exchange: str | None, settings: Settings) -> tuple[str, ...]:
    """``--exchange`` as venue names; without it, the enabled venues (Paradex alone by default)."""
    if exchange is None:
        chosen = tuple(name for name in ("paradex", "aster") if getattr(settings, name).enabled)
        if not chosen:
            raise ConfigError("no venue enabled; set PARADEX_ENABLED=true and/or ASTER_ENABLED=true, "
                              "or pass --exchange")
        return chosen
    if exchange not in EXCHANGE_CHOICES:
        raise ConfigError(f"--exchange must be paradex, aster or both, got {exchange!r}")
    return ("paradex", "aster") if exchange == "both" else (exchange,)


def _is_prod(name: str, settings: Settings) -> bool:
    if name == "aster":
        return settings.aster.environment is AsterEnvironment.PROD
    return settings.paradex.environment is ParadexEnvironment.PROD


def check_live_confirmation(settings: Settings, *, confirmed_by_flag: bool, paper: bool,
                            venues: tuple[str, ...] = ("paradex",)) -> None:
    """Refuse to place real-money orders on a prod venue unless the operator said so explicitly."""
    if paper or confirmed_by_flag or settings.general.confirm_live_trading:
        return
    for name in venues:
        if _is_prod(name, settings):
            raise ConfigError(f"refusing to trade real money on {VENUE_LABELS[name]} prod without confirmation: "
                              f"{LIVE_CONFIRMATION_HINT}")


def build_venue(name: str, settings: Settings, *, paper: bool, clock: Clock) -> VenueBuild:
    """The venue client for ``name`` (not connected yet)."""
    if name == "aster":
        return _aster(settings, paper=paper, clock=clock)
    if name == "paradex":
        return _paradex(settings, paper=paper, clock=clock)
    raise ConfigError(f"unknown venue {name!r}; expected paradex or aster")


def _paper(data: Any, settings: Settings, clock: Clock) -> Any:
    from flashscalper.exchanges.paper import PaperExchange

    return PaperExchange(data, clock=clock, collateral=settings.general.sim_fund_usdc)


def _paradex(settings: Settings, *, paper: bool, clock: Clock) -> VenueBuild:
    from flashscalper.exchanges.paradex.client import ParadexExchange
    from flashscalper.exchanges.paradex.rest import ParadexRestClient
    from flashscalper.ops import venue_identity

    p = settings.paradex
    env = p.environment.value
    if paper:
        # market data only: no key is needed, nothing is ever sent to the venue but subscriptions
        data = ParadexExchange(ParadexRestClient(p.rest_url, None, clock=clock), p.ws_url, clock=clock)
        return VenueBuild("paradex", _paper(data, settings, clock), p, "paper", env, p.rest_url, "paper")
    identity = venue_identity(p)
    exchange = ParadexExchange(ParadexRestClient(p.rest_url, identity, clock=clock), p.ws_url, clock=clock)
    mode = "live" if p.environment is ParadexEnvironment.PROD else env
    return VenueBuild("paradex", exchange, p, mode, env, p.rest_url, identity.address_hex)


def aster_account(settings: Any) -> str:
    """A public id of the configured Aster account: the V3 user address, or a hash of the V1 API key."""
    if settings.user_address and settings.signer_address and settings.signer_private_key:
        return settings.user_address.lower()
    if settings.api_key is not None:
        digest = hashlib.sha256(settings.api_key.get_secret_value().encode()).hexdigest()
        return f"v1-key-{digest[:16]}"
    return ""


def _aster(settings: Settings, *, paper: bool, clock: Clock) -> VenueBuild:
    from flashscalper.exchanges.aster.client import AsterExchange, credentials_from_settings

    a = settings.aster
    env = a.environment.value
    if paper:
        data = AsterExchange(a.rest_url, a.ws_url, None, clock=clock)
        return VenueBuild("aster", _paper(data, settings, clock), a, "paper", env, a.rest_url, "paper")
    credentials = credentials_from_settings(a)
    if credentials is None:
        raise ConfigError(NO_ASTER_CREDENTIALS)
    exchange = AsterExchange(a.rest_url, a.ws_url, credentials, clock=clock)
    mode = "live" if a.environment is AsterEnvironment.PROD else env
    return VenueBuild("aster", exchange, a, mode, env, a.rest_url, aster_account(a))
