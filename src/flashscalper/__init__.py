"""FlashScalper: a scalping bot for crypto perpetual DEXes, built for live streaming."""

__version__ = "0.1.0"
