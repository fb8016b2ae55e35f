"""Rosters: build one from Wikidata, keep hand edits, lint it.

- :mod:`.sparql` reads SPARQL 1.1 JSON results (pure).
- :mod:`.queries` writes the queries (pure; docs/configuration.md shows them).
- :mod:`.wikidata` asks the Wikidata Query Service, batched, cached
  (:mod:`.cache`) and polite: the only network I/O of the package.
- :mod:`.transform` turns the answers into people with dated roles and
  accounts (pure).
- :mod:`.merge` merges those people into a roster file's text, keeping
  whatever a person edited, and lists the conflicts (pure).
- :mod:`.build` ties them together for one roster file and writes it
  atomically (:mod:`.atomic`).
- :mod:`.lint` checks a roster (``reactions roster check``).

The command line is scraper/cli_roster.py.
"""
