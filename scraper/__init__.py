"""Reaction Archive: capture what political leaders post about an election,
keep it in one SQLite file, publish it with Datasette."""

__version__ = "0.2.0"
