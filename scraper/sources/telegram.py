"""telegram source (being written)."""
