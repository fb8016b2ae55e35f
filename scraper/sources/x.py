"""x source (being written)."""
