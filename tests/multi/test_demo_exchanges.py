"""The demo builds a bot for either venue dialect; config picks the venues of a multi-venue run."""

from __future__ import annotations

import pytest

from flashscalper.config import load_settings
from flashscalper.demo import DemoOptions, start_demo_session
from flashscalper.errors import ConfigError
from flashscalper.multi import enabled_venues


@pytest.mark.parametrize("auth", ["v1", "v3"])
async def test_aster_demo_session_connects_and_sees_its_markets(auth: str) -> None:
    settings = load_settings(env_file=None)
    sim, session = await start_demo_session(settings, DemoOptions(exchange="aster", aster_auth=auth, journal=False))
    try:
        await session.bot.start()
        assert session.exchange.name == "aster"
        assert set(session.config.markets) <= set(await session.exchange.markets())
        assert (await session.exchange.balance()).equity == settings.general.sim_fund_usdc
    finally:
        await session.bot.close()
        await sim.stop()


async def test_unknown_demo_exchange_is_refused() -> None:
    with pytest.raises(ValueError, match="paradex' or 'aster"):
        await start_demo_session(load_settings(env_file=None), DemoOptions(exchange="binance", journal=False))


def test_venues_follow_the_enabled_flags() -> None:
    both = load_settings(env_file=None, paradex={"enabled": True}, aster={"enabled": True})
    assert enabled_venues(both) == ["paradex", "aster"]
    only_aster = load_settings(env_file=None, paradex={"enabled": False}, aster={"enabled": True})
    assert enabled_venues(only_aster) == ["aster"]
    with pytest.raises(ConfigError, match="PARADEX_ENABLED"):
        enabled_venues(load_settings(env_file=None, paradex={"enabled": False}, aster={"enabled": False}))
