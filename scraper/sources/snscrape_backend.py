"""snscrape_backend source (being written)."""
