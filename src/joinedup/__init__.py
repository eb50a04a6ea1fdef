"""joinedup: a regional data hub for councils and their partners."""

__version__ = "0.1.0"
