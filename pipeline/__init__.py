"""pecrs: plasma exchange for CRS after CAR-T, mined from the literature."""

__version__ = "0.1.0"
