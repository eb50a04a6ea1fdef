"""joinedup: a regional data hub for councils and their partners."""

__version__ = "0.2.0.dev0"
