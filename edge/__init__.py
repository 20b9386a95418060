"""edge: FactoryTX-compatible collector and Machbase-compatible historian in one program."""

__version__ = "0.1.0"
