"""Rosters: build one from Wikidata, keep hand edits, lint it.

- :mod:`.sparql` reads SPARQL 1.1 JSON results (pure).
- :mod:`.queries` writes the queries (pure; docs/configuration.md shows them).
- :mod:`.wikidata` asks the Wikidata Query Service, batched, cached and
  polite (``fetch_*``, network only), and turns the answers into people with
  dated roles and accounts (``transform_*``, pure).
- :mod:`.merge` merges those people into a roster file, keeping whatever a
  person edited, and lists the conflicts.
- :mod:`.lint` checks a roster (``reactions roster check``).

The command line is scraper/cli_roster.py.
"""
