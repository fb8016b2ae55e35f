"""bluesky source (being written)."""
