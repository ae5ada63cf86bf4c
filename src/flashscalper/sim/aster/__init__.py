"""The simulator's Aster (Binance-futures-shaped) wire dialect, mounted under ``/aster``."""
