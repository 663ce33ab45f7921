"""permits: signed movement permits for a region under lockdown."""

__version__ = "0.1.0"
